"""A float16 model: the same graph with its weights and arithmetic in half precision, inputs and outputs
kept float32, so the runtime feeds and reads it as it does any model.

`half(model)` converts with onnxruntime's own float16 converter (which leaves `image`, `step_size`,
the mix inputs and every output float32, casting at the edges) and sorts the nodes again (the
converter appends its casts out of order, which the ONNX checker refuses). `agreement(fp32, fp16)`
runs both on the CPU on random images and refuses the float16 model when the gradients' cosine falls
below MIN_COSINE, which only a conversion error does (half precision alone gave 0.9985-0.9991 with
random weights); whether float16 is good enough to dream with by default is a stricter question
(cosine >= 0.999 on the GPU, and faster there), which benchmarks/gpu.py answers. Where onnxruntime's
CPU cannot run float16 at all, this says so and leaves the check to the GPU.
"""
from __future__ import annotations

import json

import numpy as np

from realtime.errors import UserError, reason

MIN_COSINE = 0.99  # gradients of the float16 and float32 models, per image: below it the conversion is wrong


def half(model):
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    converted = OnnxModel(convert_float_to_float16(model, keep_io_types=True))
    converted.topological_sort()
    onnx.checker.check_model(converted.model)
    return converted.model


def agreement(fp32: bytes, fp16: bytes, shapes, seed: int = 0) -> str:
    """JSON of the worst gradient cosine and loss error per shape; UserError below MIN_COSINE."""
    from realtime.dream.runtime import onnxruntime, session_options

    ort, options = onnxruntime(), session_options()
    reference = ort.InferenceSession(fp32, options, providers=["CPUExecutionProvider"])
    try:
        candidate = ort.InferenceSession(fp16, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own types: no float16 kernel for some node on this CPU
        return json.dumps({"checked": False, "why": reason(exc)})
    rng, rows = np.random.default_rng(seed), []
    for shape in shapes:
        image = rng.uniform(-1, 1, (*shape, 3)).astype(np.float32)
        (g32, l32), (g16, l16) = (s.run(["grad", "loss"], {"image": image}) for s in (reference, candidate))
        a, b = g32.reshape(len(image), -1).astype(np.float64), g16.reshape(len(image), -1).astype(np.float64)
        cosine = float(np.min((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-30)))
        loss_error = float(np.max(np.abs(l16 - l32) / (np.abs(l32) + 1e-12)))
        rows.append({"shape": list(shape), "grad_cosine": round(cosine, 6), "loss_error": loss_error})
        if cosine < MIN_COSINE:
            raise UserError(f"the float16 model's gradient does not agree with float32's at {'x'.join(map(str, shape))} "
                            f"(cosine {cosine:.5f} < {MIN_COSINE}: a conversion error): nothing written")
    return json.dumps({"checked": True, "against": "float32, on the CPU", "rows": rows})
