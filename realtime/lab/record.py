"""What a session keeps while it runs: the frame log, the BIDS events, the LSL markers and frames, the patch.

`ProtocolDirector` (realtime.lab.director) says what happened; a `Record` writes it where it belongs. Onsets are
the session's time: seconds since its first flip, or frames / fps where the session is timed by frames (every frame
of a file, in order: the kept video's own time). A phase's event is added at the first frame of the phase after it
(its duration is then known), so every duration is what was on screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.lab.events import EventsWriter
from realtime.lab.framelog import LabFrameLog
from realtime.lab.order import Trial
from realtime.lab.patch import Patch
from realtime.run.director import Flip

if TYPE_CHECKING:
    from realtime.lab.lsl import LabStreams
    from realtime.lab.phases import Phase

EVENT_OF = {"instructions": "instructions", "trial": "trial", "rest": "rest", "pause": "pause", "rating": "rating"}


@dataclass
class Record:
    folder: Path
    streams: LabStreams | None = None
    drawn: Patch | None = None
    flips: list[float] = field(default_factory=list)
    last_at: float = 0.0  # the session's time of the last frame
    ended_phases: list[Phase] = field(default_factory=list)  # their events wait for the next phase's first flip
    instants: list[tuple[str, Trial | None]] = field(default_factory=list)  # events of no length, at the next flip
    answers: dict[int, tuple[float, float]] = field(default_factory=dict)  # trial -> (response, seconds)
    period: float = 1 / 30  # a frame's time: the last phase ends a frame after its last flip

    def __post_init__(self) -> None:
        self.log = LabFrameLog(self.folder / "frames.tsv")
        self.events = EventsWriter(self.folder)

    @property
    def has_patch(self) -> bool:
        return self.drawn is not None

    def patch(self, picture: np.ndarray, white: bool) -> np.ndarray:
        return self.drawn.draw(picture, white) if self.drawn is not None else picture

    def frame(
        self, flip: Flip, at: float, phase: str, trial: Trial | None, marker: str | None, white: bool, digest: str
    ) -> None:
        """One flip at the session's time `at`: its log row, its marker and frame over LSL, and the events of phases
        that ended before it."""
        self.flips.append(flip.flip)
        self.last_at = at
        self._settle(at)
        dose, block, number = (trial.dose, trial.block, trial.trial) if trial is not None else (None, None, None)
        age = None if math.isnan(flip.dream_age_ms) else flip.dream_age_ms
        patch = int(white) if self.drawn is not None else 0
        row = (flip.frame, flip.flip, at, flip.source_frame, phase, number, block, dose, age, marker, patch, digest)
        self.log(*row)
        if self.streams is not None:
            if marker:
                self.streams.marker(marker, flip.flip)
            shown = math.nan if dose is None else dose  # a screen's frame: no dose
            self.streams.frame(flip.frame, shown, flip.dream_age_ms, flip.flip)

    def _settle(self, at: float) -> None:
        """The events that ended before the frame at `at`: the phases, then what happened between (a rating
        skipped, an abort), in that order (a rating's response goes onto the trial row before it)."""
        for ended in self.ended_phases:
            self._event(ended, at)
        for kind, trial in self.instants:
            self.events.add(at, 0.0, kind, *((trial.dose, trial.block) if trial is not None else ()))
        self.ended_phases.clear()
        self.instants.clear()

    def ended(self, phase: Phase) -> None:
        if phase.started is not None and phase.name in EVENT_OF:
            self.ended_phases.append(phase)

    def _event(self, phase: Phase, until: float) -> None:
        assert phase.started is not None
        onset, duration = phase.started, until - phase.started
        trial = phase.trial
        if phase.name == "trial" and trial is not None:
            self.events.add(onset, duration, "trial", trial.dose, trial.block)
        elif phase.name == "rating" and trial is not None:
            response, seconds = self.answers.get(trial.trial, (None, None))
            self.events.add(onset, duration, "rating", trial.dose, trial.block, response, seconds)
        else:
            self.events.add(onset, duration, EVENT_OF[phase.name])

    def rated(self, phase: Phase, answer: float, at: float) -> None:
        assert phase.trial is not None and phase.first_flip is not None
        self.answers[phase.trial.trial] = (answer, at - phase.first_flip)

    def skipped(self, trial: Trial) -> None:
        """A rating not asked (headless): logged as an event of no duration and no response."""
        self.instants.append(("rating", trial))

    def aborted(self) -> None:
        self.instants.append(("abort", None))

    def stopped(self, markers: list[str]) -> None:
        """The run ended between flips: `markers` go out stamped with the last flip (no flip will show them)."""
        if self.streams is not None and self.flips:
            self.streams.marker(" ".join(markers), self.flips[-1])

    def close(self) -> dict[str, Any]:
        """Finish the files; the flips, for the session's frame-interval figures."""
        if self.flips:
            self._settle(self.last_at + self.period)
        self.events.close()
        self.log.close()
        if self.streams is not None:
            self.streams.close()
        return {"flips": list(self.flips)}
