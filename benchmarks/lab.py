"""What docs/benchmarks/lab.md reports: dream strength against dose, and a real session's marker-to-flip offsets
and frame-interval jitter.

    python benchmarks/lab.py strength --model M.onnx --clip CLIP.mp4 [--size 320x240] [--frames 40]
    python benchmarks/lab.py session --model M.onnx --clip CLIP.mp4 [--size 320x240]   (root: a network namespace)

`strength`: the clip's frames dreamed at doses 0, 0.25, 0.5, 0.75 and 1 (the default scenes, live defaults), each
in its own stream; the mean absolute difference from the source (0..255 levels) over the frames after the first
10 (the feedback's warm-up). `session`: `deepdream experiment` on the clip (played at its rate, in a window on
SDL's dummy driver, with --lsl) inside `unshare --net` with loopback up, its streams read by real pylsl inlets
(tests/lsl_session.py); then |marker timestamp - the frame log's flip| (p50/p95/max, microseconds) and the
intervals between flips (mean, SD, p95 of |interval - 1/fps|, milliseconds). Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from lab_lsl import CONFIG  # liblsl's config: discovery on this machine only

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = (
    '[experiment]\ninstructions = ""\nrest = 1.0\n'
    '[[block]]\ndoses = [0, 0.5, 1]\nduration = 4.0\nrepeats = 2\norder = "random"\n'
)


def strength(model: Path, clip: Path, size: tuple[int, int], count: int) -> dict[str, float]:
    from realtime.dream.engine import Engine
    from realtime.dream.settings import StreamSettings
    from realtime.dream.stream import DreamStream

    frames = read(clip, size, count)
    out = {}
    for dose in (0.0, 0.25, 0.5, 0.75, 1.0):
        stream = DreamStream([Engine(model, "cpu", exact=True)], StreamSettings(size=size))
        stream.set("dose", dose)
        diffs = [np.abs(stream(f).astype(np.float32) - f).mean() for f in frames]
        out[f"{dose:g}"] = round(float(np.mean(diffs[10:])), 3)
    return out


def read(clip: Path, size: tuple[int, int], count: int) -> list[np.ndarray]:
    cap, frames = cv2.VideoCapture(str(clip)), []
    while len(frames) < count and (got := cap.read())[0]:
        frames.append(cv2.cvtColor(cv2.resize(got[1], size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    return frames


def session(model: Path, clip: Path, size: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "lsl_api.cfg").write_text(CONFIG)
        (work / "p.toml").write_text(PROTOCOL)
        argv = ["experiment", work / "p.toml", "--participant", "B01", "--source", clip, "--loop", "--model", model]
        argv += ["--size", size, "--output", work, "--lsl"]
        prefix = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
        env = {**os.environ, "LSLAPICFG": str(work / "lsl_api.cfg"), "SDL_VIDEODRIVER": "dummy"}
        run = [*prefix, sys.executable, str(ROOT / "tests" / "lsl_session.py"), *map(str, argv)]
        done = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
        streams = json.loads(done.stdout)["streams"]
        with open(work / "B01" / "ses-1" / "frames.tsv", newline="") as fh:
            log = list(csv.DictReader(fh, delimiter="\t"))
        fps = json.loads((work / "B01" / "ses-1" / "session.json").read_text())["fps"]
    flips = [float(row["flip_time"]) for row in log if row["marker"] != "n/a"]
    offsets = np.abs(np.array([stamp for _, stamp in streams["deepdream-markers"]]) - np.array(flips)) * 1e6
    intervals = np.diff([float(row["flip_time"]) for row in log]) * 1e3
    within = np.array([i for i, (a, b) in zip(intervals, zip(log, log[1:])) if a["trial"] == b["trial"] != "n/a"])
    return {
        "trial_interval_ms": {"sd": round(float(within.std()), 3), "max": round(float(within.max()), 3)},
        "trial_jitter_ms_p95": round(float(np.percentile(np.abs(within - 1e3 / fps), 95)), 3),
        "interval_ms_max": round(float(intervals.max()), 3),
        "markers": len(flips),
        "marker_minus_flip_us": {q: round(float(np.percentile(offsets, p)), 1) for q, p in (("p50", 50), ("p95", 95))},
        "marker_minus_flip_us_max": round(float(offsets.max()), 1),
        "frames": len(log),
        "interval_ms": {"mean": round(float(intervals.mean()), 3), "sd": round(float(intervals.std()), 3)},
        "jitter_ms_p95": round(float(np.percentile(np.abs(intervals - 1e3 / fps), 95)), 3),
        "fps": fps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("strength", "session"))
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    if args.what == "strength":
        w, h = map(int, args.size.split("x"))
        print(json.dumps(strength(args.model, args.clip, (w, h), args.frames)))
    else:
        print(json.dumps(session(args.model, args.clip, args.size)))


if __name__ == "__main__":
    main()
