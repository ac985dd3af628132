"""A session's phases (instructions, trial, rating, rest, pause, done), what each shows, and the keys that move them.

The plan is made once from the trials: instructions (when a participant is there to read them and the protocol
has some), then each trial, its rating (a participant there), and a rest before the next. A rating's answer comes
from the keys 1-9 or the slider (left/right, return), as the trial's block says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from realtime.lab.order import Trial
from realtime.lab.protocol import Protocol
from realtime.lab.screens import rating, rest, text

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
SLIDE = 2  # a slider key's move, of 0..100: 25 presses from the middle to an end


@dataclass
class Phase:
    name: str  # start | instructions | trial | rating | rest | pause | done
    trial: Trial | None = None
    seconds: float = math.inf  # how long it lasts (inf: until a key)
    started: float | None = None  # the session's time (s from its first frame) at the phase's first frame
    first_flip: float | None = None  # time.monotonic() of its first flip (a rating's response time counts from it)
    position: int = 50  # the slider's


def plan(protocol: Protocol, trials: list[Trial], interactive: bool) -> list[Phase]:
    phases = [Phase("instructions")] if interactive and protocol.instructions.strip() else []
    for i, trial in enumerate(trials):
        phases.append(Phase("trial", trial, trial.duration))
        if trial.rating and interactive:
            phases.append(Phase("rating", trial))
        if i < len(trials) - 1 and protocol.rest > 0:
            phases.append(Phase("rest", trial, protocol.rest))
    return [*phases, Phase("done", seconds=0.0)]


def screen(phase: Phase, protocol: Protocol, size: tuple[int, int], camera: np.ndarray) -> np.ndarray | None:
    """What a phase shows at `size`; None for a trial (its dream). A still screen is drawn once (text costs
    milliseconds a frame) and shown again, read-only."""
    if phase.name == "trial":
        return None
    if phase.name == "rest":
        return (
            rest("camera", size, camera)
            if protocol.rest_screen == "camera"
            else _drawn(rest, protocol.rest_screen, size)
        )
    if phase.name == "rating" and phase.trial is not None:
        return _drawn(rating, size, phase.trial.rating or "", phase.trial.rating_scale, phase.position)
    words = {"instructions": protocol.instructions, "pause": PAUSED}.get(phase.name, "")
    return _drawn(text, size, words, "press space" if phase.name == "instructions" else "")


@lru_cache(maxsize=32)
def _drawn(draw: Callable[..., np.ndarray], *args: object) -> np.ndarray:
    picture = draw(*args)
    picture.setflags(write=False)  # shared by every frame that shows it
    return picture


def answer(command: str, phase: Phase) -> float | None:
    """A rating key's answer (None: none yet; the slider's keys move its mark)."""
    scale = phase.trial.rating_scale if phase.trial is not None else ""
    if command.startswith("rate ") and scale == "keys":
        return float(command.split()[1])
    if command in ("less", "more") and scale == "vas":
        phase.position = min(100, max(0, phase.position + (SLIDE if command == "more" else -SLIDE)))
    if command == "answer" and scale == "vas":
        return float(phase.position)
    return None
