"""Cost of a mix model per step against a fixed-layer model of the same depth.

    python benchmarks/mix_cost.py --fixed models/inception_mixed3_mixed5.onnx --mix models/inception_mix_mixed5.onnx

Alternating blocks of steps at 224x224 and 480x640; medians; the ratio should be near 1.
"""

from __future__ import annotations

import argparse
import statistics
from functools import partial

import numpy as np
from timing import times_ms

from realtime.dream.engine import Engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", required=True)
    parser.add_argument("--mix", required=True)
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    fixed, mix = Engine(args.fixed, "cpu"), Engine(args.mix, "cpu")
    print(f"fixed {fixed.info.objective} vs mix {','.join(mix.info.mix_layers)}")
    for h, w in [(224, 224), (480, 640)]:
        image = np.random.default_rng(0).uniform(-1, 1, (h, w, 3)).astype(np.float32)
        a, b = [], []
        for _ in range(2):
            a += times_ms(partial(fixed.step, image, 1, 0.01), args.repeats)
            b += times_ms(partial(mix.step, image, 1, 0.01), args.repeats)
        fa, fb = statistics.median(a), statistics.median(b)
        print(f"{h}x{w}: fixed {fa:.1f} ms, mix {fb:.1f} ms, ratio {fb / fa:.3f}")


if __name__ == "__main__":
    main()
