"""The GPU machine's figures and CUDA-only checks, in one prepared run that installs nothing.

    python benchmarks/gpu.py [--model M.onnx] [--fp16-model M16.onnx] [--json gpu.json]
    python benchmarks/gpu.py --provider cpu --sizes 160x120 --live-size 160x120 --live-display 320x240 \\
        --live-frames 30 --repeats 2                                  # the script itself, tried on a CPU

1. Checks (CUDA's; on the CPU they run without graphs; each a line PASS/FAIL, the exit status non-zero
   if one fails): bound steps
   with CUDA graphs give plain runs' numbers (4 steps, max |diff| <= 1e-3); a new step size after
   the capture takes effect; two sizes are captured apart; the float16 model's gradient agrees with
   float32's (cosine >= 0.999) and a 20-step still stays close (PSNR printed).
2. Steps: for each size, ms per step for fp32 and fp16, plain runs and CUDA graphs, 1 and 4 steps a
   call (median of --repeats calls after two warm-ups), and this process's device memory after
   each size (nvidia-smi).
3. Live beside the display: a 60 fps clip at --live-display made here (PyAV where installed, else
   OpenCV), looped, dreamed at --live-size with --steps-per-frame 2 as `deepdream live` does it (the
   dream worker beside the display path): display fps, dreams/s, latency p50/p95, dropped frames,
   the display path's ms a frame.
One JSON (--json) and a printed table.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

from realtime.commands.live_async import beside_display
from realtime.dream.engine import Engine
from realtime.dream.runtime import build, choose_provider
from realtime.dream.settings import StreamSettings
from realtime.dream.stream import DreamStream
from realtime.media.sinks import ListSink
from realtime.media.sources import CaptureSource, Latest
from realtime.show.async_loop import run_async
from realtime.show.display import DisplayPath
from realtime.show.show import Show
from realtime.show.system import keep_freed_memory, lowered
from realtime.show.worker import DreamWorker, StreamProxy
from timing import MODEL_HELP, model_or_exit


def size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def device_mib() -> float | None:
    """This process's memory on the GPU, as nvidia-smi reports it (None without nvidia-smi)."""
    import os

    if shutil.which("nvidia-smi") is None:
        return None
    out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True).stdout
    mine = [float(line.split(",")[1]) for line in out.splitlines() if line.split(",")[0].strip() == str(os.getpid())]
    return sum(mine) if mine else 0.0


def ms_per_step(engine: Engine, wh: tuple[int, int], steps: int, repeats: int) -> float:
    image = np.random.default_rng(0).uniform(-1, 1, (wh[1], wh[0], 3)).astype(np.float32)
    for _ in range(2):  # warm-up: allocation, cuDNN's algorithm search, the graph's capture
        engine.step(image, steps, 0.02)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine.step(image, steps, 0.02)
        times.append(time.perf_counter() - start)
    return median(times) * 1e3 / steps


def step_figures(models: dict, provider: str, sizes, repeats: int) -> list[dict]:
    rows = []
    for wh in sizes:
        for precision, path in models.items():
            for graphs in (False, True):
                engine = Engine(path, provider, graphs=graphs)
                if graphs and not engine.stepper.graphs:
                    continue  # no CUDA here: the row would time plain runs again
                ms = {f"ms_{n}_steps": round(ms_per_step(engine, wh, n, repeats), 2) for n in (1, 4)}
                # read after the steps: a capture refused on the first run falls back to plain runs
                row = {"size": f"{wh[0]}x{wh[1]}", "precision": precision, "graphs_asked": graphs,
                       "graphs": engine.stepper.graphs, **ms, "device_mib": device_mib()}
                kind = "graph" if row["graphs"] else "plain (graphs refused)" if graphs else "plain"
                print(f"{row['size']:>9} {precision} {kind}: "
                      f"{row['ms_1_steps']:7.2f} ms/step (1 a call), {row['ms_4_steps']:7.2f} (4 a call), "
                      f"device {row['device_mib']} MiB", flush=True)
                rows.append(row)
                del engine
    return rows


