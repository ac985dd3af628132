"""One turn of the live loop (realtime.run.loop), a frame: paced, steered, dreamed or a protocol's screen, written
to every sink, the director and the flip's listeners told, counted and logged; outside the show's hours the rest
picture instead (realtime.run.rest).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from realtime.media.kinds import Sink
from realtime.media.sources import Frame, Latest
from realtime.run.director import Director, Flip, Flipped
from realtime.run.hud import hud
from realtime.run.loop_stats import LoopStats
from realtime.run.steps import Step

if TYPE_CHECKING:
    from realtime.media.sinks import WindowSink
    from realtime.run.framelog import FrameLog
    from realtime.run.rest import Hours
    from realtime.steer.controls import Controls
    from realtime.steer.show import Show

log = logging.getLogger("deepdream.live")


@dataclass
class Turn:
    """One turn of the loop, a frame: paced, steered, dreamed (or the last picture again while paused),
    written to every sink, counted and logged."""

    reader: Latest
    show: Show
    sinks: list[Sink]
    step: Step
    stats: LoopStats
    window: WindowSink | None
    present: Callable[[np.ndarray], np.ndarray] | None
    frame_log: FrameLog | None
    controls: Controls | None
    fps: float
    hours: Hours | None = None
    director: Director | None = None
    flipped: tuple[Flipped, ...] = ()
    shown: np.ndarray | None = None  # the last dreamed picture the sinks had
    last_flip: tuple[float, int, np.ndarray] = (0.0, 0, np.zeros((1, 1, 3), np.uint8))  # when, which, what

    def __call__(self, frame: Frame, t0: float) -> None:
        show, step, stats = self.show, self.step, self.stats
        if self.hours is not None and not self.opened(self.hours):
            self.rest(frame, t0, self.hours)
            return
        step.pace(frame, self.fps)
        screen = self.director.cue(frame, show, step) if self.director is not None else None
        if screen is not None:  # the protocol's own screen (instructions, rest, a rating): nothing shown dreamed
            if self.director is not None and self.director.warming:
                step(frame)  # the coming trial's dream builds up behind the screen
            self.shown = None
            self.write(frame, self.present(screen) if self.present is not None else screen, 0.0, t0, t0)
            self.tell(False)
            self.log(frame, False)
            return
        t1 = time.perf_counter()
        show.tick()
        if self.controls is not None:  # what came in while the frame was awaited: this frame shows it
            self.controls.apply(show, stats)
            self.controls.modulate(show, frame, self.fps, stats.started)
        shown = self.shown
        dreamed = shown is None or not show.paused  # paused: the last frame again, no dream
        if shown is None or dreamed:
            shown = step(frame)
            shown = self.present(shown) if self.present is not None else shown
        self.shown = shown
        self.write(frame, shown, step.flow_s() if dreamed else 0.0, t0, t1)
        if dreamed:  # paused, the dream on screen ages by design: not a figure of the dream's
            step.shown()
        self.tell(True)
        self.log(frame, dreamed)

    def write(self, frame: Frame, shown: np.ndarray, flow_s: float, t0: float, t1: float) -> None:
        """The picture to every sink, and counted (t0: asked, t1: had, now: made)."""
        show, stats = self.show, self.stats
        t2 = time.perf_counter()
        if self.window is not None:
            self.window.hud_lines = hud(show, stats, frame.lost)
        if self.director is not None:
            shown = self.director.mark(shown)
        flip = time.monotonic()  # headless: when the sinks get it
        for sink in self.sinks:
            sink.write(shown)
            if sink is self.window:
                flip = time.monotonic()
        dropped = getattr(self.reader, "dropped", 0)  # Latest's count; a reader that drops nothing need not say
        stats.count(frame, dropped, flow_s, t0, t1, t2, time.perf_counter())
        self.last_flip = (flip, frame.index, shown)

    def tell(self, dreamed: bool) -> None:
        """The director and every listener hear of the picture just shown (after the step counted it shown)."""
        if self.director is None and not self.flipped:
            return
        flip, source_frame, picture = self.last_flip
        dose = float(self.show.stream.figures().values["dose"])
        shows_dream = dreamed and dose > 0  # at dose 0 the source is shown, not a dream
        age = self.step.rates(self.stats).get("dream_age_ms", float("nan")) if shows_dream else float("nan")
        told = Flip(self.stats.frames - 1, flip, source_frame, dose, float(age), picture)
        if self.director is not None:
            self.director.flipped(told)
        for hear in self.flipped:
            hear(told)

    def log(self, frame: Frame, dreamed: bool) -> None:
        if self.frame_log is not None:
            self.frame_log(frame, self.show.status(self.stats), self.stats.frames - 1, dreamed)

    def opened(self, hours: Hours) -> bool:
        """Whether the show is open for this frame; at opening the step restarts (no feedback from the
        last open hours) and the playlist goes on where its clock is (it ran on while closed)."""
        is_open = hours.open()
        if is_open != self.stats.open:
            log.info("show hours: %s", "open, the dream starts afresh" if is_open else "closed, the dream rests")
            if is_open:
                self.step.restart()
            self.stats.open, self.shown = is_open, None
        return is_open

    def rest(self, frame: Frame, t0: float, hours: Hours) -> None:
        """Outside the show's hours: the rest picture, the step not called, operators' commands still taken
        (the playlist and the sound, which would queue a change a frame for an idle dream, wait)."""
        hours.pace(frame, self.fps)
        t1 = time.perf_counter()
        if self.controls is not None:
            self.controls.apply(self.show, self.stats)
        picture = hours.picture(frame)
        self.write(frame, self.present(picture) if self.present is not None else picture, 0.0, t0, t1)
        self.tell(False)
        self.log(frame, False)
