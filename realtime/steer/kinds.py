"""What steering relies on in the loop's figures, as a `typing.Protocol`.

The loop (realtime.run.loop) hands its `LoopStats` to the show's status and to the control requests;
steer may not import run (what runs a show uses what steers it, never the other way), so it names
only what it reads: the frames shown, the rate, and the step's own figures.
"""

from __future__ import annotations

from typing import Any, Protocol


class Stats(Protocol):
    frames: int  # shown since the start

    def fps(self) -> float:
        """Frames shown a second since the start."""

    def rates(self) -> dict[str, Any]:
        """What the show's status adds: the last frame's latency and the step's figures."""
