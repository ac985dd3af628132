"""Shared timing for the benchmark scripts: one warm-up call, then wall-clock milliseconds per call."""
from __future__ import annotations

import time


def times_ms(fn, repeats: int) -> list[float]:
    fn()  # warm-up: first runs allocate and plan
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out
