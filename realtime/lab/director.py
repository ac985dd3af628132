"""A protocol leading the live loop (realtime.run.director): instructions, dosed trials, ratings, rests, pause, abort.

Per frame the director says what is shown: a trial's dream (its dose set, the dream restarted at the onset, so no
trial inherits another's feedback) or one of its screens (realtime.lab.screens). It times phases by frames (the
frames shown / fps) where every frame of a file is dreamed in order (`--seed`: a session that repeats exactly), else
by the flips' own times; events' onsets and durations are always the flips'. After each flip it writes the frame
log's row, sends the flip's marker and frame over LSL, and adds finished events. The keys: space begins, 1-9 rate,
left/right and return move and answer the slider, p pauses (the trial stops; the next one starts on p again), escape
aborts (what was done is kept).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np

from realtime.lab.order import Trial
from realtime.lab.protocol import Protocol
from realtime.lab.record import Record
from realtime.lab.screens import rating, rest, text
from realtime.media.sources import Frame
from realtime.run.director import Flip
from realtime.run.steps import Step
from realtime.steer.show import Show

KEYS = {  # key name -> (command, help): the window's keys while a protocol runs
    "space": ("begin", "begin"),
    **{str(n): (f"rate {n}", f"rate {n}") for n in range(1, 10)},
    "left": ("less", "slider left"),
    "right": ("more", "slider right"),
    "return": ("answer", "answer with the slider"),
    "p": ("pause", "pause / go on"),
    "escape": ("abort", "abort the session"),
}
PAUSED = "Paused. Press p to go on with the next trial."


@dataclass
class Phase:
    name: str  # instructions | trial | rating | rest | pause | done
    trial: Trial | None = None
    seconds: float = math.inf  # how long it lasts (inf: until a key)
    started: float | None = None  # the session's time (s from its first frame) at the phase's first frame
    first_flip: float | None = None  # time.monotonic() of its first flip (a rating's response time counts from it)
    position: int = 50  # the slider's


class ProtocolDirector:
    """Leads a run through `trials` (realtime.lab.order), recording through `record` (realtime.lab.record)."""

    def __init__(
        self,
        protocol: Protocol,
        trials: list[Trial],
        record: Record,
        size: tuple[int, int],
        interactive: bool,
        fps: float | None,
    ) -> None:
        """`fps`: phases timed by frames at this rate (a session that repeats exactly); None: by the wall clock."""
        self.protocol, self.record, self.size, self.interactive, self.fps = protocol, record, size, interactive, fps
        self.plan = self._phases(trials)
        self.phase = Phase("start", seconds=0.0, started=0.0)  # left at the first frame, for the first phase
        self.finished = self.aborted = False
        self.markers: list[str] = ["session_start"]  # sent with the next flip
        self.patch_on, self.onset_frames, self.shown, self.now = False, 0, 0, 0.0
        self.first_flip: float | None = None

    def _clock(self) -> float:
        """The session's time for the frame about to be shown: frames shown / fps, or since the first flip."""
        if self.fps:
            return self.shown / self.fps
        return 0.0 if self.first_flip is None else time.monotonic() - self.first_flip

    def _phases(self, trials: list[Trial]) -> list[Phase]:
        plan = [Phase("instructions")] if self.interactive and self.protocol.instructions.strip() else []
        for i, trial in enumerate(trials):
            plan.append(Phase("trial", trial, trial.duration))
            if trial.rating and self.interactive:
                plan.append(Phase("rating", trial))
            if i < len(trials) - 1 and self.protocol.rest > 0:
                plan.append(Phase("rest", trial, self.protocol.rest))
        return [*plan, Phase("done", seconds=0.0)]

    def cue(self, frame: Frame, show: Show, step: Step) -> np.ndarray | None:
        self.now = self._clock()
        phase = self.phase
        # (a microsecond short counts as there: k/30 - j/30 can fall a rounding below the frames' exact time)
        if phase.name != "done" and phase.started is not None and self.now - phase.started >= phase.seconds - 1e-6:
            self._next(show, step)
        phase = self.phase
        if phase.name == "trial":
            return None
        if phase.name == "rest":
            return rest(self.protocol.rest_screen, self.size, frame.image)
        if phase.name == "rating" and phase.trial is not None:
            return rating(self.size, phase.trial.rating or "", phase.trial.rating_scale, phase.position)
        words = {"instructions": self.protocol.instructions, "pause": PAUSED, "done": ""}[phase.name]
        return text(self.size, words, "press space" if phase.name == "instructions" else "")

    def _next(self, show: Show, step: Step, to: Phase | None = None) -> None:
        """The next phase (or `to`): a trial ending says so, a trial starting sets its dose and a fresh dream."""
        ending = self.phase
        if ending.name == "trial" and ending.trial is not None:
            self.markers.append(f"trial_off trial={ending.trial.trial}")
            if ending.trial.rating and not self.interactive:  # no one to ask: said so in the events and markers
                self.record.skipped(ending.trial, self.now)
                self.markers.append(f"rating_skipped trial={ending.trial.trial}")
        self.record.ended(ending)
        self.phase = to if to is not None else self.plan.pop(0)
        if self.phase.name == "done":
            self.markers.append("session_end")
        trial = self.phase.trial
        if self.phase.name == "trial" and trial is not None:
            show.set("dose", trial.dose)
            step.restart()
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
        at = self.now if self.fps else flip.flip - self.first_flip  # the session's time of this frame
        if phase.started is None:
            phase.started, phase.first_flip = at, flip.flip
        self.shown += 1
        marker = " ".join(self.markers) or None
        self.markers = []
        digest = hashlib.sha256(np.ascontiguousarray(flip.picture).tobytes()).hexdigest()
        trial = phase.trial if phase.name == "trial" else None
        self.record.frame(flip, at, phase.name, trial, marker, self._patch_white(), digest)
        self.onset_frames += phase.name == "trial"
        if phase.name == "done":
            self.finished = True

    def key(self, command: str) -> None:
        phase = self.phase
        if command == "abort":
            if phase.name == "done":
                return
            self.markers += ["abort", "session_end"]  # sent with the last frame, the done screen's
            self.record.ended(phase)
            self.record.aborted(self.now)
            self.phase, self.aborted = Phase("done", seconds=0.0), True
        elif command == "pause":
            self._pause()
        elif phase.name == "instructions" and command == "begin":
            phase.seconds = 0.0  # over at the next frame
        elif phase.name == "rating" and phase.trial is not None:
            self._rate(command, phase)

    def _pause(self) -> None:
        if self.phase.name == "pause":
            self.markers.append("resume")
            self.phase.seconds = 0.0
            return
        if self.phase.name in ("done", "instructions"):
            return
        self.markers.append("pause")
        while self.plan and self.plan[0].name != "trial" and self.plan[0].name != "done":
            self.plan.pop(0)  # what was left of this trial (its rating, its rest) is not shown
        self.phase.seconds = 0.0
        self.plan.insert(0, Phase("pause"))

    def _rate(self, command: str, phase: Phase) -> None:
        answer: float | None = None
        if command.startswith("rate ") and phase.trial is not None and phase.trial.rating_scale == "keys":
            answer = float(command.split()[1])
        elif command in ("less", "more"):
            phase.position = min(100, max(0, phase.position + (1 if command == "more" else -1)))
        elif command == "answer" and phase.trial is not None and phase.trial.rating_scale == "vas":
            answer = float(phase.position)
        if answer is not None and phase.trial is not None:
            self.markers.append(f"rating {answer:g} trial={phase.trial.trial}")
            self.record.rated(phase, answer, time.monotonic())
            phase.seconds = 0.0
