"""A tiny dream model with the exported models' contract, built with onnx.helper in milliseconds: no TensorFlow.

Same inputs (`image` [N, H, W, 3] float32 with N, H, W dynamic; `step_size`, a scalar with a default), outputs
(`loss` [N], `grad` [N, H, W, 3], `stepped` [N, H, W, 3]) and metadata (export.convert's keys under the
`deepdream.` prefix) as `deepdream export` writes, so realtime.dream.model accepts it and the engine dreams
with it; what InceptionV3 computes is not the point of the tests that use it.

The network is two 3x3 convolutions to 8 channels (SAME padding, no nonlinearity) and the loss is the mean of
the second's square, whose gradient is exact and short to write by hand: d loss / d x = 2 / (C H W) *
ConvTranspose1(ConvTranspose2(act)), each convolution's adjoint with its own weights. The loss is convex, so
gradient ascent raises it; two layers give a receptive field of 5x5, wide enough for the seams' tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHANNELS = 8
OPSET = 18
DEFAULT_STEP_SIZE = 0.01
LAYERS = "tiny"  # the layer name the metadata gives: no InceptionV3 layer, so nothing mistakes it for one


def metadata(seed: int) -> dict[str, str]:
    """export.convert.base_metadata's keys, with values that say what this model is."""
    return {
        "format": "deepdream-live/1",
        "objective": LAYERS,
        "objective_json": json.dumps([{"layer": LAYERS, "weight": 1.0, "channel": None}]),
        "layers": LAYERS,
        "layer_weights": json.dumps({LAYERS: 1.0}),
        "preprocessing": "RGB, NHWC float32, x / 127.5 - 1 (Inception): values in [-1, 1]",
        "input": "image",
        "outputs": "loss,grad,stepped",
        "default_step_size": str(DEFAULT_STEP_SIZE),
        "versions": json.dumps({"onnx": onnx.__version__, "opset": OPSET}),
        "weights": "random",
        "trained": "false",
        "weights_seed": str(seed),
        "graph": "tests/tiny.py: two 3x3 convolutions, loss = mean(conv2(conv1(x))^2)",
    }


def _nodes() -> list:
    """image -> loss, grad, stepped. Tensors inside are NCHW (ONNX's convolution layout)."""
    node = helper.make_node
    return [
        node("Transpose", ["image"], ["x"], perm=[0, 3, 1, 2]),
        node("Conv", ["x", "w1", "b1"], ["a1"], pads=[1, 1, 1, 1]),
        node("Conv", ["a1", "w2", "b2"], ["act"], pads=[1, 1, 1, 1]),
        node("Mul", ["act", "act"], ["act2"]),
        node("ReduceMean", ["act2", "axes_chw"], ["loss"], keepdims=0),
        # 2 / (C H W): the count on the graph, since H and W are only known at run time
        node("Shape", ["act"], ["shape"], start=1),
        node("ReduceProd", ["shape"], ["count_i"], keepdims=0),
        node("Cast", ["count_i"], ["count"], to=TensorProto.FLOAT),
        node("Div", ["two", "count"], ["seed"]),
        node("ConvTranspose", ["act", "w2"], ["back2"], pads=[1, 1, 1, 1]),
        node("ConvTranspose", ["back2", "w1"], ["back"], pads=[1, 1, 1, 1]),
        node("Mul", ["back", "seed"], ["grad_nchw"]),
        node("Transpose", ["grad_nchw"], ["grad"], perm=[0, 2, 3, 1]),
        # the classic step, as export.graph._ascend writes it: grad / (std + 1e-8) * step_size, clipped
        node("ReduceMean", ["grad", "axes_hwc"], ["g_mean"], keepdims=1),
        node("Sub", ["grad", "g_mean"], ["g_dev"]),
        node("Mul", ["g_dev", "g_dev"], ["g_dev2"]),
        node("ReduceMean", ["g_dev2", "axes_hwc"], ["g_var"], keepdims=1),
        node("Sqrt", ["g_var"], ["g_std"]),
        node("Add", ["g_std", "eps"], ["g_norm"]),
        node("Div", ["grad", "g_norm"], ["g_unit"]),
        node("Mul", ["g_unit", "step_size"], ["g_step"]),
        node("Add", ["image", "g_step"], ["raw"]),
        node("Clip", ["raw", "minus_one", "one"], ["stepped"]),
    ]


def _initializers(seed: int) -> list:
    rng = np.random.default_rng(seed)
    values = {
        "w1": rng.normal(0, 0.3, (CHANNELS, 3, 3, 3)),
        "b1": rng.normal(0, 0.1, CHANNELS),
        "w2": rng.normal(0, 0.15, (CHANNELS, CHANNELS, 3, 3)),
        "b2": rng.normal(0, 0.1, CHANNELS),
        "step_size": np.array(DEFAULT_STEP_SIZE),  # an input's initializer: its default (export.convert)
        "axes_chw": np.array([1, 2, 3], np.int64),
        "axes_hwc": np.array([1, 2, 3], np.int64),
        "two": np.array(2.0),
        "eps": np.array(1e-8),
        "one": np.array(1.0),
        "minus_one": np.array(-1.0),
    }
    return [numpy_helper.from_array(v if v.dtype == np.int64 else v.astype(np.float32), k) for k, v in values.items()]


def build(seed: int = 0) -> onnx.ModelProto:
    """The tiny model, checked by onnx's checker and shape inference."""
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, None, None, 3])
    step = helper.make_tensor_value_info("step_size", TensorProto.FLOAT, [])
    outputs = [
        helper.make_tensor_value_info("loss", TensorProto.FLOAT, [None]),
        helper.make_tensor_value_info("grad", TensorProto.FLOAT, [None, None, None, 3]),
        helper.make_tensor_value_info("stepped", TensorProto.FLOAT, [None, None, None, 3]),
    ]
    graph = helper.make_graph(_nodes(), "tiny_dream", [image, step], outputs, _initializers(seed))
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string="DeepDream step for deepdream-live tests: image -> loss, grad, stepped",
    )
    model.ir_version = 8  # onnx writes its newest IR version by default, which an older onnxruntime refuses
    helper.set_model_props(model, {f"deepdream.{k}": v for k, v in metadata(seed).items()})
    onnx.checker.check_model(model, full_check=True)
    return model


def write(path: Path, seed: int = 0) -> Path:
    """The tiny model at `path`, with the metadata sidecar `deepdream export` writes beside it (PATH.json)."""
    path = Path(path)
    path.write_bytes(build(seed).SerializeToString())
    path.with_suffix(".json").write_text(json.dumps(metadata(seed), indent=2) + "\n")
    return path
