"""Live-loop figures on the CPU, both modes side by side: rates, latency, where time goes, stability.

    python benchmarks/live.py [--model M.onnx] [--clip ../shared/testdata/pan_coffee_320x240.mp4]
                              [--only sync|async] [--record] [--frames N] [--provider cpu|cuda] [--json out.json]

1. For 320x240 shown at 640x480 and 640x360 shown at 1280x720, 1 step per frame, on the clip played
   at its frame rate: `--sync` (each frame waits for its dream: fps, latency) and the asynchronous
   mode (display fps, dream rate, latency, age of the dream on screen, dropped frames, the display
   path's ms per frame). A counting sink stands in for the window (`--record`: an MP4 as well).
2. Warping error (Ruder et al. 2016): output frame t-1 warped by the *source's* optical flow onto
   frame t; mean absolute difference over unoccluded pixels, output over source (1.0: as steady as
   the camera). Sync: every clip frame dreamed in order, flow on and off. Async: the clip played in
   real time at 320x240 (shown at 640x480), each source frame shown once, for --dream-fade 0, 2, 4.
The machine's speed drifts: compare modes in separate processes, alternating (`--only`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import cv2
import numpy as np
from timing import MODEL_HELP, model_or_exit

from realtime.dream.engine import Engine
from realtime.dream.flow import Flow, warp
from realtime.dream.reproject import fit
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sinks import ListSink, VideoSink
from realtime.media.sources import CaptureSource, Latest
from realtime.run.display import DisplayPath
from realtime.run.live_mode import beside_display
from realtime.run.loop import run
from realtime.run.steps import BesideDisplay
from realtime.run.system import keep_freed_memory, lowered
from realtime.run.worker import DreamWorker, StreamProxy
from realtime.steer.show import Show

SIZES = [((320, 240), (640, 480)), ((640, 360), (1280, 720))]


class CountingSink(ListSink):
    def write(self, frame):
        self.frames.append(None)


def sinks(record: bool, fps: float, size) -> list:
    if not record:
        return [CountingSink()]
    return [CountingSink(), VideoSink(Path(tempfile.mkdtemp()) / "bench.mp4", fps, size)]


def sync_figures(engine, clip, size, frames, record):
    stream = DreamStream([engine], StreamSettings(size=size))
    show = Show(stream)
    reader = Latest(CaptureSource(clip, loop=True))
    s = run(reader, show, sinks(record, 30.0, size), max_frames=frames).summary(show)
    reader.close()
    return {
        "mode": "sync",
        "size": f"{size[0]}x{size[1]}",
        "fps": round(s["fps"], 2),
        "ms_per_step": round(s["ms_per_step"], 1),
        "latency_p50_ms": round(s["latency_ms"]["p50"], 1),
        "latency_p95_ms": round(s["latency_ms"]["p95"], 1),
    }


def run_beside(engine, clip, size, display, frames, fade=4, record=False, loop=True, keep=None, path=None):
    """`path`: the display path to use (benchmarks/display_cost.py's), else a DisplayPath as `live` makes it."""
    stream = DreamStream([engine], StreamSettings(size=size))
    proxy = StreamProxy(stream)
    show = Show(proxy)
    source = CaptureSource(clip, loop=loop)
    reader = Latest(source)
    outs = sinks(record, source.fps, display) + ([keep] if keep is not None else [])
    indices = []
    path = DisplayPath(size, display, fade) if path is None else path
    stats = run(
        reader,
        show,
        outs,
        max_frames=frames,
        frame_log=lambda frame, *_: indices.append(frame.index),
        fps=source.fps,
        step=BesideDisplay(DreamWorker(stream, proxy), path),
    )
    reader.close()
    return stats.summary(show), indices


def async_figures(engine, clip, size, display, frames, record):
    s, _ = run_beside(engine, clip, size, display, frames, record=record)
    return {
        "mode": "async",
        "size": f"{size[0]}x{size[1]}",
        "display": f"{display[0]}x{display[1]}",
        "display_fps": round(s["display_fps"], 2),
        "dream_hz": round(s["dream_hz"], 2),
        "ms_per_step": round(s["ms_per_step"], 1),
        "latency_p50_ms": round(s["latency_ms"]["p50"], 1),
        "latency_p95_ms": round(s["latency_ms"]["p95"], 1),
        "age_p50_ms": round(s["dream_age_ms"]["p50"], 1),
        "age_p95_ms": round(s["dream_age_ms"]["p95"], 1),
        "dropped": s["dropped_frames"],
        "display_ms": s["display_ms"],
        "worker": {k: round(v, 3) for k, v in s["worker"].items()},
    }


def read_clip(clip, size):
    cap, frames = cv2.VideoCapture(clip), []
    while True:
        ok, bgr = cap.read()
        if not ok:
            return frames
        frames.append(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size, interpolation=cv2.INTER_AREA))


