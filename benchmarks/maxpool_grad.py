"""ms for InceptionV3's three max-pool gradients: our ONNX conversion on onnxruntime against TensorFlow.

    python benchmarks/maxpool_grad.py [--sizes 299x299,480x640] [--repeats 15] [--json out.json]

Where most of the step benchmark's gap lives. Each row is one 3x3 stride-2 max pool of the
network (stem pool 1, stem pool 2, mixed3's pool branch) at the shape it meets for that image
size: the pool and the gradient of its input, as TensorFlow's tape builds them (MaxPool +
MaxPoolGrad) and as `deepdream export` converts them (export/pool_gradients.py), fed
channels-first to onnxruntime as inside the exported model. Random post-ReLU inputs, 2 threads.
"""

from __future__ import annotations

import argparse
import os
import statistics

import numpy as np
from timing import report, times_ms


def _strided(n: int) -> int:  # a 3x3 stride-2 valid window over n
    return (n - 3) // 2 + 1


def _pool1(n: int) -> int:  # conv 3x3/2, conv 3x3 valid, conv 3x3 same
    return _strided(n) - 2


def _pool2(n: int) -> int:  # pool 1, conv 1x1, conv 3x3 valid
    return _strided(_pool1(n)) - 2


def _pool3(n: int) -> int:  # pool 2; mixed0..mixed2 keep the size
    return _strided(_pool2(n))


# (name, channels, side of the pool's input as a function of the image's side)
POOLS = [("stem pool 1", 64, _pool1), ("stem pool 2", 192, _pool2), ("mixed3 pool", 288, _pool3)]


def _models(tf, tf2onnx, ort, handlers, channels):
    # The channel count is static, as in the exported model (the conversion uses it).
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32, name="x"),
            tf.TensorSpec([None, None, None, channels], tf.float32, name="dy"),
        ]
    )
    def grad(x, dy):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.max_pool2d(x, 3, 2, "VALID")
        return {"dx": tape.gradient(y, x, output_gradients=dy)}

    model, _ = tf2onnx.convert.from_function(
        grad,
        input_signature=grad.input_signature,
        opset=18,
        custom_op_handlers=dict(handlers),
        inputs_as_nchw=["x:0", "dy:0"],
        outputs_as_nchw=["dx"],
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return grad, ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _row(tf, models, side, name, channels, repeats, rng) -> dict:
    """Time one pool at one image size, after checking that both sides give the same gradient."""
    (h, w), n = side, channels
    tf_grad, session = models[channels]
    x = np.maximum(rng.normal(size=(1, h, w, n)), 0).astype(np.float32)
    dy = rng.normal(size=(1, _strided(h), _strided(w), n)).astype(np.float32)
    tx, tdy = tf.constant(x), tf.constant(dy)
    feeds = {"x": np.ascontiguousarray(x.transpose(0, 3, 1, 2)), "dy": np.ascontiguousarray(dy.transpose(0, 3, 1, 2))}
    ours, theirs = session.run(None, feeds)[0].transpose(0, 2, 3, 1), tf_grad(tx, tdy)["dx"].numpy()
    if np.abs(ours - theirs).max() > 1e-6 * np.abs(theirs).max():  # sums of up to 4 terms, in any order
        raise SystemExit(f"{name} at {h}x{w}: the converted gradient differs from TensorFlow's")
    return {
        "pool": name,
        "input": f"{h}x{w}x{n}",
        "tensorflow_ms": statistics.median(times_ms(lambda: tf_grad(tx, tdy)["dx"].numpy(), repeats)),
        "onnxruntime_ms": statistics.median(times_ms(lambda: session.run(None, feeds), repeats)),
    }


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="299x299,480x640")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    from export.gradient_ops import HANDLERS

    models = {n: _models(tf, tf2onnx, ort, HANDLERS, n) for _, n, _ in POOLS}
    rng = np.random.default_rng(0)
    rows = []
    for size in args.sizes.split(","):
        h, w = (int(v) for v in size.split("x"))
        pools = [
            {"size": size, **_row(tf, models, (at(h), at(w)), name, channels, args.repeats, rng)}
            for name, channels, at in POOLS
        ]
        rows += pools + [
            {
                "size": size,
                "pool": "all three",
                "input": "",
                **{k: sum(p[k] for p in pools) for k in ("tensorflow_ms", "onnxruntime_ms")},
            }
        ]
    for row in rows:
        row["ratio"] = round(row["onnxruntime_ms"] / row["tensorflow_ms"], 2)
        row["tensorflow_ms"], row["onnxruntime_ms"] = round(row["tensorflow_ms"], 2), round(row["onnxruntime_ms"], 2)
    report(
        f"max pool 3x3/2 + its input gradient, {os.cpu_count()} CPUs, medians of {args.repeats}",
        [
            ("size", "image", ""),
            ("pool", "pool", ""),
            ("input", "pool input", ""),
            ("tensorflow_ms", "TensorFlow ms", ".2f"),
            ("onnxruntime_ms", "onnxruntime ms", ".2f"),
            ("ratio", "ratio", ".2f"),
        ],
        rows,
        args.json,
    )


if __name__ == "__main__":
    main()
