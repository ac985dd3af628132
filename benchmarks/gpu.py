"""The GPU machine's figures and CUDA-only checks, in one prepared run that installs nothing.

    python benchmarks/gpu.py [--model M.onnx] [--fp16-model M16.onnx] [--json gpu.json]
    python benchmarks/gpu.py --provider cpu --sizes 160x120 --check-size 160x120 --live-size 160x120 \\
        --live-display 320x240 --live-frames 30 --repeats 2           # the script itself, tried on a CPU

1. Checks (each a line PASS/FAIL, the exit status 1 if one fails): bound steps with CUDA graphs give
   plain runs' numbers (4 steps, max |diff| <= 1e-3; a refused capture is named); a new step size
   after the capture takes effect; two sizes are captured apart; the float16 model's gradient agrees
   with float32's (cosine >= 0.999) and a 20-step still stays close (PSNR printed).
2. Steps: for each size, after a warm-up step there, ms per step for fp32 and fp16, plain runs and
   CUDA graphs, 1 and 4 steps a call (median of --repeats calls after two warm-ups). Each row records
   the provider it ran on, whether graphs were captured or refused (and why), the device memory
   (nvidia-smi: this process, else the whole GPU where a container hides the pid), and for plain
   runs the gradient's cosine with the float32 model's on the CPU (a check: >= 0.999, which TF32
   or float16 must meet).
3. Live beside the display: a 60 fps clip at --live-display made here, looped, dreamed at --live-size
   with --steps-per-frame 2 as `deepdream live` does it, after a warm-up step outside the measured
   window: display fps, dreams/s, latency p50/p95, dropped frames, the display path's ms a frame.
A session asked for CUDA that runs elsewhere (onnxruntime falls back by itself) stops the run with a
one-line error and exit status 2: no row is reported under a provider it did not run on. The JSON
(--json) is written after each section, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np
from gpu_live import live_figures, make_clip
from timing import MODEL_HELP, model_or_exit

from realtime.dream.engine import Engine
from realtime.dream.runtime import build, choose_provider
from realtime.errors import UserError
from realtime.run.system import keep_freed_memory

MIN_COSINE = 0.999  # a gradient against float32's on the CPU: TF32 or float16 below it are not good enough


def size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def device_mib() -> tuple[float | None, str]:
    """(MiB, whose): this process's memory on the GPU as nvidia-smi lists it, else (a container's pids differ
    from the host's) the whole GPU's memory in use; (None, "no nvidia-smi") without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return None, "no nvidia-smi"

    def query(*args) -> list[list[str]]:
        out = subprocess.run(["nvidia-smi", *args, "--format=csv,noheader,nounits"], capture_output=True, text=True)
        return [[v.strip() for v in line.split(",")] for line in out.stdout.splitlines() if line.strip()]

    mine = [float(row[1]) for row in query("--query-compute-apps=pid,used_memory") if row[0] == str(os.getpid())]
    if mine:
        return sum(mine), "this process"
    return sum(float(row[0]) for row in query("--query-gpu=memory.used")), "whole GPU"


class WrongProvider(UserError):
    """The session runs elsewhere than asked: its figures would be reported under the wrong provider."""


def open_engine(path: Path, provider: str, **kwargs) -> Engine:
    return still_on(Engine(path, provider, **kwargs), provider)


def still_on(engine: Engine, provider: str) -> Engine:
    """`engine`, if it runs on `provider` (it may have fallen back to the CPU at start or mid-run)."""
    if engine.provider != provider:
        raise WrongProvider(
            f"asked for {provider}, the session runs on {engine.provider} ({engine.fell_back}): "
            "no figures reported for it"
        )
    return engine


def ms_per_step(engine: Engine, image: np.ndarray, steps: int, repeats: int) -> float:
    for _ in range(2):  # warm-up: allocation, cuDNN's algorithm search, the graph's capture
        engine.step(image, steps, 0.02)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine.step(image, steps, 0.02)
        times.append(time.perf_counter() - start)
    return median(times) * 1e3 / steps


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-300))


