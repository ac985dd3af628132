"""How steady `live --seed` dreams on panning clips: the warping error ratio and the dream's strength.

    python benchmarks/stability.py [--model M.onnx] [--clips A.mp4 B.mp4 ...] [--frames 60] [--size 320x240]
                                   [--speed] [--json out.json]

Per clip, one `deepdream live --seed 0 --headless --steps-per-frame 1` run (the default feedback, flow and step
size) records the kept video (H.264, `--record`) and pipes the same frames before encoding (`--pipe`'s raw RGB).
For each of the two: `ratio`, the warping error of Ruder et al. 2016 (output frame t-1 warped by the *source's*
optical flow, DIS medium preset, onto frame t; the mean absolute difference where the warp lands inside the
frame, over all t) divided by the same on the source, so 1.0 flickers no more than the camera; and `dream`,
the mean absolute difference from the source in grey levels (how strongly it dreams). `--speed` also times
the stream in this process over the clip (ms per frame: flow and carrying, dreaming), as `live --seed` runs
it; run it at each version in turn, alternating, since these machines drift. Figures:
docs/benchmarks/stability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from timing import MODEL_HELP, model_or_exit

ROOT = Path(__file__).resolve().parents[1]
CLIPS = (ROOT.parent / "shared/testdata/pan_rocket_320x240.mp4", ROOT / "tests/data/pan_coffee_320x240.mp4")


def read(path: Path, count: int) -> list[np.ndarray]:
    """The first `count` frames of a video, BGR uint8."""
    capture, frames = cv2.VideoCapture(str(path)), []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    return frames


def warp_errors(source: list[np.ndarray], output: list[np.ndarray]) -> tuple[float, float]:
    """(the output's mean warping error, the source's), both along the source's flow, in grey levels."""
    h, w = output[0].shape[:2]
    source = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in source]
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    errors: dict[int, list[float]] = {0: [], 1: []}
    for t in range(1, min(len(source), len(output))):
        gray = [cv2.cvtColor(source[i], cv2.COLOR_BGR2GRAY) for i in (t, t - 1)]
        flow = dis.calc(gray[0], gray[1], None)  # for each pixel of t, where it was in t-1
        for key, seq in enumerate((output, source)):
            moved = cv2.remap(
                seq[t - 1].astype(np.float32), gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT, borderValue=-1,
            )  # fmt: skip
            inside = moved[..., 0] >= 0
            errors[key].append(float(np.abs(seq[t].astype(np.float32) - moved)[inside].mean()))
    return float(np.mean(errors[0])), float(np.mean(errors[1]))


def judge(source: list[np.ndarray], output: list[np.ndarray]) -> dict[str, float]:
    n = min(len(source), len(output))
    ours, camera = warp_errors(source[:n], output[:n])
    dream = np.mean([np.abs(o.astype(np.float32) - s.astype(np.float32)).mean() for o, s in zip(output, source)])
    return {"ratio": ours / max(camera, 1e-6), "dream": float(dream)}


def live_run(clip: Path, model: Path, size: str, frames: int, work: Path) -> tuple[list[np.ndarray], Path]:
    """(the frames before encoding, BGR; the kept video) of one seeded `live` run on the clip."""
    kept = work / f"{clip.stem}.mp4"
    command = [sys.executable, "-m", "realtime.cli", "live", "--seed", "0", "--source", str(clip), "--size", size]
    command += ["--steps-per-frame", "1", "--frames", str(frames), "--headless", "--pipe", "--record", str(kept)]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run([*command, "--model", str(model)], capture_output=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"live failed on {clip}: {done.stderr.decode(errors='replace').strip()[-500:]}")
    w, h = read(clip, 1)[0].shape[1::-1]  # --pipe sends the display size: the clip's own
    raw = np.frombuffer(done.stdout, np.uint8).reshape(-1, h, w, 3)
    return [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in raw], kept


def speed(clip: Path, model: Path, size: tuple[int, int], frames: int) -> dict[str, float]:
    """Median ms per frame of the stream over the clip (the first 5 frames left out: warm-up)."""
    from realtime.dream.engine import Engine
    from realtime.dream.settings import StreamSettings
    from realtime.dream.stream import DreamStream

    stream = DreamStream([Engine(model, "cpu", exact=True)], StreamSettings(size=size))
    flow, total = [], []
    for frame in read(clip, frames):
        t0 = time.perf_counter()
        stream(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        total.append((time.perf_counter() - t0) * 1e3)
        flow.append(stream.last["flow_s"] * 1e3)
    return {"ms_per_frame": float(np.median(total[5:])), "flow_ms": float(np.median(flow[5:]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--clips", nargs="+", type=Path, default=list(CLIPS))
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--speed", action="store_true", help="also time the stream per frame, in this process")
    ap.add_argument("--json")
    args = ap.parse_args()
    model = model_or_exit(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for clip in args.clips:
            if not clip.is_file():
                print(f"skipped {clip}: not found", file=sys.stderr)
                continue
            source = read(clip, args.frames)
            raw, kept = live_run(clip, model, args.size, args.frames, Path(work))
            row = {"clip": clip.name, "kept": judge(source, read(kept, args.frames)), "raw": judge(source, raw)}
            if args.speed:
                row["speed"] = speed(clip, model, tuple(int(v) for v in args.size.split("x")), args.frames)
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
