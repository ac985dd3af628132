"""TensorFlow dream function -> ONNX model: tf2onnx with our gradient-op handlers, plus the file's contract.

The contract (read by `realtime/`): input `image` float32 [N, H, W, 3] in [-1, 1] with N, H, W
dynamic, optional input `step_size` (scalar, defaults to DEFAULT_STEP_SIZE); outputs `loss` [N],
`grad` [N, H, W, 3] and `stepped` [N, H, W, 3]; metadata_props under the `deepdream.` prefix.
"""

from __future__ import annotations

import json

import numpy as np

from realtime.errors import UserError

FORMAT = "deepdream-live/1"
OPSET = 18
DEFAULT_STEP_SIZE = 0.01
PREPROCESSING = "RGB, NHWC float32, x / 127.5 - 1 (Inception): values in [-1, 1]"


class ExportError(UserError):
    pass


def to_onnx(dream, metadata: dict[str, str], defaults: dict[str, np.ndarray] | None = None):
    """Convert `dream` (see export.graph) and stamp `metadata` into the model.

    What the graph passes did is added to `metadata["graph"]` (after what the caller put there,
    such as the batch norms it folded), so the model records the simplifications it really has.

    `defaults` gives inputs beyond `image` a default value (an initializer of the input's name),
    so callers that feed only `image` keep the image -> loss, grad contract.
    """
    import tf2onnx
    from onnx import numpy_helper

    from export.gradient_ops import HANDLERS
    from export.initializers import drop_unused_initializers
    from export.passes import broadcast_seeds, fuse_pointwise_backprops

    model, _ = tf2onnx.convert.from_function(
        dream, input_signature=dream.input_signature, opset=OPSET, custom_op_handlers=dict(HANDLERS)
    )
    left = unconverted_ops(model)
    if left:
        raise ExportError(f"tf2onnx left TensorFlow ops it could not convert: {', '.join(left)}")
    done = [
        metadata.get("graph"),
        f"{broadcast_seeds(model)} objective seeds broadcast",
        f"{fuse_pointwise_backprops(model)} sums of 1x1 backprops fused",
    ]
    # An initializer with an input's name is that input's default: callers may leave it out.
    for name, value in {"step_size": np.array(DEFAULT_STEP_SIZE, np.float32), **(defaults or {})}.items():
        model.graph.initializer.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
    done.append(f"{drop_unused_initializers(model)} unused initializers dropped")
    metadata["graph"] = "; ".join(filter(None, done))
    model.doc_string = "DeepDream step for deepdream-live: image -> loss, grad, stepped"
    stamp(model, metadata)
    return model


def unconverted_ops(model) -> list[str]:
    """Op types in `model` that are not standard ONNX: TensorFlow ops tf2onnx passed through."""
    from onnx import defs

    return sorted({n.op_type for n in model.graph.node if n.domain not in ("", "ai.onnx") or not defs.has(n.op_type)})


def stamp(model, metadata: dict[str, str]) -> None:
    """Replace the model's metadata_props with `metadata`, keys prefixed `deepdream.`."""
    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = f"deepdream.{key}", str(value)


def base_metadata(objective, provenance: dict[str, str]) -> dict[str, str]:
    import onnx
    import tensorflow as tf
    import tf2onnx

    meta = {
        "format": FORMAT,
        "objective": str(objective),
        "objective_json": objective.to_json(),
        "layers": ",".join(objective.layers),
        "layer_weights": json.dumps(_layer_weights(objective)),
        "preprocessing": PREPROCESSING,
        "input": "image",
        "outputs": "loss,grad,stepped",
        "default_step_size": str(DEFAULT_STEP_SIZE),
        "versions": json.dumps(
            {"tensorflow": tf.__version__, "tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "opset": OPSET}
        ),
    }
    meta.update(
        {f"weights_{k}" if not k.startswith("weights") and k != "trained" else k: v for k, v in provenance.items()}
    )
    return meta


def _layer_weights(objective) -> dict[str, float]:
    totals: dict[str, float] = {}
    for term in objective.terms:
        totals[term.layer] = totals.get(term.layer, 0.0) + term.weight
    return totals
