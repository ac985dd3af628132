"""Live-loop figures on the CPU: fps, where each frame's time goes, latency, and temporal stability.

    python benchmarks/live.py [--model M.onnx] [--clip ../shared/testdata/pan_coffee_320x240.mp4] [--json out.json]

1. fps, share of time in capture / flow / dream / display (a list sink stands in for the window)
   and capture-to-display latency p50/p95, for 320x240 and 640x360 at 1 step per frame, running
   the real threaded loop on the clip played at its frame rate.
2. Warping error (Ruder et al. 2016): every clip frame dreamed in order; output frame t-1 warped by
   the *source's* optical flow onto frame t; mean absolute difference over unoccluded pixels, for
   the output divided by the same for the source. 1.0 is as steady as the camera; flow on and off.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from realtime.dream.engine import Engine
from realtime.dream.flow import Flow, warp
from realtime.show.loop import run
from realtime.show.show import Show
from realtime.media.sinks import ListSink
from realtime.media.sources import CaptureSource, Latest
from realtime.dream.model import DEFAULT_MODEL
from realtime.dream.stream import DreamStream, StreamSettings


class CountingSink(ListSink):
    def write(self, frame):
        self.frames.append(None)


def loop_figures(engine, clip, size, frames):
    stream = DreamStream([engine], StreamSettings(size=size))
    stats = run(Latest(CaptureSource(clip, loop=True)), Show(stream), [CountingSink()], max_frames=frames)
    s = stats.summary(stream)
    return {"size": f"{size[0]}x{size[1]}", "fps": round(s["fps"], 2), "ms_per_step": round(s["ms_per_step"], 1),
            "latency_p50_ms": round(s["latency_ms"]["p50"], 1), "latency_p95_ms": round(s["latency_ms"]["p95"], 1),
            "share": {k: round(v, 3) for k, v in s["share"].items()}}


def read_clip(clip, size):
    cap, frames = cv2.VideoCapture(clip), []
    while True:
        ok, bgr = cap.read()
        if not ok:
            return frames
        frames.append(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size, interpolation=cv2.INTER_AREA))


def warping_error(frames, outputs, flow):
    errs = []
    for t in range(1, len(frames)):
        motion = flow.between(frames[t - 1], frames[t])
        keep = ~motion.occluded
        warped = warp(outputs[t - 1].astype(np.float32), motion.backward)
        errs.append(np.abs(warped - outputs[t].astype(np.float32))[keep].mean())
    return float(np.mean(errs))


def stability(engine, clip, size, flow_mode):
    frames = read_clip(clip, size)
    stream = DreamStream([engine], StreamSettings(size=size, flow=flow_mode))
    outputs = [stream(f) for f in frames]
    checker = Flow("dis")
    return warping_error(frames, outputs, checker) / warping_error(frames, frames, checker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--clip", default=str(Path("..") / "shared" / "testdata" / "pan_coffee_320x240.mp4"))
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--json")
    args = parser.parse_args()
    engine = Engine(args.model, "cpu")
    rows = [loop_figures(engine, args.clip, size, args.frames) for size in [(320, 240), (640, 360)]]
    print(f"{engine.info.name} on {engine.provider}, 1 step per frame")
    print(f"{'size':>8} {'fps':>5} {'ms/step':>8} {'p50 ms':>7} {'p95 ms':>7}  share capture/flow/dream/display")
    for r in rows:
        sh = r["share"]
        print(f"{r['size']:>8} {r['fps']:>5.2f} {r['ms_per_step']:>8.1f} {r['latency_p50_ms']:>7.1f} "
              f"{r['latency_p95_ms']:>7.1f}  {sh['capture']:.3f}/{sh['flow']:.3f}/{sh['dream']:.3f}/{sh['display']:.3f}")
    ratios = {mode: round(stability(engine, args.clip, (320, 240), mode), 3) for mode in ("dis", "off")}
    print(f"warping error ratio (output / source, 320x240, whole clip): flow on {ratios['dis']}, "
          f"flow off {ratios['off']}")
    result = {"loop": rows, "warping_error_ratio": ratios}
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
