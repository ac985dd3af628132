"""The live loop: source -> step -> sinks, until the source ends, N frames, a quit key or Ctrl-C.

It knows nothing of providers, bindings or threads: it takes frames from a `Latest` reader, lets the
show steer (`tick`, the outside controls), hands the frame to its step (realtime.run.steps: dreamed
inline, or shown beside the dream's thread), writes to every sink, hands key and OSC commands to the
show, and keeps the figures that `--stats` writes (fps, latency, where time goes; the step adds its own).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from realtime.dream.kinds import Stream
from realtime.media.kinds import Sink
from realtime.media.sources import Frame, Latest
from realtime.run.hud import hud
from realtime.run.steps import Inline, Step

if TYPE_CHECKING:
    from realtime.media.sinks import WindowSink
    from realtime.run.framelog import FrameLog
    from realtime.steer.controls import Controls
    from realtime.steer.show import Show

log = logging.getLogger("deepdream.live")


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

    def elapsed(self) -> float:
        return max((self.stopped or time.monotonic()) - self.started, 1e-9)

    def stop(self) -> None:
        self.stopped = time.monotonic()

    def fps(self) -> float:
        return self.frames / self.elapsed()

    def rates(self) -> dict[str, Any]:
        """What the show's status adds (HUD, OSC, /status.json, the control page): the last frame's latency,
        and the step's figures."""
        latency = {"latency_ms": self.latencies_ms[-1]} if self.latencies_ms else {}
        return {**latency, **(self.step.rates(self) if self.step is not None else {})}

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


def run(
    reader: Latest,
    show: Show,
    sinks: list[Sink],
    window: WindowSink | None = None,
    max_frames: int = 0,
    present: Callable[[np.ndarray], np.ndarray] | None = None,
    frame_log: FrameLog | None = None,
    controls: Controls | None = None,
    publish: Callable[[dict[str, Any]], None] | None = None,
    fps: float = 30.0,
    step: Step | None = None,
) -> LoopStats:
    """Run until done; every sink (the recorder among them) is closed on the way out, then the step.

    `step` makes each frame's picture (default: `Inline(show.stream)`, the dream on this thread);
    `present` turns it into what the sinks show (side-by-side stereo, say); `controls`
    (realtime.steer.controls.Controls) brings OSC, the control page, MIDI and the sound's modulation,
    applied before each frame (`fps`: the source's, for the sound's timing and a lost camera's pace);
    `publish(status)` hears the show's figures after every frame (the HTTP viewer and the control page)."""
    # Without a step the show steers the stream itself (a proxy comes with its step, BesideDisplay).
    step = Inline(cast(Stream, show.stream)) if step is None else step
    stats, shown = LoopStats(step=step), None
    with running(stats, sinks, step.close):
        for frame, t0 in frames(reader, stats, max_frames):
            step.pace(frame, fps)
            t1 = time.perf_counter()
            show.tick()
            if controls is not None:  # what came in while the frame was awaited: this frame shows it
                controls.apply(show, stats)
                controls.modulate(show, frame, fps, stats.started)
            dreamed = shown is None or not show.paused  # paused: the last frame again, no dream
            if shown is None or dreamed:
                shown = step(frame)
                shown = present(shown) if present is not None else shown
            t2 = time.perf_counter()
            if window is not None:
                window.hud_lines = hud(show, stats, frame.lost)
            for sink in sinks:
                sink.write(shown)
            dropped = getattr(reader, "dropped", 0)  # Latest's count; a reader that drops nothing need not say
            stats.count(frame, dropped, step.flow_s() if dreamed else 0.0, t0, t1, t2, time.perf_counter())
            step.shown()
            if frame_log is not None:
                frame_log(frame, show.status(stats), stats.frames - 1, dreamed)
            if not steer(show, stats, window, publish):
                break
    return stats


def frames(reader: Latest, stats: LoopStats, max_frames: int = 0) -> Iterator[tuple[Frame, float]]:
    """(frame, time asked) from the reader until it ends or `max_frames` were shown; a camera lost
    and back is said once each way, and every lost frame counted."""
    was_lost = False
    while not max_frames or stats.frames < max_frames:
        t0 = time.perf_counter()
        frame = reader.get()
        if frame is None:
            return
        if frame.lost != was_lost:
            log.warning("camera lost: showing the last frame, reconnecting" if frame.lost else "camera back")
            was_lost = frame.lost
        stats.lost_frames += frame.lost
        yield frame, t0


def steer(
    show: Show,
    stats: LoopStats,
    window: WindowSink | None,
    publish: Callable[[dict[str, Any]], None] | None,
) -> bool:
    """After a frame: the show's figures out, keys in; False when a key says quit."""
    if publish is not None:
        publish(show.status(stats))
    return window is None or all(show.key(c) for c in window.commands())


@contextmanager
def running(stats: LoopStats, sinks: list[Sink], *also_close: Callable[[], None]) -> Iterator[None]:
    """A loop's run: Ctrl-C or a vanished --pipe reader end it quietly; the stats' clock stops, then
    `also_close` and the sinks close."""
    try:
        yield
    except KeyboardInterrupt:
        log.info("interrupted: closing")
    except BrokenPipeError:
        log.info("the program reading --pipe has gone: closing")
    finally:
        stats.stop()
        for close in also_close:
            close()
        for sink in sinks:
            sink.close()