def step_figures(models: dict, provider: str, sizes, repeats: int, cpu: Engine, checks: list) -> list[dict]:
    """ms per step per size, precision and graphs on/off; each row says where it ran and how (a refused
    graph capture with its reason), and the gradient's cosine with the float32 model's on the CPU."""
    rows = []
    for wh in sizes:
        image = np.random.default_rng(0).uniform(-1, 1, (wh[1], wh[0], 3)).astype(np.float32)
        reference = cpu.gradient(image)
        for precision, path in models.items():
            for graphs in (False, True):
                engine = open_engine(path, provider, graphs=graphs)
                engine.step(image, 1, 0.02)  # warm-up at this size before anything is timed
                ms = {f"ms_{n}_steps": round(ms_per_step(engine, image, n, repeats), 2) for n in (1, 4)}
                mib, whose = device_mib()
                still_on(engine, provider)  # a failure mid-run moves the engine to the CPU: those times are not CUDA's
                # read after the steps: a capture refused on the first run falls back to plain runs
                row = {
                    "size": f"{wh[0]}x{wh[1]}",
                    "precision": precision,
                    "provider": engine.provider,
                    "graphs_asked": graphs,
                    "graphs": engine.stepper.graphs,
                    "graphs_refused": engine.graphs_refused,
                    **ms,
                    "device_mib": mib,
                    "device_mib_of": whose,
                }
                if not graphs:
                    row["cosine_vs_cpu_fp32"] = round(cosine(engine.gradient(image), reference), 6)
                    check(
                        checks,
                        f"{precision} gradient on {engine.provider} vs fp32 on the CPU at {row['size']}",
                        row["cosine_vs_cpu_fp32"] >= MIN_COSINE,
                        f"cosine {row['cosine_vs_cpu_fp32']:.6f}",
                    )
                kind = (
                    "graph"
                    if row["graphs"]
                    else f"plain (graphs refused: {engine.graphs_refused})"
                    if graphs
                    else "plain"
                )
                print(
                    f"{row['size']:>9} {precision} on {engine.provider}, {kind}: {row['ms_1_steps']:7.2f} ms/step "
                    f"(1 a call), {row['ms_4_steps']:7.2f} (4 a call), device {mib} MiB ({whose})",
                    flush=True,
                )
                rows.append(row)
                del engine
    return rows


