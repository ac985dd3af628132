"""ms per ascent step (gradient, normalise, step, clip): onnxruntime against TensorFlow, same weights, one process.

    python benchmarks/step_vs_tensorflow.py [--layers mixed3,mixed5] [--repeats 6] [--rounds 3] [--json out.json]

Both sides run the same update: TensorFlow as one tf.function of the Keras network as it comes,
onnxruntime through the engine's fused path (the model's `stepped` output) on the model as
`deepdream export` writes it (same function, simplified). Each side runs a block of repeats in
turn, --rounds times, not step-by-step interleaved: both runtimes keep spinning worker threads for a
while after a call, which would steal the other's cores. The figures are medians over all rounds; the
ratio is also given per round (min..max), because a shared VM's speed drifts over minutes and a round's two blocks run
close together. Random weights: same arithmetic as ImageNet's. benchmarks/maxpool_grad.py times
the part where onnxruntime loses (the max-pool gradients) on its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from functools import partial

import numpy as np
from timing import report, times_ms

SIZES = [(224, 224), (299, 299), (480, 640)]


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="mixed3,mixed5")
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import tensorflow as tf

    from export.convert import to_onnx
    from export.fold import fold_batchnorm
    from export.graph import dream_function
    from export.objectives import parse
    from export.weights import load_base
    from realtime.dream.engine import Engine

    base, _ = load_base("random", 0)
    dream = dream_function(base, parse(args.layers))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.onnx")
        with open(path, "wb") as fh:
            exported = dream_function(fold_batchnorm(base), parse(args.layers))
            fh.write(to_onnx(exported, {"format": "deepdream-live/1", "layers": args.layers}).SerializeToString())
        engine = Engine(path, "cpu")
        step = tf.constant(0.01)
        rows = []
        for h, w in SIZES:
            image = np.random.default_rng(0).uniform(-1, 1, (h, w, 3)).astype(np.float32)
            batch = tf.constant(image[None])
            tf_ms, ort_ms, ratios = [], [], []
            for _ in range(args.rounds):
                tf_round = times_ms(lambda batch=batch: dream(batch, step)["stepped"].numpy(), args.repeats)
                ort_round = times_ms(partial(engine.step, image, 1, 0.01), args.repeats)
                tf_ms, ort_ms = tf_ms + tf_round, ort_ms + ort_round
                ratios.append(statistics.median(ort_round) / statistics.median(tf_round))
            tf_med, ort_med = statistics.median(tf_ms), statistics.median(ort_ms)
            rows.append(
                {
                    "size": f"{h}x{w}",
                    "tensorflow_ms": round(tf_med, 1),
                    "onnxruntime_ms": round(ort_med, 1),
                    "ratio": round(ort_med / tf_med, 2),
                    "round_ratios": f"{min(ratios):.2f}..{max(ratios):.2f}",
                }
            )
    report(
        f"layers {args.layers}, {os.cpu_count()} CPUs, medians of {args.rounds} rounds x {args.repeats}",
        [
            ("size", "size", ""),
            ("tensorflow_ms", "TensorFlow ms", ".1f"),
            ("onnxruntime_ms", "onnxruntime ms", ".1f"),
            ("ratio", "ratio", ".2f"),
            ("round_ratios", "per round", ""),
        ],
        rows,
        args.json,
        layers=args.layers,
    )


if __name__ == "__main__":
    main()
