"""`/metrics` (Prometheus' text format) and `/health`, for an installation left running for weeks.

Both read the hub's last figures (realtime.media.serve.FrameHub: what the loop publishes after each
frame) when they are asked, never on the display thread. Each server has its own registry: the show's
figures (`ShowCollector`) and, where the system has /proc (Linux), the process' own (resident memory,
CPU, open files, start time) from prometheus-client's ProcessCollector. onnxruntime tells nothing of the
GPU memory it holds: where the show dreams with CUDA, NVML (nvidia-ml-py, in the `gpu` extra) says how much
of each GPU's memory is in use (`gpu_memory`); elsewhere there is no GPU memory figure. `/health` is 200
while frames come and 503 when the watchdog (realtime.run.watchdog) would act: no frame for `stale_s`, or a
dream on screen older than that plus the grace the watchdog gives a dream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

STALE_S = 10.0  # no frame this long: stopped (a show at one frame a second has missed ten)
FIRST_FRAME_S = 60.0  # the first frame's allowance, as the watchdog's: the model loads, a camera wakes up
DREAM_GRACE_S = 60.0  # how much longer than a frame a dream may take, as the watchdog's

# (status key, metric, help, scale to its unit): gauges read from the last published figures
GAUGES = (
    ("fps", "deepdream_shown_frames_per_second", "Frames shown per second, over the run", 1.0),
    ("latency_ms", "deepdream_latency_seconds", "From capture to display, of the last frame shown", 1e-3),
    ("dream_age_ms", "deepdream_dream_age_seconds", "Age of the dream on screen (dreams beside the display)", 1e-3),
    ("ms_per_step", "deepdream_step_seconds", "Time of one dream step", 1e-3),
)


class ShowCollector(Collector):
    """The show's figures, read from the hub at each scrape."""

    def __init__(self, hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        status, frame_age = self.hub.figures()
        yield CounterMetricFamily("deepdream_frames_shown", "Frames shown since the start", value=status["frames"])
        for key, name, text, scale in GAUGES:
            if isinstance(status.get(key), (int, float)):
                yield GaugeMetricFamily(name, text, value=status[key] * scale)
        # Dreaming beside the display, the worker's rate; inline, every frame shown is a dream.
        dreams = status.get("dream_hz", status["fps"])
        yield GaugeMetricFamily("deepdream_dreams_per_second", "Dreams finished per second, over the run", dreams)
        if "dropped_frames" in status:
            yield CounterMetricFamily(
                "deepdream_dropped_frames",
                "Frames the source had that were never shown",
                value=status["dropped_frames"],
            )
        if "run" in status:  # the watchdog's run number: 1 for the first
            yield CounterMetricFamily("deepdream_restarts", "Restarts by the watchdog", value=status["run"] - 1)
        if frame_age is not None:
            yield GaugeMetricFamily("deepdream_frame_age_seconds", "Time since the newest frame", value=frame_age)
        yield GaugeMetricFamily(
            "deepdream_uptime_seconds", "Time since the server started", value=self.hub.clock() - self.hub.started
        )
        used = gpu_memory(str(status.get("provider", "")))
        if used:
            family = GaugeMetricFamily("deepdream_gpu_memory_used_bytes", "GPU memory in use (NVML)", labels=["gpu"])
            for index, used_bytes in used.items():
                family.add_metric([str(index)], used_bytes)
            yield family
        labels = {k: str(status.get(k, "")) for k in ("scene", "model", "provider")}
        yield InfoMetricFamily("deepdream_show", "The scene, model and execution provider in use", value=labels)


def gpu_memory(provider: str) -> dict[int, float]:
    """GPU index -> bytes of its memory in use, where the show dreams with CUDA and NVML answers; else empty.
    Device-wide: inside a container NVML's process ids are the host's, so this process' own share is not known."""
    if "CUDA" not in provider:
        return {}
    try:
        import pynvml  # nvidia-ml-py, the gpu extra's
    except ImportError:
        return {}
    nvml: Any = pynvml
    try:
        nvml.nvmlInit()  # counted by NVML: each init has its shutdown below
        try:
            count = nvml.nvmlDeviceGetCount()
            return {
                i: float(nvml.nvmlDeviceGetMemoryInfo(nvml.nvmlDeviceGetHandleByIndex(i)).used) for i in range(count)
            }
        finally:
            nvml.nvmlShutdown()
    except nvml.NVMLError:  # no driver, or a GPU NVML cannot read: no figure rather than a failed scrape
        return {}


def registry(hub) -> CollectorRegistry:
    """A registry of its own for one server (several can run in one process: the tests' do)."""
    own = CollectorRegistry(auto_describe=True)
    own.register(ShowCollector(hub))
    ProcessCollector(registry=own)  # yields nothing where there is no /proc
    return own


def exposition(own: CollectorRegistry, accept: str | None) -> tuple[str, bytes]:
    """(content type, body) in the format the scraper's Accept header asks for (OpenMetrics or text)."""
    encoder, kind = choose_encoder(accept or "")
    return kind, encoder(own)


def health(hub, stale_s: float = STALE_S) -> tuple[int, bytes]:
    """(200 or 503, a short JSON body): whether frames come, as the watchdog would judge it."""
    status, frame_age = hub.figures()
    why = None
    if hub.closed:
        why = "the show has ended"
    elif frame_age is None:
        waited = hub.clock() - hub.started
        if waited > max(stale_s, FIRST_FRAME_S):
            why = f"no frame in the {waited:.0f} s since the start"
    elif frame_age > stale_s:
        why = f"no frame for {frame_age:.0f} s"
    elif not status.get("paused") and status.get("dream_age_ms", 0) / 1e3 > stale_s + DREAM_GRACE_S:
        why = f"the dream on screen is {status['dream_age_ms'] / 1e3:.0f} s old: a dream is stuck"
    body = {"ok": why is None, "frames": status["frames"], "frame_age_s": frame_age}
    return (200, json.dumps(body).encode()) if why is None else (503, json.dumps({**body, "why": why}).encode())