def check(results: list, name: str, ok: bool, detail: str) -> None:
    results.append({"check": name, "ok": bool(ok), "detail": detail})
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def checks(model: Path, fp16: Path | None, provider: str, wh: tuple[int, int]) -> list[dict]:
    """The CUDA-only tests: graphs give plain runs' numbers, step sizes and sizes are kept apart, fp16 agrees."""
    results = []
    rng = np.random.default_rng(3)
    image = rng.uniform(-1, 1, (wh[1], wh[0], 3)).astype(np.float32)
    graph, plain = open_engine(model, provider, graphs=True), open_engine(model, provider, graphs=False)
    at = f"{wh[0]}x{wh[1]}"
    diff = float(np.abs(graph.step(image, 4, 0.02) - plain.step(image, 4, 0.02)).max())
    check(
        results,
        "graph steps = plain steps",
        diff <= 1e-3,
        f"4 steps at {at}, max |diff| {diff:.2e}, graphs "
        f"captured: {graph.stepper.graphs}" + (f" (refused: {graph.graphs_refused})" if graph.graphs_refused else ""),
    )
    moved = [float(np.abs(graph.step(image, 1, s) - plain.step(image, 1, s)).max()) for s in (0.01, 0.05)]
    apart = float(np.abs(graph.step(image, 1, 0.01) - graph.step(image, 1, 0.05)).max())
    check(
        results,
        "a new step size reaches a captured graph",
        max(moved) <= 1e-3 and apart > 1e-3,
        f"max |diff| against plain {max(moved):.2e}; 0.01 vs 0.05 differ by {apart:.3f}",
    )
    small = rng.uniform(-1, 1, (wh[1] // 2, wh[0] // 2, 3)).astype(np.float32)
    diff = float(np.abs(graph.step(small, 2, 0.02) - plain.step(small, 2, 0.02)).max())
    check(
        results,
        "a second size is captured apart",
        diff <= 1e-3 and graph.step(image, 1, 0.02).shape == image.shape,
        f"{wh[0] // 2}x{wh[1] // 2} after {at}: max |diff| {diff:.2e}",
    )
    if fp16 is not None:
        half = open_engine(fp16, provider)
        agree = cosine(plain.gradient(image), half.gradient(image))
        check(results, "fp16 gradient agrees with fp32", agree >= MIN_COSINE, f"cosine {agree:.5f} at {at}")
        a, b = (e.step(image, 20, 0.01) for e in (plain, half))
        psnr = float(10 * np.log10(4.0 / max(np.mean((a - b) ** 2), 1e-12)))  # images in [-1, 1]: peak 2
        results.append({"check": "fp16 20-step still PSNR", "ok": True, "detail": f"{psnr:.1f} dB against fp32"})
        print(f"INFO fp16 20-step still: PSNR {psnr:.1f} dB against fp32", flush=True)
    return results


def main() -> int:
    args = arguments()
    model = model_or_exit(args.model)
    fp16 = model_or_exit(args.fp16_model) if args.fp16_model else None
    result = {"onnxruntime": build(), "provider": None, "checks": []}
    try:
        return run(args, model, fp16, result)
    except UserError as exc:  # a CUDA session that runs on the CPU included: what is done so far stays saved
        result["refused"] = str(exc)
        save(result, args.json)
        print(f"gpu.py: error: {exc}", file=sys.stderr)
        return 2


def run(args, model: Path, fp16: Path | None, result: dict) -> int:
    provider = result["provider"] = choose_provider(args.provider)
    keep_freed_memory()
    print(f"{build()} on {provider}; model {model.name}" + (f", fp16 {fp16.name}" if fp16 else ""), flush=True)
    result["checks"] = checks(model, fp16, provider, args.check_size)  # on the CPU: no graph to test
    save(result, args.json)
    models = {"fp32": model, **({"fp16": fp16} if fp16 else {})}
    cpu = Engine(model, "cpu")
    result["steps"] = step_figures(models, provider, args.sizes, args.repeats, cpu, result["checks"])
    save(result, args.json)
    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4", args.live_display)
        opener = lambda **options: open_engine(model, provider, **options)  # noqa: E731
        result["live"] = live_figures(opener, clip, args.live_size, args.live_display, args.live_frames)
    save(result, args.json)
    live = result["live"]
    print(
        f"live {live['size']} shown at {live['display']} from a {live['source_fps']:.0f} fps clip, 2 steps a frame: "
        f"{live['display_fps']} fps shown, {live['dream_hz']} dreams/s, latency p50 {live['latency_ms']['p50']:.0f} "
        f"p95 {live['latency_ms']['p95']:.0f} ms, {live['dropped_frames']} dropped, display path "
        f"{live['display_ms']['total']} ms",
        flush=True,
    )
    print(json.dumps(result))
    return 0 if all(c["ok"] for c in result["checks"]) else 1


def save(result: dict, path: str | None) -> None:
    """The JSON so far (after each section: a run cut short keeps what it measured)."""
    if path:
        Path(path).write_text(json.dumps(result, indent=2) + "\n")


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--fp16-model", help="the same objective exported with --precision fp16: a name or a path")
    parser.add_argument("--provider", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--sizes", nargs="+", type=size, default=[(640, 360), (1280, 720), (1920, 1080)])
    parser.add_argument("--check-size", type=size, default=(640, 360), help="the checks' image size")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--live-size", type=size, default=(1280, 720))
    parser.add_argument("--live-display", type=size, default=(1920, 1080))
    parser.add_argument("--live-frames", type=int, default=600)
    parser.add_argument("--json")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