def checks(model: Path, fp16: Path | None, provider: str) -> list[dict]:
    """The CUDA-only tests: graphs give plain runs' numbers, step sizes and sizes are kept apart, fp16 agrees."""
    results = []

    def check(name: str, ok: bool, detail: str) -> None:
        results.append({"check": name, "ok": bool(ok), "detail": detail})
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    rng = np.random.default_rng(3)
    image = rng.uniform(-1, 1, (360, 640, 3)).astype(np.float32)
    graph, plain = Engine(model, provider, graphs=True), Engine(model, provider, graphs=False)
    diff = float(np.abs(graph.step(image, 4, 0.02) - plain.step(image, 4, 0.02)).max())
    check("graph steps = plain steps", diff <= 1e-3,
          f"4 steps at 640x360, max |diff| {diff:.2e}, graphs captured: {graph.stepper.graphs}")
    moved = [float(np.abs(graph.step(image, 1, s) - plain.step(image, 1, s)).max()) for s in (0.01, 0.05)]
    apart = float(np.abs(graph.step(image, 1, 0.01) - graph.step(image, 1, 0.05)).max())
    check("a new step size reaches a captured graph", max(moved) <= 1e-3 and apart > 1e-3,
          f"max |diff| against plain {max(moved):.2e}; 0.01 vs 0.05 differ by {apart:.3f}")
    small = rng.uniform(-1, 1, (240, 320, 3)).astype(np.float32)
    diff = float(np.abs(graph.step(small, 2, 0.02) - plain.step(small, 2, 0.02)).max())
    check("a second size is captured apart", diff <= 1e-3 and graph.step(image, 1, 0.02).shape == image.shape,
          f"320x240 after 640x360: max |diff| {diff:.2e}")
    if fp16 is not None:
        half = Engine(fp16, provider)
        g32, g16 = (e.gradient(image).astype(np.float64).ravel() for e in (plain, half))
        cosine = float(g32 @ g16 / (np.linalg.norm(g32) * np.linalg.norm(g16)))
        check("fp16 gradient agrees with fp32", cosine >= 0.999, f"cosine {cosine:.5f} at 640x360")
        a, b = (e.step(image, 20, 0.01) for e in (plain, half))
        psnr = float(10 * np.log10(4.0 / max(np.mean((a - b) ** 2), 1e-12)))  # images in [-1, 1]: peak 2
        results.append({"check": "fp16 20-step still PSNR", "ok": True, "detail": f"{psnr:.1f} dB against fp32"})
        print(f"INFO fp16 20-step still: PSNR {psnr:.1f} dB against fp32", flush=True)
    return results


def make_clip(path: Path, wh: tuple[int, int], seconds: float = 4.0, fps: int = 60) -> Path:
    """A panning texture at 60 fps (PyAV's H.264 where installed, else OpenCV's MPEG-4)."""
    import cv2

    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.integers(0, 255, (wh[1] + 64, wh[0] * 2, 3), dtype=np.uint8), (0, 0), 4)
    shift = [(6 * i) % wh[0] for i in range(int(seconds * fps))]  # 6 px a frame to the right, round again
    frames = (big[32:32 + wh[1], s:s + wh[0]] for s in shift)
    try:
        import av

        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=fps, options={"crf": "23", "preset": "veryfast"})
            stream.width, stream.height, stream.pix_fmt = *wh, "yuv420p"
            for i, frame in enumerate(frames):
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                picture.pts = i
                out.mux(stream.encode(picture))
            out.mux(stream.encode(None))
    except ImportError:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, wh)
        for frame in frames:
            writer.write(frame)
        writer.release()
    return path


def live_figures(model: Path, provider: str, clip: Path, processing, display, frames: int) -> dict:
    """`deepdream live --size P --display-size D --steps-per-frame 2` beside the display, on the clip, looped."""
    engine = lowered(lambda below: Engine(model, provider, **beside_display(below)))
    stream = DreamStream([engine], StreamSettings(size=processing, steps_per_frame=2))
    proxy = StreamProxy(stream)
    source = CaptureSource(str(clip), loop=True)
    reader = Latest(source)

    class Counting(ListSink):
        def write(self, frame):
            self.frames.append(None)

    stats = run_async(reader, Show(proxy), DreamWorker(stream, proxy), DisplayPath(processing, display, 4),
                      [Counting()], max_frames=frames, fps=source.fps)
    reader.close()
    s = stats.summary(Show(proxy))
    return {"size": f"{processing[0]}x{processing[1]}", "display": f"{display[0]}x{display[1]}",
            "source_fps": source.fps, "display_fps": round(s["display_fps"], 2), "dream_hz": round(s["dream_hz"], 2),
            "latency_ms": s["latency_ms"], "dream_age_ms": s["dream_age_ms"], "dropped_frames": s["dropped_frames"],
            "display_ms": s["display_ms"], "provider": s["provider"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--fp16-model", help="the same objective exported with --precision fp16 (optional)")
    parser.add_argument("--provider", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--sizes", nargs="+", type=size, default=[(640, 360), (1280, 720), (1920, 1080)])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--live-size", type=size, default=(1280, 720))
    parser.add_argument("--live-display", type=size, default=(1920, 1080))
    parser.add_argument("--live-frames", type=int, default=600)
    parser.add_argument("--json")
    args = parser.parse_args()
    model = model_or_exit(args.model)
    fp16 = Path(args.fp16_model) if args.fp16_model else None
    provider = choose_provider(args.provider)
    keep_freed_memory()
    result = {"onnxruntime": build(), "provider": provider}
    print(f"{build()} on {provider}; model {model.name}" + (f", fp16 {fp16.name}" if fp16 else ""), flush=True)
    result["checks"] = checks(model, fp16, provider)  # on the CPU they run too, but there is no graph to test
    models = {"fp32": model, **({"fp16": fp16} if fp16 else {})}
    result["steps"] = step_figures(models, provider, args.sizes, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", args.live_display)
        result["live"] = live_figures(model, provider, clip, args.live_size, args.live_display, args.live_frames)
    live = result["live"]
    print(f"live {live['size']} shown at {live['display']} from a {live['source_fps']:.0f} fps clip, 2 steps a frame: "
          f"{live['display_fps']} fps shown, {live['dream_hz']} dreams/s, latency p50 {live['latency_ms']['p50']:.0f} "
          f"p95 {live['latency_ms']['p95']:.0f} ms, {live['dropped_frames']} dropped, display path "
          f"{live['display_ms']['total']} ms", flush=True)
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(c["ok"] for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
