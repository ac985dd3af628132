"""The asynchronous live loop: the display at the camera's rate, the dream beside it on its own thread.

Every camera frame is shown as it arrives (realtime.run.display.DisplayPath: flow, carry the dream
detail along it, compose at the display size) and offered to the dream worker
(realtime.run.worker.DreamWorker), which dreams the newest frame as fast as the steps allow; its
finished dreams land on the display path. The show (playlist, keys, OSC, pause) steers a
StreamProxy whose changes the worker applies between dreams. `AsyncStats` keeps both rates,
latency, the age of the dream on screen, dropped frames and where each path's time goes.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from realtime.run.loop import LoopStats, frames, hud, running, steer


def _percentiles(values) -> dict:
    data = np.array(list(values) or [float("nan")])
    return {"p50": float(np.percentile(data, 50)), "p95": float(np.percentile(data, 95))}


@dataclass
class AsyncStats(LoopStats):
    worker: object = None  # the DreamWorker: its update count is the dream rate
    reader: object = None  # the Latest reader: its count of frames never handed out
    display: object = None  # the DisplayPath: its time per part
    ages_ms: deque = field(default_factory=lambda: deque(maxlen=10000))
    shown_update: int = 0
    age_ms: float = float("nan")
    last_sinks_s: float = 0.0
    dropped: int = 0  # camera frames never shown, as of the last shown frame

    updates_at_stop: int | None = None  # the dream in flight when the loop ended finishes after it

    def stop(self) -> None:
        super().stop()
        self.updates_at_stop = self.worker.updates

    def dream_updates(self) -> int:
        """Dreams finished while the show ran (the one in flight at its end finishes after it)."""
        return self.worker.updates if self.updates_at_stop is None else self.updates_at_stop

    def dream_hz(self) -> float:
        return self.dream_updates() / self.elapsed()

    def rates(self) -> dict:
        """What the show's status adds in this mode (HUD, OSC, /status.json, the frame log)."""
        return {**super().rates(), "display_fps": self.fps(), "dream_hz": self.dream_hz(),
                "dream_update": self.shown_update, "dream_age_ms": self.age_ms}

    def summary(self, show) -> dict:
        out = super().summary(show)
        frames, elapsed = max(self.frames, 1), self.elapsed()
        per_frame = {k: v * 1e3 / frames for k, v in {**self.display.spent, "sinks": self.spent["display"]}.items()}
        out.update(mode="async", display_fps=self.fps(), dream_hz=self.dream_hz(), dream_updates=self.dream_updates(),
                   dream_age_ms=_percentiles(self.ages_ms), dropped_frames=self.dropped,
                   display_ms={**{k: round(v, 2) for k, v in per_frame.items()}, "total": round(sum(per_frame.values()), 2)},
                   worker={"busy": self.worker.busy_s / elapsed,
                           "ms_per_update": self.worker.busy_s * 1e3 / max(self.worker.updates, 1)})
        out["share"] = {"wait": self.spent["capture"] / elapsed,
                        **{k: v / elapsed for k, v in {**self.display.spent, "sinks": self.spent["display"]}.items()}}
        return out


def run_async(reader, show, worker, display, sinks, window=None, max_frames: int = 0, present=None, frame_log=None,
              controls=None, publish=None, fps: float = 30.0) -> AsyncStats:
    """As realtime.run.loop.run, for the asynchronous mode; every sink is closed on the way out, and the
    worker stopped. `fps` is the source's: a lost camera's last frame is shown again at that rate."""
    stats = AsyncStats(worker=worker, reader=reader, display=display)
    shown, next_lost = None, 0.0
    with running(stats, sinks, worker.close):
        for frame, t0 in frames(reader, stats, max_frames):
            if frame.lost:  # the reader answers at once with the last frame: keep the source's rate
                next_lost = max(next_lost + 1.0 / fps, time.monotonic())
                time.sleep(max(0.0, next_lost - time.monotonic()))
            t1 = time.perf_counter()
            show.tick()
            if controls is not None:  # what came in while the frame was awaited: this frame shows it
                controls.apply(show, stats)
                controls.modulate(show, frame, fps, stats.started)
            if not (show.paused and shown is not None):  # paused: the last frame again, the worker idles
                shown = _show(frame, show, worker, display, present)
                stats.shown_update = display.landed.number if display.landed else 0
            _write(stats, frame, show, window, sinks, shown)
            stats.spent["capture"] += t1 - t0
            stats.spent["display"] += stats.last_sinks_s
            if frame_log is not None:
                frame_log(frame, show.status(stats), stats.frames - 1, not show.paused)
            if not steer(show, stats, window, publish):
                break
    return stats


def _show(frame, show, worker, display, present):
    update = worker.take()
    proc, shown = display.frame(frame.image, show.stream.figures().values["flow"], update)
    worker.offer(replace(frame, image=proc), display.motion)  # read-only: the dream's thread reads it from now on
    return present(shown) if present is not None else shown


def _write(stats: AsyncStats, frame, show, window, sinks, shown) -> None:
    t0 = time.perf_counter()
    if window is not None:
        window.hud_lines = hud(show, stats, frame.lost)
    for sink in sinks:
        sink.write(shown)
    stats.last_sinks_s = time.perf_counter() - t0
    stats.frames += 1
    stats.dropped = stats.reader.dropped
    stats.latencies_ms.append((time.monotonic() - frame.time) * 1e3)
    if stats.display.landed is not None:
        stats.age_ms = (time.monotonic() - stats.display.landed.captured) * 1e3
        stats.ages_ms.append(stats.age_ms)
