"""What the display path takes from the dream, measured in one process: its work on and off in turn.

    python benchmarks/display_cost.py [--model M.onnx] [--clip CLIP] [--seconds 60] [--window 5]
                                      [--provider cpu|cuda] [--json out.json]

The asynchronous loop runs on the clip as `live` runs it (benchmarks/live.py: 320x240 shown at
640x480, 640x360 shown at 1280x720, 1 step per frame), but the display path does its work (flow,
carry, compose) only in every other `--window` seconds; in the others it only scales the camera
frame for the dream worker and shows that. The dream's mean step time in the two kinds of window
gives the share of the dream rate the display path takes (the issue's "at most 15 %") without
comparing runs made in turn, which these VMs' drift (20-40 % within minutes) makes coarse: drift
over a run largely cancels. What it leaves out: capture, scaling the camera to the processing size
and the sinks (they run in both kinds of window), the worker's own time per dream besides the
step, and any difference between the engine options beside the display and `--sync`'s
(benchmarks/live_rounds.py sees all of it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from live import SIZES, run_beside
from timing import MODEL_HELP, model_or_exit

from realtime.dream.chain import Chain
from realtime.dream.engine import Engine
from realtime.dream.reproject import fit
from realtime.errors import UserError
from realtime.files import check_writable, write_atomic
from realtime.run.display import DisplayPath
from realtime.run.live_mode import beside_display
from realtime.run.system import keep_freed_memory, lowered


class Alternating(DisplayPath):
    """The display path, working in every other window of `window` seconds; idle in the others."""

    def __init__(self, *args, window: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.window, self.started = window, time.monotonic()

    def window_of(self, at: float) -> int:
        """The number of the window `at` (time.monotonic()) falls in; even ones work."""
        return int((at - self.started) // self.window)

    def frame(self, image, flow="dis", update=None):
        if self.window_of(time.monotonic()) % 2 == 0:
            return super().frame(image, flow, update)
        self.prev = self.motion = None  # the next working window measures its flow afresh
        self.chain = Chain()
        proc = fit(image, self.processing)
        return proc, proc


class TimedSteps:
    """An engine whose steps are timed: (start, end) in time.monotonic()."""

    def __init__(self, engine):
        self.engine, self.steps = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def step(self, *args, **kwargs):
        t0 = time.monotonic()
        out = self.engine.step(*args, **kwargs)
        self.steps.append((t0, time.monotonic()))
        return out


def measure(engine, clip: str, size, display, seconds: float, window: float) -> dict:
    timed, path = TimedSteps(engine), Alternating(size, display, 4, window=window)
    fps = cv2.VideoCapture(clip).get(cv2.CAP_PROP_FPS) or 30.0  # the clip plays at its own rate
    run_beside(timed, clip, size, display, int(seconds * fps), path=path)
    kinds: dict[bool, list[float]] = {True: [], False: []}
    for t0, t1 in timed.steps[2:]:  # the first steps at a new size include onnxruntime's set-up
        if path.window_of(t0) == path.window_of(t1):  # a step across a switch counts in neither
            kinds[path.window_of(t0) % 2 == 0].append(t1 - t0)
    if min(len(k) for k in kinds.values()) < 3:
        raise UserError(
            f"too few whole steps in the {window:g} s windows at {size[0]}x{size[1]} "
            f"({len(kinds[True])} with the display path, {len(kinds[False])} without): "
            "give a longer --window or --seconds"
        )
    on, off = (float(np.mean(kinds[k])) for k in (True, False))
    return {
        "size": f"{size[0]}x{size[1]}",
        "display": f"{display[0]}x{display[1]}",
        "step_ms_display_on": round(on * 1e3, 1),
        "step_ms_display_off": round(off * 1e3, 1),
        "dream_rate_kept": round(off / on, 3),
        "steps": [len(kinds[True]), len(kinds[False])],
    }


def figures(args) -> list[dict]:
    engine = lowered(lambda below: Engine(args.model, args.provider, **beside_display(below)))  # as `live` builds it
    rows = []
    for size, display in SIZES:
        r = measure(engine, args.clip, size, display, args.seconds, args.window)
        rows.append(r)
        print(
            f"{r['size']:>8} shown at {r['display']}: step {r['step_ms_display_on']:.1f} ms with the display path, "
            f"{r['step_ms_display_off']:.1f} without: the dream keeps {r['dream_rate_kept']:.0%} of its rate "
            f"(display path takes {1 - r['dream_rate_kept']:.0%}; {r['steps'][0]}/{r['steps'][1]} steps)"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument(
        "--clip", default=str(Path(__file__).resolve().parent.parent / "tests" / "data" / "pan_coffee_320x240.mp4")
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="per size")
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--provider", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--json")
    args = parser.parse_args()
    args.model = model_or_exit(args.model)
    for name in ("seconds", "window"):
        value = getattr(args, name)
        if not np.isfinite(value) or value <= 0:
            parser.error(f"--{name} must be a positive number of seconds, got {value}")
    if args.seconds < 4 * args.window:
        parser.error(f"--seconds ({args.seconds:g}) must hold at least 4 windows of --window ({args.window:g})")
    if not Path(args.clip).is_file():
        parser.error(f"--clip: no file {args.clip}")
    try:
        if args.json:
            check_writable(Path(args.json))  # before the run, not after it
        keep_freed_memory()  # as `live` does
        rows = figures(args)
        if args.json:
            write_atomic(Path(args.json), json.dumps(rows, indent=2, allow_nan=False).encode())
    except UserError as exc:  # a missing or foreign model, an unavailable provider, an unwritable --json: one line
        sys.exit(f"display_cost.py: {exc}")


if __name__ == "__main__":
    main()
