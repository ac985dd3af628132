"""What a run of the live loop (realtime.run.loop) counts: frames, latency, where the time goes, lost and
dropped frames; what the show's status adds from it (`rates`), and the --stats summary (`summary`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.media.sources import Frame

if TYPE_CHECKING:
    from realtime.run.steps import Step
    from realtime.steer.show import Show


@dataclass
class LoopStats:
    frames: int = 0
    started: float = field(default_factory=time.monotonic)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10000))  # bounded: runs last days
    lost_frames: int = 0
    dropped: int = 0  # frames the reader never handed out, as of the last shown frame
    spent: dict[str, float] = field(default_factory=lambda: {"capture": 0.0, "flow": 0.0, "dream": 0.0, "display": 0.0})
    step: Step | None = None  # its figures join the loop's
    stopped: float | None = None  # when the loop ended: closing (a dream in flight, a recording) is not the show
    open: bool = True  # within the show's hours (realtime.run.rest); closed: the rest picture, no dream

    def elapsed(self) -> float:
        return max((self.stopped or time.monotonic()) - self.started, 1e-9)

    def stop(self) -> None:
        self.stopped = time.monotonic()

    def fps(self) -> float:
        return self.frames / self.elapsed()

    def rates(self) -> dict[str, Any]:
        """What the show's status adds (HUD, OSC, /status.json, /metrics, the control page): the last frame's
        latency, the camera frames dropped so far, the step's figures, and whether the show is open (closed:
        its scene, in the frame log too, says so)."""
        latency = {"latency_ms": self.latencies_ms[-1]} if self.latencies_ms else {}
        steps = self.step.rates(self) if self.step is not None else {}
        closed = {} if self.open else {"scene": "closed"}
        return {**latency, "dropped_frames": self.dropped, **steps, "open": self.open, **closed}

    def summary(self, show: Show) -> dict[str, Any]:
        lat = np.array(list(self.latencies_ms) or [float("nan")])
        total = sum(self.spent.values()) or 1.0
        status = show.status(self)
        out = {
            "fps": self.fps(),
            "frames": self.frames,
            "ms_per_step": status["ms_per_step"],
            "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))},
            "share": {k: v / total for k, v in self.spent.items()},
            "lost_frames": self.lost_frames,
            "provider": status["provider"],
        }
        return {**out, **(self.step.summary(self) if self.step is not None else {})}

    def count(self, frame: Frame, dropped: int, flow_s: float, t0: float, t1: float, t2: float, t3: float) -> None:
        """A frame shown: asked at t0, had at t1, its picture made by t2, in the sinks by t3."""
        self.frames += 1
        self.dropped = dropped
        self.latencies_ms.append((time.monotonic() - frame.time) * 1e3)
        self.spent["capture"] += t1 - t0
        self.spent["flow"] += flow_s
        self.spent["dream"] += (t2 - t1) - flow_s
        self.spent["display"] += t3 - t2
