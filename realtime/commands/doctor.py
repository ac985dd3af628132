"""`deepdream doctor`: what this machine has for dreaming, one line per finding, for a bug report.

Python; the onnxruntime build and its providers; the NVIDIA GPU (name, memory, driver: `nvidia-smi`);
whether the CUDA and cuDNN libraries load; the cameras; free disk where models and recordings go;
the model (`--model`, else the default in the store, else one exported on the spot with random
weights where TensorFlow is installed); then a timed 3-step dream at 640x360 on each provider.
A missing camera or GPU is a finding, not a failure: the exit status is 0 when a dream ran on some
provider, else 2 with a last line naming what stops it.
"""

from __future__ import annotations

import ctypes.util
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from realtime.errors import UserError, reason

SIZE = (360, 640)  # (height, width) of the timed dream
STEPS = 3


def say(topic: str, text: str) -> None:
    print(f"{topic:>11}: {text}", flush=True)


def run(model: str | None) -> int:
    say("python", f"{platform.python_version()} ({sys.executable}) on {platform.platform()}")
    providers = onnxruntime_finding()
    gpu_finding()
    if providers and "CUDAExecutionProvider" in providers:
        cuda_libraries_finding()
    cameras_finding()
    disk_finding()
    if not providers:
        raise UserError("nothing can dream here: onnxruntime is missing (see above)")
    with tempfile.TemporaryDirectory(prefix="deepdream-doctor-") as scratch:
        path = model_finding(model, Path(scratch))
        ran = [
            p for p in providers if p in ("CUDAExecutionProvider", "CPUExecutionProvider") and dream_finding(path, p)
        ]
    if not ran:
        raise UserError("no provider could dream (see the dream lines above)")
    return 0


def onnxruntime_finding() -> list[str]:
    from realtime.dream.runtime import build, onnxruntime

    try:
        ort = onnxruntime()
    except UserError as exc:
        say("onnxruntime", str(exc))
        return []
    providers = ort.get_available_providers()
    say("onnxruntime", f"{build()}, providers: {', '.join(providers)}")
    return providers


def gpu_finding() -> None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        say("gpu", "no NVIDIA driver here (nvidia-smi not found): the dream runs on the CPU")
        return
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        say("gpu", f"nvidia-smi did not answer ({exc})")
        return
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not lines:
        say("gpu", f"nvidia-smi found no GPU ({(out.stderr or out.stdout).strip()[:120] or f'exit {out.returncode}'})")
    for i, line in enumerate(lines if out.returncode == 0 else []):
        name, memory, driver = (part.strip() for part in (line.split(",") + ["?", "?"])[:3])
        say("gpu", f"{i}: {name}, {memory}, driver {driver}")


def cuda_libraries_finding() -> None:
    """Which CUDA and cuDNN libraries this process loaded (realtime.dream.cuda_libs, from every nvidia/*/lib
    folder on sys.path), or where the system would find them."""
    from realtime.dream.cuda_libs import LIBRARIES, loaded, summary

    found = loaded()
    for lib in LIBRARIES:
        where = ctypes.util.find_library(lib.removeprefix("lib")) if lib not in found else None
        if where:  # not loaded, but the system's loader knows one: the session may still find it
            found[lib] = where
    say("cuda libs", summary(found))


def cameras_finding() -> None:
    devices = sorted(str(p) for p in Path("/dev").glob("video*")) if sys.platform.startswith("linux") else []
    if devices:
        say("cameras", ", ".join(devices) + " (webcam:N or webcam:/dev/videoN)")
    elif sys.platform.startswith("linux"):
        say("cameras", "none found (no /dev/video*): live --source synthetic or a video file still works")
    else:
        say("cameras", "not listed on this system: try live --source webcam:0")


def disk_finding() -> None:
    from realtime.store import store

    try:
        here = Path.cwd()
    except OSError as exc:  # started in a folder deleted since: a finding, not a traceback
        say("disk", f"this folder is gone ({exc.strerror or exc}): recordings and snapshots need one that exists")
        here = None
    for what, folder in (("model store", store()), ("this folder", here)):
        if folder is None:
            continue
        existing = next(p for p in (folder, *folder.parents) if p.exists())
        say("disk", f"{shutil.disk_usage(existing).free / 2**30:.1f} GiB free at {folder} ({what})")


def model_finding(model: str | None, scratch: Path) -> Path:
    import importlib.util

    from realtime.dream.model import ModelInfo
    from realtime.store import find

    try:
        path = find(model)
    except UserError as exc:
        if model is not None or importlib.util.find_spec("tensorflow") is None:
            raise
        say("model", f"{exc}; exporting one with random weights for this check")
        path = export_random(scratch)
    info = ModelInfo.load(path)
    say("model", f"{info.describe()} ({path})")
    return path


def export_random(scratch: Path) -> Path:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "realtime.cli",
            "export",
            "--weights",
            "random",
            "--no-verify",
            "-o",
            str(scratch / "inception_mixed3_mixed5.onnx"),
        ],
        capture_output=True,
        text=True,
        cwd=scratch,
    )
    if out.returncode != 0:
        raise UserError(f"could not export a model for the check: {out.stderr.strip().splitlines()[-1:]}")
    return Path(out.stdout.strip())


def dream_finding(path: Path, provider: str) -> bool:
    """A 3-step dream at 640x360 on one provider, timed after a first step; whether it ran there."""
    from realtime.dream.engine import Engine

    short = provider.removesuffix("ExecutionProvider")
    image = np.random.default_rng(0).uniform(-1, 1, (*SIZE, 3)).astype(np.float32)
    try:
        engine = Engine(path, provider)
        engine.step(image, 1, 0.02)  # warm-up: allocations, a CUDA graph's capture
        start = time.perf_counter()
        engine.step(image, STEPS, 0.02)
        seconds = time.perf_counter() - start
    except Exception as exc:  # whatever stops a provider (a driver's RuntimeError too) is a finding, not a crash
        say("dream", f"{short}: failed ({reason(exc)})")
        return False
    if engine.fell_back:
        say("dream", f"{short}: could not run there ({engine.fell_back}); it fell back to {engine.provider}")
        return False
    graphs = (
        ""
        if engine.device != "cuda"
        else (", CUDA graphs" if engine.graphs else f", no CUDA graphs ({engine.graphs_refused})")
    )
    say(
        "dream",
        f"{short}: {STEPS} steps at {SIZE[1]}x{SIZE[0]} in {seconds:.2f} s "
        f"({seconds * 1e3 / STEPS:.0f} ms a step{graphs}), loss {engine.last_loss:.4g}",
    )
    return True