def warping_error(frames, outputs, flow, pairs=None, worst=False):
    """Mean over frame pairs; `worst`: the 95th percentile of pairs instead (a pop shows there)."""
    errs = []
    for t in pairs if pairs is not None else range(1, len(frames)):
        motion = flow.between(frames[t - 1], frames[t])
        keep = ~motion.occluded
        warped = warp(outputs[t - 1].astype(np.float32), motion.backward)
        errs.append(np.abs(warped - outputs[t].astype(np.float32))[keep].mean())
    return float(np.percentile(errs, 95) if worst else np.mean(errs))


def stability(engine, clip, size, flow_mode):
    frames = read_clip(clip, size)
    stream = DreamStream([engine], StreamSettings(size=size, flow=flow_mode))
    outputs = [stream(f) for f in frames]
    checker = Flow("dis")
    return warping_error(frames, outputs, checker) / warping_error(frames, frames, checker)


def async_stability(engine, clip, fade, size=(320, 240), display=(640, 480)):
    """The clip once, in real time; pairs of consecutive source frames both shown (a dropped one breaks a pair)."""
    kept = ListSink()
    _, indices = run_beside(engine, clip, size, display, 0, fade=fade, loop=False, keep=kept)
    cap = cv2.VideoCapture(clip)
    native = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    source = [fit(f, display) for f in read_clip(clip, native)]  # scaled up as the display path does
    frames, outputs = [source[i] for i in indices], kept.frames
    pairs = [t for t in range(1, len(indices)) if indices[t] == indices[t - 1] + 1]
    checker = Flow("dis")
    return tuple(
        warping_error(frames, outputs, checker, pairs, worst) / warping_error(frames, frames, checker, pairs, worst)
        for worst in (False, True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--clip", default=str(Path("..") / "shared" / "testdata" / "pan_coffee_320x240.mp4"))
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--only", choices=("sync", "async"))
    parser.add_argument("--record", action="store_true", help="also record an MP4 at the display size")
    parser.add_argument("--no-stability", action="store_true")
    parser.add_argument("--provider", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--json")
    args = parser.parse_args()
    args.model = model_or_exit(args.model)
    keep_freed_memory()  # as `live` does, in both modes
    engine = Engine(args.model, args.provider)
    beside = lowered(
        lambda below: Engine(args.model, args.provider, **beside_display(below))
    )  # as `live` builds it without --sync
    print(f"{engine.info.name} on {engine.provider}, 1 step per frame, clip {Path(args.clip).name}")
    result = {"loop": []}
    for size, display in SIZES:
        if args.only != "async":
            r = sync_figures(engine, args.clip, size, args.frames, args.record)
            print(
                f"sync  {r['size']:>8}: {r['fps']:5.2f} fps, {r['ms_per_step']:6.1f} ms/step, latency p50 "
                f"{r['latency_p50_ms']:.0f} p95 {r['latency_p95_ms']:.0f} ms"
            )
            result["loop"].append(r)
        if args.only != "sync":
            r = async_figures(beside, args.clip, size, display, args.frames, args.record)
            print(
                f"async {r['size']:>8} shown at {r['display']}: {r['display_fps']:5.2f} fps shown, "
                f"{r['dream_hz']:5.2f} dreams/s, {r['ms_per_step']:6.1f} ms/step, "
                f"latency p50 {r['latency_p50_ms']:.0f} "
                f"p95 {r['latency_p95_ms']:.0f} ms, dream age p50 {r['age_p50_ms']:.0f} p95 {r['age_p95_ms']:.0f} ms, "
                f"{r['dropped']} dropped, display path {r['display_ms']}"
            )
            result["loop"].append(r)
    if not args.no_stability:
        if args.only != "async":
            result["warping_error_ratio_sync"] = {
                m: round(stability(engine, args.clip, (320, 240), m), 3) for m in ("dis", "off")
            }
        if args.only != "sync":
            result["warping_error_ratio_async"] = {
                f"fade {n}": [round(r, 3) for r in async_stability(beside, args.clip, n)] for n in (0, 2, 4)
            }  # mean, 95th percentile of frame pairs
        print("warping error ratio (output / source):", {k: v for k, v in result.items() if k != "loop"})
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
