"""A float16 model: the same graph with its weights and arithmetic in half precision, inputs and outputs
kept float32, so the runtime feeds and reads it as it does any model.

`half(model)` converts with onnxruntime's own float16 converter (which leaves `image`, `step_size`,
the mix inputs and every output float32, casting at the edges), keeps the loss scale and everything
after the backward pass (the unscaled gradient, its std, the step) in float32 (export.graph says
why), and sorts the nodes again (the converter appends its casts out of order, which the ONNX
checker refuses). `agreement(fp32, fp16)` runs both on the CPU on random images, at the export's
check sizes and at 640x360 and 1280x720, and refuses the float16 model when the gradients' cosine
falls below MIN_COSINE (a conversion error) or more of its gradient is exactly zero than float32's
(an underflow). Whether float16 is good enough to dream with by default is a stricter question
(cosine >= 0.999, and faster on the GPU): the check records it as `precise`, and benchmarks/gpu.py
answers it on the GPU. Where onnxruntime's CPU cannot run float16 at all, this says so and leaves
the check to the GPU.
"""

from __future__ import annotations

import json

import numpy as np

from realtime.errors import UserError, reason

MIN_COSINE = 0.99  # gradients of the float16 and float32 models, per image: below it the conversion is wrong
PRECISE_COSINE = 0.999  # at and above it float16 may become the default (recorded as `precise`)
# An underflow zeroes tens of percent of the gradient; a ReLU or max-pool tie that float16 rounds the
# other way adds or removes a handful of exact zeros, so the fraction may exceed float32's by this much.
ZERO_SLACK = 1e-3
LARGE_SHAPES = ((1, 360, 640), (1, 720, 1280))  # where 1/(C h w) seeds underflowed: checked always


def half(model):
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    kept = float32_nodes(model)
    converted = OnnxModel(convert_float_to_float16(model, keep_io_types=True, node_block_list=kept))
    drop_round_trips(converted.model, set(kept))
    converted.topological_sort()
    onnx.checker.check_model(converted.model)
    return converted.model


def float32_nodes(model) -> list[str]:
    """The nodes kept float32: the loss scale's (export.graph.SCALE) and everything downstream of the
    unscaled gradient (export.graph.TAIL, with the transposes tf2onnx added there under other names)."""
    from export.graph import SCALE, TAIL

    keep = {n.name for n in model.graph.node if n.name.startswith(SCALE + "/")}
    reached = {x for n in model.graph.node if n.name.startswith(TAIL + "/") for x in n.output}
    for node in model.graph.node:  # topological order: a node's inputs are settled before it
        if node.name.startswith(TAIL + "/") or reached.intersection(node.input):
            keep.add(node.name)
            reached.update(node.output)
    return sorted(keep)


def drop_round_trips(model, kept: set[str]) -> int:
    """Cast(float32 -> float16 -> float32) read as the float32 value it started from; returns how many.

    The converter casts a kept node's output to float16 and back before the next kept node reads it, so
    without this the float32 nodes would still pass their values through float16 (and underflow there).
    `kept`: the nodes left float32 (their outputs and the float32 graph inputs start such round trips)."""
    from onnx import TensorProto

    from export.passes import prune

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    float32 = {x for n in graph.node if n.name in kept for x in n.output} | {
        i.name for i in graph.input if i.type.tensor_type.elem_type == TensorProto.FLOAT
    }
    back = {}  # the round trip's end -> its float32 start
    for node in graph.node:
        first = producer.get(node.input[0]) if node.op_type == "Cast" else None
        if (
            first is not None
            and first.op_type == "Cast"
            and _cast_to(node) == TensorProto.FLOAT
            and _cast_to(first) == TensorProto.FLOAT16
            and first.input[0] in float32
        ):
            back[node.output[0]] = first.input[0]
            node.input[0] = first.input[0]  # a graph output stays this Cast's, now float32 to float32
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in back:
                node.input[i] = back[name]
    prune(graph)
    return len(back)


def _cast_to(node) -> int:
    return next(a.i for a in node.attribute if a.name == "to")


def agreement(fp32: bytes, fp16: bytes, shapes, seed: int = 0) -> str:
    """JSON of the gradient cosine, zero fractions and loss error per shape (`shapes` and LARGE_SHAPES);
    UserError where a conversion error or an underflow shows."""
    from realtime.dream.runtime import onnxruntime, session_options

    ort, options = onnxruntime(), session_options()
    reference = ort.InferenceSession(fp32, options, providers=["CPUExecutionProvider"])
    try:
        candidate = ort.InferenceSession(fp16, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own types: no float16 kernel for some node on this CPU
        return json.dumps({"checked": False, "why": reason(exc)})
    rng, rows = np.random.default_rng(seed), []
    for shape in dict.fromkeys([*map(tuple, shapes), *LARGE_SHAPES]):
        image = rng.uniform(-1, 1, (*shape, 3)).astype(np.float32)
        rows.append(_compare(reference, candidate, image))
        _refuse(rows[-1])
    return json.dumps(
        {
            "checked": True,
            "against": "float32, on the CPU",
            "rows": rows,
            "precise": all(r["grad_cosine"] >= PRECISE_COSINE for r in rows),
        }
    )


def _compare(reference, candidate, image) -> dict:
    (g32, l32), (g16, l16) = (s.run(["grad", "loss"], {"image": image}) for s in (reference, candidate))
    a, b = g32.reshape(len(image), -1).astype(np.float64), g16.reshape(len(image), -1).astype(np.float64)
    cosines = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-30)
    cosine = float(np.min(cosines)) if np.all(np.isfinite(b)) else float("nan")  # inf: an overflow
    return {
        "shape": list(image.shape[:3]),
        "grad_cosine": round(cosine, 6),
        "zeros": round(float(np.mean(g16 == 0)), 6),
        "zeros_fp32": round(float(np.mean(g32 == 0)), 6),
        "loss_error": float(np.max(np.abs(l16 - l32) / (np.abs(l32) + 1e-12))),
    }


def _refuse(row: dict) -> None:
    at = "x".join(map(str, row["shape"]))
    if not row["grad_cosine"] >= MIN_COSINE:  # NaN included
        raise UserError(
            f"the float16 model's gradient does not agree with float32's at {at} "
            f"(cosine {row['grad_cosine']:.5f} < {MIN_COSINE}: a conversion error): nothing written"
        )
    if row["zeros"] > row["zeros_fp32"] + ZERO_SLACK:
        raise UserError(
            f"the float16 model's gradient underflows at {at} ({row['zeros']:.1%} of it exactly zero, "
            f"float32's {row['zeros_fp32']:.1%}): nothing written"
        )
