"""What the live loop (realtime.run.loop.run) does with each frame: its step.

`Inline` dreams the frame on the loop's thread (`--sync`, and `--seed` on a file): the frame waits for
its dream. `BesideDisplay` shows the frame at once on the display path (realtime.run.display) and offers
it to the dream worker (realtime.run.worker), whose finished dreams land on the display path. Each step
keeps its own figures: what the show's status (`rates`) and the --stats summary (`summary`) add, and
`restart()`s its dream with no feedback from before (the show opening again, realtime.run.rest).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from realtime.dream.kinds import Stream
from realtime.dream.reproject import fit
from realtime.dream.stream import DreamStream
from realtime.media.sources import Frame
from realtime.run.display import DisplayPath
from realtime.run.worker import DreamWorker, StreamProxy

if TYPE_CHECKING:
    from realtime.run.loop_stats import LoopStats

log = logging.getLogger("deepdream.live")


class Step(Protocol):
    def pace(self, frame: Frame, fps: float) -> None: ...  # before the frame, once it came
    def __call__(self, frame: Frame) -> np.ndarray: ...  # the picture to show for it
    def flow_s(self) -> float: ...  # of the time the call took, the optical flow's
    def shown(self) -> None: ...  # after the sinks had the picture
    def rates(self, stats: LoopStats) -> dict[str, Any]: ...
    def summary(self, stats: LoopStats) -> dict[str, Any]: ...
    def restart(self) -> None: ...  # the next dream starts fresh: nothing carried from before
    def close(self) -> None: ...  # after the loop's clock stopped


class LostPace:
    """A lost camera's frames at the source's rate: the reader answers at once with the last frame."""

    def __init__(self) -> None:
        self._next = 0.0

    def __call__(self, frame: Frame, fps: float) -> None:
        if frame.lost:
            self._next = max(self._next + 1.0 / fps, time.monotonic())
            time.sleep(max(0.0, self._next - time.monotonic()))


class Inline:
    """Each frame dreamed on the loop's thread; the loop's own figures say it all."""

    def __init__(self, stream: Stream, display: tuple[int, int] | None = None) -> None:
        """`display`: the shown size, where the source itself is shown at dose 0 (None: the processing size)."""
        self.stream, self.display = stream, display

    def pace(self, frame: Frame, fps: float) -> None:
        pass  # the dream takes its time

    def __call__(self, frame: Frame) -> np.ndarray:
        dreamed = self.stream(frame.image)
        if self.display is not None and self.stream.figures().values.get("dose") == 0:
            return fit(frame.image, self.display)  # the source itself, not its processing-size copy scaled back
        return dreamed

    def flow_s(self) -> float:
        return self.stream.figures().last_flow_s

    def shown(self) -> None:
        pass

    def rates(self, stats: LoopStats) -> dict[str, Any]:
        return {}

    def summary(self, stats: LoopStats) -> dict[str, Any]:
        return {}

    def restart(self) -> None:
        if isinstance(self.stream, DreamStream):  # a stand-in stream keeps no feedback to drop
            self.stream.prepare(self.stream.size)

    def close(self) -> None:
        pass


class BesideDisplay:
    """Every frame shown at once, the dream beside it on the worker's thread: both rates, the age of the
    dream on screen, and where the display path's time goes."""

    def __init__(self, worker: DreamWorker, display: DisplayPath) -> None:
        self.worker, self.display = worker, display
        self.ages_ms: deque[float] = deque(maxlen=10000)  # bounded: runs last days
        self.shown_update, self.age_ms = 0, float("nan")
        self.updates_at_stop: int | None = None  # the dream in flight when the loop ended finishes after it
        self.pace = LostPace()
        self.watchers: list[Callable[[DreamWorker], None]] = []  # told of each worker (the watchdog's beat)

    @classmethod
    def around(cls, stream: DreamStream, proxy: StreamProxy, display: tuple[int, int], fade: int) -> BesideDisplay:
        """The display path at `display` and a worker dreaming with `stream`, steered through `proxy`
        (realtime.run.worker.StreamProxy: what the show holds)."""
        settings = stream.figures().settings
        path = DisplayPath(settings.size, display, fade, settings.flow, settings.wrap)
        log.info(
            "dreaming at %dx%d beside the display at %dx%d (with --sync each frame would wait for its dream)",
            *settings.size,
            *display,
        )
        return cls(DreamWorker(stream, proxy), path)

    def __call__(self, frame: Frame) -> np.ndarray:
        update = self.worker.take()
        values = self.worker.proxy.figures().values
        proc, shown = self.display.frame(frame.image, values["flow"], update)
        if values["dose"] == 0:  # the source itself, also while a dream of a higher dose still fades out
            shown = fit(frame.image, self.display.display)
        self.worker.offer(
            replace(frame, image=proc), self.display.motion
        )  # read-only: the dream's thread reads it from now on
        self.shown_update = self.display.landed.number if self.display.landed else 0
        return shown

    def flow_s(self) -> float:
        return 0.0  # the display path's flow is in its own figures

    def shown(self) -> None:
        if self.display.landed is not None:
            self.age_ms = (time.monotonic() - self.display.landed.captured) * 1e3
            self.ages_ms.append(self.age_ms)

    def dream_updates(self) -> int:
        """Dreams finished while the show ran (the one in flight at its end finishes after it)."""
        return self.worker.updates if self.updates_at_stop is None else self.updates_at_stop

    def rates(self, stats: LoopStats) -> dict[str, Any]:
        return {
            "display_fps": stats.fps(),
            "dream_hz": self.dream_updates() / stats.elapsed(),
            "dream_update": self.shown_update,
            "dream_age_ms": self.age_ms,
        }

    def summary(self, stats: LoopStats) -> dict[str, Any]:
        elapsed, worker = stats.elapsed(), self.worker
        spent = {**self.display.spent, "sinks": stats.spent["display"]}
        per_frame = {k: v * 1e3 / max(stats.frames, 1) for k, v in spent.items()}
        return {
            "mode": "async",
            "display_fps": stats.fps(),
            "dream_hz": self.dream_updates() / elapsed,
            "dream_updates": self.dream_updates(),
            "dream_age_ms": percentiles(self.ages_ms),
            "dropped_frames": stats.dropped,
            "display_ms": {
                **{k: round(v, 2) for k, v in per_frame.items()},
                "total": round(sum(per_frame.values()), 2),
            },
            "worker": {"busy": worker.busy_s / elapsed, "ms_per_update": worker.busy_s * 1e3 / max(worker.updates, 1)},
            "share": {"wait": stats.spent["capture"] / elapsed, **{k: v / elapsed for k, v in spent.items()}},
        }

    def restart(self) -> None:
        """A new worker on the stream with its feedback dropped, and a new display path: no dream, detail or
        motion from before reaches the screen. The old worker was idle (offered nothing while closed)."""
        stream, proxy, old = self.worker.stream, self.worker.proxy, self.display
        self.worker.close()
        stream.prepare(stream.size)  # its thread has stopped: the stream is this thread's now
        flow = proxy.figures().values["flow"]
        self.display = DisplayPath(old.processing, old.display, old.fade.frames, flow, old.around)
        self.worker = DreamWorker(stream, proxy)
        for watch in self.watchers:
            watch(self.worker)

    def close(self) -> None:
        """Stop the dream's thread; closing again (the caller's, after the loop's) changes nothing."""
        if self.updates_at_stop is None:  # the count at the loop's end, not after the dream in flight landed
            self.updates_at_stop = self.worker.updates
        self.worker.close()


def percentiles(values: Iterable[float]) -> dict[str, float]:
    data = np.array(list(values) or [float("nan")])
    return {"p50": float(np.percentile(data, 50)), "p95": float(np.percentile(data, 95))}
