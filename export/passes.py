"""Graph passes on the converted ONNX model: rewrites that keep the arithmetic and drop work.

`broadcast_seeds`: the tape is seeded with d loss / d activation, which for a mean objective is a
constant per channel; TensorFlow insists on full-size seeds (`ones_like(act) * w`), which
tf2onnx turns into ConstantOfShape + Mul, a tensor the size of the activation written and read
twice per layer. Where such a seed only joins a sum of gradients (Sum / Add), the sum can take
`w` itself and broadcast it: same values, two full-size passes fewer per seeded layer. This is
what keeps a mix model (a seed at every layer) as cheap as a fixed-layer one.
"""
from __future__ import annotations

import numpy as np

SUMS = ("Sum", "Add")


def _ones(node) -> bool:
    from onnx import numpy_helper

    if node is None or node.op_type != "ConstantOfShape":
        return False
    value = next((a.t for a in node.attribute if a.name == "value"), None)
    return value is not None and np.all(numpy_helper.to_array(value) == 1)


def broadcast_seeds(model) -> int:
    """Rewrite in place; returns how many seeds now broadcast."""
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    rewritten = 0
    for node in graph.node:
        if node.op_type not in SUMS:
            continue
        inputs = list(node.input)
        for i, name in enumerate(inputs):
            mul = producer.get(name)
            if mul is None or mul.op_type != "Mul":
                continue
            a, b = (producer.get(x) for x in mul.input)
            scale = mul.input[1] if _ones(a) else mul.input[0] if _ones(b) else None
            full_left = [x for j, x in enumerate(inputs) if j != i and x == node.input[j]]
            if scale is not None and full_left:  # another full-size term keeps the sum's shape
                inputs[i] = scale
                rewritten += 1
        del node.input[:]
        node.input.extend(inputs)
    prune(graph)
    return rewritten


def prune(graph) -> None:
    """Drop nodes whose outputs nothing reads (repeated: removing one can orphan its producers)."""
    outputs = {o.name for o in graph.output}
    while True:
        used = outputs | {x for node in graph.node for x in node.input}
        dead = [node for node in graph.node if not any(o in used for o in node.output)]
        if not dead:
            return
        for node in dead:
            graph.node.remove(node)
