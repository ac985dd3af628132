"""Engine steps per second on onnxruntime: plain steps at 224x224 and 480x640, tiled at 1920x1080.

    python benchmarks/engine.py [--model models/inception_mixed3_mixed5.onnx] [--provider auto] [--json out.json]

Runtime only (no TensorFlow). Median of several timed steps after a warm-up step.
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial

import numpy as np
from timing import MODEL_HELP, model_or_exit, report, times_ms

from realtime.dream.engine import Engine
from realtime.dream.transforms import tiled

CASES = [("224x224", (224, 224), 0), ("480x640", (480, 640), 0), ("1920x1080 tiled 512", (1080, 1920), 512)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--provider", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    args.model = model_or_exit(args.model)
    engine = Engine(args.model, args.provider)
    rows = []
    for name, (h, w), tile in CASES:
        image = np.random.default_rng(0).uniform(-1, 1, (h, w, 3)).astype(np.float32)
        transform = tiled(tile, np.random.default_rng(0)) if tile else None
        repeats = 2 if tile else args.repeats
        median = statistics.median(times_ms(partial(engine.step, image, 1, 0.01, transform), repeats)) / 1e3
        rows.append({"case": name, "ms_per_step": round(median * 1e3, 1), "steps_per_s": round(1 / median, 2)})
    report(
        f"{engine.info.name} on {engine.provider}",
        [("case", "case", ""), ("ms_per_step", "ms/step", ".1f"), ("steps_per_s", "steps/s", ".2f")],
        rows,
        args.json,
        provider=engine.provider,
    )


if __name__ == "__main__":
    main()
