"""What work on the display's thread costs the dream on this machine: the display path's budget.

    python benchmarks/display_budget.py [--model M.onnx] [--size 640x360] [--ms 3,5,8] [--blocks 10]
                                        [--steps 3] [--provider cpu|cuda]

The dream steps as `live` runs it beside the display (realtime.run.live_mode.beside_display,
at the lower priority) while a thread at the display's priority does a fixed amount of
single-threaded OpenCV work 30 times a second: none, then each of `--ms` milliseconds of it
(calibrated alone; beside the dream the same work takes longer, and what it took is printed), in
turn, `--blocks` times, in one process (these VMs drift too much for runs in turn to show a few per
cent). For each amount: the CPU it took per frame, its share of all cores, and the share of its
rate the dream keeps: read against the display path's own time per frame (benchmarks/live.py's
`display_ms`), it says how much a cheaper display path would give back on this machine.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time

import cv2
import numpy as np
from timing import MODEL_HELP, model_or_exit
from tqdm import tqdm

from realtime.dream.engine import Engine
from realtime.dream.settings import StreamSettings
from realtime.errors import UserError
from realtime.run.live_mode import beside_display
from realtime.run.system import keep_freed_memory, lower_this_thread, lowered

FPS = 30.0


class Load:
    """A thread at the caller's priority doing `ms` of work per 1/FPS s; `cpu` collects its CPU seconds per frame."""

    def __init__(self, amounts):
        self.ms, self.stop, self.cpu = 0.0, False, {ms: [] for ms in amounts}
        self._image = np.random.default_rng(1).integers(0, 255, (90, 1280, 3), np.uint8)
        self._per = self._calibrate()
        threading.Thread(target=self._run, daemon=True).start()

    def _unit(self) -> None:
        cv2.GaussianBlur(self._image, (5, 5), 0)

    def _calibrate(self) -> float:
        for _ in range(50):
            self._unit()
        t0 = time.perf_counter()
        for _ in range(200):
            self._unit()
        return (time.perf_counter() - t0) / 200

    def _run(self) -> None:
        due = time.perf_counter()
        while not self.stop:
            due += 1 / FPS
            ms, c0 = self.ms, time.thread_time()
            for _ in range(round(ms / 1e3 / self._per)):
                self._unit()
            self.cpu[ms].append(time.thread_time() - c0)
            time.sleep(max(0.0, due - time.perf_counter()))


def steps(engine, image, n: int) -> list[float]:
    """`n` timed steps (after one untimed) on a lowered thread, as the dream worker runs them; what
    stopped them is raised here."""
    times: list[float] = []
    failed: list[BaseException] = []

    def run():
        try:
            lower_this_thread()
            engine.step(image, 1)
            for _ in range(n):
                t0 = time.perf_counter()
                engine.step(image, 1)
                times.append(time.perf_counter() - t0)
        except BaseException as exc:  # handed to the caller, which reports it in one line
            failed.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failed:
        raise failed[0]
    return times


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--size", default="640x360", help="the dream's processing size, WxH")
    parser.add_argument("--ms", default="3,5,8", help="milliseconds of work per frame, comma-separated")
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per block")
    parser.add_argument("--provider", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args(argv)
    args.model = model_or_exit(args.model)
    try:
        args.size = StreamSettings(size=args.size).size  # the processing size's own check (realtime.dream.params)
    except ValueError as exc:
        parser.error(f"--{exc}")
    try:
        args.ms = [float(v) for v in args.ms.split(",")]
    except ValueError:
        parser.error(f"--ms must be comma-separated numbers of milliseconds, got {args.ms!r}")
    if not all(math.isfinite(v) and 0.5 <= v < 1e3 / FPS for v in args.ms) or len(set(args.ms)) != len(args.ms):
        parser.error(f"--ms: each amount once, 0.5 ms up to a frame ({1e3 / FPS:.1f} ms), got {args.ms}")
    for name in ("blocks", "steps"):
        if not 1 <= getattr(args, name) <= 1000:
            parser.error(f"--{name} must be 1..1000, got {getattr(args, name)}")
    return args


def main() -> None:
    args = parse()
    amounts = [0.0, *args.ms]
    try:
        keep_freed_memory()  # as `live` does
        engine = lowered(lambda below: Engine(args.model, args.provider, **beside_display(below)))
    except UserError as exc:  # a missing or foreign model, an unavailable provider: one line
        sys.exit(f"display_budget.py: {exc}")
    w, h = args.size
    image = np.random.default_rng(0).uniform(-1, 1, (h, w, 3)).astype(np.float32)
    load, took = Load(amounts), {ms: [] for ms in amounts}
    try:
        for _ in tqdm(range(args.blocks), desc="alternated blocks", unit="block"):
            for ms in amounts:
                load.ms = ms
                took[ms] += steps(engine, image, args.steps)
    except Exception as exc:  # a step that failed (onnxruntime's own errors derive from Exception only): one line
        sys.exit(
            f"display_budget.py: a step failed at {w}x{h}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        )
    finally:
        load.stop = True
    alone, cores = np.median(took[0.0]), os.cpu_count() or 1
    print(
        f"{engine.provider}, {w}x{h}, {cores} cores: a step takes {alone * 1e3:.0f} ms with the display's thread idle"
    )
    for ms in args.ms:
        cpu = float(np.mean(load.cpu[ms]))
        print(
            f"{ms:5.1f} ms of work a frame ({cpu * 1e3:.1f} ms of CPU beside the dream, {cpu * FPS / cores:.1%} of "
            f"the cores): a step {np.median(took[ms]) * 1e3:.0f} ms, the dream keeps {alone / np.median(took[ms]):.0%}"
        )


if __name__ == "__main__":
    main()
