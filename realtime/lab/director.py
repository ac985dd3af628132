"""A protocol leading the live loop (realtime.run.director): instructions, dosed trials, ratings, rests, pause, abort.

Per frame the director says what is shown: a trial's dream or one of its screens (realtime.lab.phases). A trial's
dream starts fresh (no feedback from another trial) and, where a screen comes before it (instructions, a rating, a
rest), is dreamed behind that screen at the trial's dose (`warming`), so every trial opens on its dream as it
stands, not on a dream still building up. Phases are timed by frames (frames shown / fps) where every frame of a
file is dreamed in order (`--seed`: a session that repeats exactly; with a window, paced to the fps), else by the
flips, a phase ending at the flip nearest its duration. After each flip it writes the frame log's row, sends the
flip's marker and frame over LSL and adds what ended (realtime.lab.record). The keys (phases.KEYS): space begins,
1-9 or the slider rate, p pauses (the trial stops; p again goes on with the next), escape or closing the window
aborts (what was done is kept).
"""

from __future__ import annotations

import time

import numpy as np

from realtime.lab import phases
from realtime.lab.framelog import digest
from realtime.lab.order import Trial
from realtime.lab.phases import Phase
from realtime.lab.protocol import Protocol
from realtime.lab.record import Record
from realtime.media.sources import Frame
from realtime.run.director import Flip
from realtime.run.steps import Step
from realtime.steer.show import Show

KEYS = phases.KEYS


