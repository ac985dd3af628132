"""Each gradient-op handler against TensorFlow's own op, on identical inputs (tf2onnx-style side by side).

Shapes include the ones InceptionV3 meets at 480x640 (its stem max pools, 3x3 stride 2, overlapping
windows) and odd, non-square sizes, where a first conversion attempt went wrong.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
tf2onnx = pytest.importorskip("tf2onnx")
ort = pytest.importorskip("onnxruntime")

from export.convert import unconverted_ops  # noqa: E402
from export.gradient_ops import HANDLERS  # noqa: E402

pytestmark = pytest.mark.export

RNG = np.random.default_rng(0)
W33 = RNG.normal(size=(3, 3, 5, 4)).astype(np.float32)
W17 = RNG.normal(size=(1, 7, 5, 4)).astype(np.float32)
W71 = RNG.normal(size=(7, 1, 5, 4)).astype(np.float32)

OPS = {
    "relu": lambda x: tf.nn.relu(x),
    "max_pool_3x3_s2_valid": lambda x: tf.nn.max_pool2d(x, 3, 2, "VALID"),
    "max_pool_3x3_s2_same": lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"),
    "max_pool_2x2_s1_valid": lambda x: tf.nn.max_pool2d(x, 2, 1, "VALID"),
    "avg_pool_3x3_s1_same": lambda x: tf.nn.avg_pool2d(x, 3, 1, "SAME"),
    "avg_pool_2x2_s1_same": lambda x: tf.nn.avg_pool2d(x, 2, 1, "SAME"),
    "avg_pool_3x3_s1_valid": lambda x: tf.nn.avg_pool2d(x, 3, 1, "VALID"),
    "conv_3x3_s1_same": lambda x: tf.nn.conv2d(x, W33, 1, "SAME"),
    "conv_3x3_s1_valid": lambda x: tf.nn.conv2d(x, W33, 1, "VALID"),
    "conv_3x3_s2_valid": lambda x: tf.nn.conv2d(x, W33, 2, "VALID"),
    "conv_3x3_s2_same": lambda x: tf.nn.conv2d(x, W33, 2, "SAME"),
    "conv_1x7_same": lambda x: tf.nn.conv2d(x, W17, 1, "SAME"),
    "conv_7x1_same": lambda x: tf.nn.conv2d(x, W71, 1, "SAME"),
    "concat_channels": lambda x: tf.concat([tf.nn.relu(x), 2.0 * tf.split(x, [2, 3], -1)[0], -x], axis=-1),
}
SHAPES = [(1, 9, 13), (2, 10, 11), (1, 75, 75), (1, 181, 303), (1, 239, 319)]


def _convert(fn):
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 5], tf.float32, name="x")])
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        # A non-uniform upstream gradient, so every position's routing matters.
        return {"dx": tape.gradient(y, x, output_gradients=tf.sin(3.0 * y) + 0.1)}

    model, _ = tf2onnx.convert.from_function(
        grad, input_signature=grad.input_signature, opset=18, custom_op_handlers=dict(HANDLERS)
    )
    left = unconverted_ops(model)
    if left:
        raise NotImplementedError(f"unconverted: {left}")
    return grad, ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_gradient_matches_tensorflow(name):
    grad, session = _convert(OPS[name])
    for n, h, w in SHAPES:
        # Distinct values: a max pool's gradient is only defined up to ties.
        x = RNG.permutation(n * h * w * 5).reshape(n, h, w, 5).astype(np.float32) / (n * h * w * 5) - 0.5
        want = grad(tf.constant(x))["dx"].numpy()
        got = session.run(["dx"], {"x": x})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max(), err_msg=f"{name} {n}x{h}x{w}")


@pytest.mark.parametrize("name", ["max_pool_3x3_s2_valid", "max_pool_3x3_s2_same", "max_pool_2x2_s1_valid"])
def test_max_pool_gradient_follows_tensorflows_tie_rule(name):
    grad, session = _convert(OPS[name])
    # Few distinct values: ReLU zeros and flat patches, as a saturated photo gives, tie in most
    # windows; TensorFlow sends such a window's gradient to its first maximum in scan order.
    x = np.maximum(np.round(RNG.normal(size=(2, 23, 31, 5)) * 2) / 2, 0).astype(np.float32)
    want = grad(tf.constant(x))["dx"].numpy()
    got = session.run(["dx"], {"x": x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * np.abs(want).max(), err_msg=name)


def test_strided_average_pool_gradient_is_refused_not_guessed():
    with pytest.raises(NotImplementedError, match="AvgPoolGrad"):
        _convert(lambda x: tf.nn.avg_pool2d(x, 3, 2, "VALID"))
