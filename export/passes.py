"""Graph passes on the converted ONNX model: rewrites that keep the arithmetic and drop work.

`broadcast_seeds`: the tape is seeded with d loss / d activation, which for a mean objective is a
constant per channel; TensorFlow insists on full-size seeds (`ones_like(act) * w`), which
tf2onnx turns into ConstantOfShape + Mul, a tensor the size of the activation written and read
twice per layer. Where such a seed only joins a sum of gradients (Sum / Add), the sum can take
`w` itself and broadcast it: same values, two full-size passes fewer per seeded layer. This is
what keeps a mix model (a seed at every layer) as cheap as a fixed-layer one.

`fuse_pointwise_backprops`: an Inception block feeds its input to three 1x1 convolutions, so the
input's gradient is a Sum of three 1x1 backward convolutions. One 1x1 convolution over the
concatenated gradients, with the kernels concatenated, computes the same sum in one GEMM and
without the Sum's extra full-size passes (docs/export.md says what it saves).
"""

from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper

SUMS = ("Sum", "Add")


def _ones(node) -> bool:
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


def fuse_pointwise_backprops(model) -> int:
    """Sum(Conv1x1(dy_1, W_1), Conv1x1(dy_2, W_2), ...) -> Conv1x1(Concat(dy_i), Concat(W_i)); returns
    how many sums were rewritten."""
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    readers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    weights = {init.name: init for init in graph.initializer}
    fused = 0
    for node in list(graph.node):
        if node.op_type != "Sum":
            continue
        convs = [producer.get(x) for x in node.input]
        convs = [c for c in convs if c is not None and _pointwise(c, weights) and readers.get(c.output[0]) == 1]
        if len(convs) < 2:
            continue
        kernel = np.concatenate([numpy_helper.to_array(weights[c.input[1]]) for c in convs], axis=1)
        name = f"{node.name}__fused_pointwise"
        graph.initializer.append(numpy_helper.from_array(kernel, f"{name}_w"))
        concat = helper.make_node("Concat", [c.input[0] for c in convs], [f"{name}_dy"], axis=1, name=f"{name}_concat")
        conv = helper.make_node("Conv", [f"{name}_dy", f"{name}_w"], [f"{name}_dx"], name=name, kernel_shape=[1, 1])
        at = list(graph.node).index(node)
        graph.node.insert(at, conv)
        graph.node.insert(at, concat)
        gone = {c.output[0] for c in convs}
        kept = [x for x in node.input if x not in gone]
        del node.input[:]
        node.input.extend([conv.output[0], *kept])
        fused += 1
    prune(graph)
    return fused


def _pointwise(node, weights) -> bool:
    if node.op_type != "Conv" or len(node.input) != 2 or node.input[1] not in weights:
        return False
    attrs = {a.name: a for a in node.attribute}
    dims = list(weights[node.input[1]].dims)
    plain = all(v == 0 for v in attrs["pads"].ints) if "pads" in attrs else True
    ones = all(all(v == 1 for v in attrs[k].ints) for k in ("strides", "dilations") if k in attrs)
    return (
        dims[2:] == [1, 1]
        and plain
        and ones
        and ("group" not in attrs or attrs["group"].i == 1)
        and attrs.get("auto_pad") is None
    )
