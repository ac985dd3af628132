"""BatchNorm folded into the convolutions (export/fold.py) and seeds broadcast into gradient sums
(export/passes.py): the same function, less work."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from export.verify import compare, reference  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.export]


@pytest.fixture(scope="module")
def trained_like():
    """InceptionV3 with BatchNorm statistics like a trained net's (random init has mean 0, var 1)."""
    import keras

    from export.weights import load_base

    base, _ = load_base("random", seed=5)
    rng = np.random.default_rng(5)
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.5, c).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, c).astype(np.float32))
            layer.beta.assign(rng.normal(0, 0.3, c).astype(np.float32))
    return base


def test_folding_keeps_every_layer_and_its_output(trained_like):
    import keras

    from export.fold import fold_batchnorm
    from export.objectives import LAYERS

    folded = fold_batchnorm(trained_like)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.layers)
    image = np.random.default_rng(0).uniform(-1, 1, (1, 181, 303, 3)).astype(np.float32)
    before = keras.Model(trained_like.input, [trained_like.get_layer(n).output for n in LAYERS])(image)
    after = keras.Model(folded.input, [folded.get_layer(n).output for n in LAYERS])(image)
    for name, a, b in zip(LAYERS, before, after):
        a, b = np.asarray(a), np.asarray(b)
        assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max(), name


def test_the_folded_export_matches_the_original_gradient(trained_like):
    import onnxruntime as ort

    from export.convert import to_onnx
    from export.fold import fold_batchnorm
    from export.graph import dream_function
    from export.objectives import parse

    objective = parse("mixed2,mixed4:0.5")
    model = to_onnx(dream_function(fold_batchnorm(trained_like), objective), {"format": "test"})
    assert not any(n.op_type == "BatchNormalization" for n in model.graph.node)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    check = compare(
        reference(dream_function(trained_like, objective)), session, (1, 131, 187), np.random.default_rng(1), draws=10
    )
    assert check.ok, check


def _seeded_sum_model():
    """g + ones_like(g) * w, and a sum of two seeds alone (one of which must stay full size)."""
    from onnx import TensorProto, helper

    ones = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    nodes = [
        helper.make_node("Shape", ["g"], ["shape"]),
        helper.make_node("ConstantOfShape", ["shape"], ["ones"], value=ones),
        helper.make_node("Mul", ["ones", "w"], ["seed"]),
        helper.make_node("Sum", ["seed", "g"], ["total"]),
        helper.make_node("Mul", ["w", "ones"], ["seed2"]),
        helper.make_node("Add", ["seed", "seed2"], ["seeds_only"]),
    ]
    graph = helper.make_graph(
        nodes,
        "t",
        [
            helper.make_tensor_value_info("g", TensorProto.FLOAT, [1, 4, 5, 3]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, [3]),
        ],
        [
            helper.make_tensor_value_info("total", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("seeds_only", TensorProto.FLOAT, None),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_seeds_broadcast_into_the_gradient_sums():
    import onnxruntime as ort

    from export.passes import broadcast_seeds

    model = _seeded_sum_model()
    feeds = {
        "g": np.random.default_rng(0).normal(size=(1, 4, 5, 3)).astype(np.float32),
        "w": np.array([0.5, -1.0, 2.0], np.float32),
    }

    def run(m):
        return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)

    before = run(model)
    assert broadcast_seeds(model) == 2
    sums = {n.output[0]: list(n.input) for n in model.graph.node if n.op_type in ("Sum", "Add")}
    assert sums["total"] == ["w", "g"] and sums["seeds_only"] == ["w", "seed2"]  # one full term keeps the shape
    after = run(model)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])


def test_pointwise_backprops_fuse_into_one_convolution():
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from export.passes import fuse_pointwise_backprops

    rng = np.random.default_rng(1)
    kernels = [
        numpy_helper.from_array(rng.normal(size=(8, c, 1, 1)).astype(np.float32), f"w{i}")
        for i, c in enumerate((16, 32))
    ]
    wide = numpy_helper.from_array(rng.normal(size=(8, 16, 3, 3)).astype(np.float32), "w3x3")
    nodes = [
        helper.make_node("Conv", ["a", "w0"], ["ga"]),
        helper.make_node("Conv", ["b", "w1"], ["gb"]),
        helper.make_node("Conv", ["a", "w3x3"], ["gc"], pads=[1, 1, 1, 1]),  # not 1x1: stays
        helper.make_node("Sum", ["ga", "gb", "gc", "d"], ["dx"]),
    ]
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, c, 5, 7]) for n, c in (("a", 16), ("b", 32), ("d", 8))
    ]
    graph = helper.make_graph(
        nodes, "t", inputs, [helper.make_tensor_value_info("dx", TensorProto.FLOAT, None)], [*kernels, wide]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    feeds = {n: rng.normal(size=(2, c, 5, 7)).astype(np.float32) for n, c in (("a", 16), ("b", 32), ("d", 8))}

    def run(m):
        return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]

    before = run(model)
    assert fuse_pointwise_backprops(model) == 1
    assert [n.op_type for n in model.graph.node].count("Conv") == 2  # the two 1x1 became one; the 3x3 stays
    np.testing.assert_allclose(run(model), before, rtol=1e-5, atol=1e-5)