class ProtocolDirector:
    """Leads a run through `trials` (realtime.lab.order), recording through `record` (realtime.lab.record)."""

    def __init__(
        self, protocol: Protocol, trials: list[Trial], record: Record, size: tuple[int, int], interactive: bool
    ) -> None:
        self.protocol, self.record, self.size, self.interactive = protocol, record, size, interactive
        self.plan = phases.plan(protocol, trials, interactive)
        self.phase = Phase("start", seconds=0.0, started=0.0)  # left at the first frame, for the first phase
        self.finished = self.aborted = self.warming = False
        self.markers: list[str] = ["session_start"]  # sent with the next flip
        self.patch_on, self.onset_frames, self.shown, self.now = False, 0, 0, 0.0
        self.first_flip: float | None = None
        self.fps, self.by_frames, self.warmed = 30.0, False, 0  # the trial dreamed behind a screen

    def timed(self, fps: float, by_frames: bool) -> ProtocolDirector:
        """At the source's `fps`; `by_frames`: phases counted in frames (every frame of a file, in order)."""
        self.fps, self.by_frames = fps if fps > 0 else 30.0, by_frames
        return self

    def _clock(self) -> float:
        """The session's time of the frame about to be shown: frames shown / fps, or since the first flip."""
        if self.by_frames:
            return self.shown / self.fps
        return 0.0 if self.first_flip is None else time.monotonic() - self.first_flip

    def cue(self, frame: Frame, show: Show, step: Step) -> np.ndarray | None:
        self.now = self._clock()
        if self.by_frames and self.interactive and self.first_flip is not None:  # shown at the file's rate
            time.sleep(max(0.0, self.first_flip + self.now - time.monotonic()))
        phase = self.phase
        near = 1e-6 if self.by_frames else 0.5 / self.fps  # a flip ends a phase nearest its duration
        if phase.name != "done" and phase.started is not None and self.now - phase.started >= phase.seconds - near:
            self._next(show, step)
        elif self.warming and phase.started is not None:  # the screen is up: the wait for the dream in flight,
            coming = next((p.trial for p in self.plan if p.name == "trial"), None)  # if any, holds a still screen
            if coming is not None and self.warmed != coming.trial:
                self._fresh(coming, show, step)
        return phases.screen(self.phase, self.protocol, self.size, frame.image)

    def _fresh(self, trial: Trial, show: Show, step: Step) -> None:
        """`trial`'s dream from now on: its dose, nothing carried from before."""
        show.set("dose", trial.dose)
        step.restart()
        self.warmed = trial.trial

    def _next(self, show: Show, step: Step, to: Phase | None = None) -> None:
        """The next phase (or `to`): a trial ending says so; a trial, or the screen before one, sets its dose and
        starts its dream afresh."""
        ending = self.phase
        if ending.name == "trial" and ending.trial is not None:
            self.markers.append(f"trial_off trial={ending.trial.trial}")
            if ending.trial.rating and not self.interactive:  # no one to ask: said so in the events and markers
                self.record.skipped(ending.trial)
                self.markers.append(f"rating_skipped trial={ending.trial.trial}")
        self.record.ended(ending)
        self.phase = to if to is not None else self.plan.pop(0)
        if self.phase.name == "done":
            self.markers.append("session_end")
        coming = next((p.trial for p in [self.phase, *self.plan] if p.name == "trial"), None)
        self.warming = self.phase.name != "trial" and coming is not None
        if coming is not None and self.phase.name == "trial" and self.warmed != coming.trial:
            self._fresh(coming, show, step)  # nothing before it to dream behind
        trial = self.phase.trial
        if self.phase.name == "trial" and trial is not None:
            self.markers.append(f"trial_on trial={trial.trial} block={trial.block} dose={trial.dose:g}")
            self.patch_on, self.onset_frames = not self.patch_on, 0

    def mark(self, picture: np.ndarray) -> np.ndarray:
        return self.record.patch(picture, self._patch_white()) if self.record.has_patch else picture

    def _patch_white(self) -> bool:
        if self.protocol.patch == "toggle":
            return self.patch_on
        return self.phase.name == "trial" and self.onset_frames < self.protocol.patch_frames

    def flipped(self, flip: Flip) -> None:
        phase = self.phase
        if self.first_flip is None:
            self.first_flip = flip.flip
        at = self.now if self.by_frames else flip.flip - self.first_flip  # the session's time of this frame
        if phase.started is None:
            phase.started, phase.first_flip = at, flip.flip
        self.shown += 1
        marker = " ".join(self.markers) or None
        self.markers = []
        trial = phase.trial if phase.name == "trial" else None
        self.record.frame(flip, at, phase.name, trial, marker, self._patch_white(), digest(flip.picture))
        self.onset_frames += phase.name == "trial"
        if phase.name == "done":
            self.finished = True

    def key(self, command: str) -> None:
        phase = self.phase
        if command in ("abort", "quit"):  # quit: the window closed
            self._abort()
        elif command == "pause":
            self._pause()
        elif phase.name == "instructions" and command == "begin":
            phase.seconds = 0.0  # over at the next frame
        elif phase.name == "rating" and phase.trial is not None:
            answer = phases.answer(command, phase)
            if answer is not None:
                self.markers.append(f"rating {answer:g} trial={phase.trial.trial}")
                self.record.rated(phase, answer, time.monotonic())
                phase.seconds = 0.0

    def _abort(self) -> None:
        phase = self.phase
        if phase.name == "done":
            return
        if phase.name == "trial" and phase.trial is not None:
            self.markers.append(f"trial_off trial={phase.trial.trial}")
        self.markers += ["abort", "session_end"]  # sent with the last frame, the done screen's
        self.record.ended(phase)
        self.record.aborted()
        self.phase, self.aborted, self.warming = Phase("done", seconds=0.0), True, False

    def _pause(self) -> None:
        if self.phase.name == "pause":
            self.markers.append("resume")
            self.phase.seconds = 0.0
            return
        if self.phase.name in ("done", "instructions", "start"):
            return
        self.markers.append("pause")
        while self.plan and self.plan[0].name not in ("trial", "done"):
            self.plan.pop(0)  # what was left of this trial (its rating, its rest) is not shown
        self.phase.seconds = 0.0
        self.plan.insert(0, Phase("pause"))

    def stop(self) -> None:
        """The run ended before the protocol did (stopped, or the source ended): the phase on screen ends with the
        last frame shown, and the markers that would have gone with the next flip go with the last."""
        if self.finished:
            return
        if self.phase.name == "trial" and self.phase.trial is not None:
            self.markers.append(f"trial_off trial={self.phase.trial.trial}")
        self.record.ended(self.phase)
        self.record.stopped([*self.markers, "session_end stopped"])
        self.markers = []
