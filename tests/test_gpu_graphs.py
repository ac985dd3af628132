"""The exported graphs as onnxruntime's CUDA provider would place them (export.placement), and float16 without
underflow: loss-scaled seeds, the step in float32 (export.graph, export.precision)."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from export.placement import memcpy, shape_floats
from export.precision import drop_round_trips


def _model(nodes, initializers=(), output="y"):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "c", "h", "w"])
    y = helper.make_tensor_value_info(output, TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in initializers]
    graph = helper.make_graph(nodes, "g", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_a_count_cast_from_a_shape_needs_a_copy_and_a_sum_of_ones_does_not():
    """The rule replayed on the two ways to divide by a count: onnxruntime runs Shape's consumers on the host."""
    axes = ("axes", np.array([2, 3], np.int64))
    cast = _model(
        [
            helper.make_node("Shape", ["x"], ["s"], start=2),
            helper.make_node("ReduceProd", ["s"], ["n"], keepdims=0),
            helper.make_node("Cast", ["n"], ["count"], to=TensorProto.FLOAT),
            helper.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=0),
            helper.make_node("Div", ["sum", "count"], ["y"]),
        ],
        [axes],
    )
    assert memcpy(cast) == ["count"] and shape_floats(cast) == ["count"]
    one = numpy_helper.from_array(np.ones(1, np.float32))
    ones = _model(
        [
            helper.make_node("Shape", ["x"], ["s"]),
            helper.make_node("ConstantOfShape", ["s"], ["one"], value=one),
            helper.make_node("ReduceSum", ["one", "axes"], ["count"], keepdims=0),
            helper.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=0),
            helper.make_node("Div", ["sum", "count"], ["y"]),
        ],
        [axes],
    )
    assert memcpy(ones) == [] and shape_floats(ones) == []


def test_a_float16_round_trip_between_float32_nodes_is_dropped():
    model = _model(
        [
            helper.make_node("Relu", ["x"], ["a"], name="kept_a"),
            helper.make_node("Cast", ["a"], ["a16"], to=TensorProto.FLOAT16),
            helper.make_node("Cast", ["a16"], ["a32"], to=TensorProto.FLOAT),
            helper.make_node("Neg", ["a32"], ["y"], name="kept_b"),
        ]
    )
    assert drop_round_trips(model, {"kept_a", "kept_b"}) == 1
    assert [n.op_type for n in model.graph.node] == ["Relu", "Neg"] and model.graph.node[1].input[0] == "a"


@pytest.fixture(scope="module")
def mix_model(base_model):
    """A mix model (mixed0..mixed5), as `deepdream export --mix` converts it."""
    from export.convert import to_onnx
    from export.fold import fold_batchnorm
    from export.graph import mix_defaults, mix_function
    from export.objectives import parse

    objective = parse("mixed3,mixed5")
    defaults = {
        "layer_weights": mix_defaults(objective),
        "guide": np.zeros((1, 768), np.float32),
        "guide_weight": np.array(0.0, np.float32),
    }
    return to_onnx(mix_function(fold_batchnorm(base_model), objective), {"format": "test"}, defaults)


@pytest.fixture(params=["fp32", "fp16", "mix", "mix_fp16"])
def kind(request, random_model, half_model, mix_model):
    from export.precision import half

    return {
        "fp32": lambda: onnx.load(random_model),
        "fp16": lambda: onnx.load(half_model),
        "mix": lambda: mix_model,
        "mix_fp16": lambda: half(mix_model),
    }[request.param]()


def test_every_kind_runs_on_cuda_without_a_host_copy(kind):
    """What CUDA graphs need: no Memcpy node (the old graphs needed 2, and 7 in a mix model)."""
    assert shape_floats(kind) == []  # no float computed from a Shape reaches the arithmetic
    assert memcpy(kind) == []


def _sessions(*paths):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return [ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]) for p in paths]


@pytest.mark.parametrize("hw", [(360, 640), (720, 1280)], ids=["640x360", "1280x720"])
def test_float16_gradients_do_not_underflow_at_video_sizes(random_model, half_model, hw):
    """Seeds of 1/(C h w) underflowed float16: 28 % (640x360) and 69 % (1280x720) of the gradient was zero."""
    full, half = _sessions(random_model, half_model)
    image = np.random.default_rng(7).uniform(-1, 1, (1, *hw, 3)).astype(np.float32)
    (g32, s32), (g16, s16) = (s.run(["grad", "stepped"], {"image": image}) for s in (full, half))
    assert np.mean(g16 == 0) <= np.mean(g32 == 0) + 1e-3
    cosine = float(g32.ravel() @ g16.ravel() / (np.linalg.norm(g32) * np.linalg.norm(g16)))
    assert cosine >= 0.998  # float16's own rounding (ReLU and max-pool ties) costs the rest
    assert np.isfinite(s16).all() and np.abs(s16 - s32).max() < 0.05  # the step: std and update in float32


def test_the_float16_check_covers_the_video_sizes(half_model):
    import json

    meta = {p.key: p.value for p in onnx.load(half_model).metadata_props}
    rows = json.loads(meta["deepdream.fp16_check"])["rows"]
    assert {(1, 360, 640), (1, 720, 1280)} <= {tuple(r["shape"]) for r in rows}
    assert all(r["zeros"] <= r["zeros_fp32"] + 1e-3 for r in rows)
