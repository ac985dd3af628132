"""What may lead a run besides the show: a `Director` (a study's protocol, realtime.lab) and what hears each flip.

The loop asks a director before each frame whether the frame is dreamed or a screen of its own is shown
(instructions, rest, a rating; the dream still runs behind it while the director is `warming`), lets it mark what
the sinks get (a photodiode patch), tells it when the picture went up, and hands it the window's keys. A `Flipped`
is told every flip: an LSL frame stream hears the frames of `live --lsl` this way. `flip` is time.monotonic() right
after the window showed the picture (headless: when the sinks were about to get it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from realtime.media.sources import Frame

if TYPE_CHECKING:
    from realtime.run.steps import Step
    from realtime.steer.show import Show


@dataclass(frozen=True)
class Flip:
    """One picture shown: the loop's frame count (from 0), when it went up, the source frame it showed, the dose
    in force and the age of the dream on screen (ms; NaN where the dream is the frame's own)."""

    frame: int
    flip: float
    source_frame: int
    dose: float
    dream_age_ms: float
    picture: np.ndarray


class Flipped(Protocol):
    def __call__(self, flip: Flip) -> None: ...


class Director(Protocol):
    finished: bool  # the protocol has ended (or was aborted): the loop stops
    warming: bool  # behind a screen, the dream of what comes next builds up: the step runs, its picture unseen

    def cue(self, frame: Frame, show: Show, step: Step) -> np.ndarray | None: ...  # a screen, or None: dream

    def mark(self, picture: np.ndarray) -> np.ndarray: ...  # what the sinks get (the patch drawn on)

    def flipped(self, flip: Flip) -> None: ...

    def key(self, command: str) -> None: ...
