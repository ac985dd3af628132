"""What the rest of the program may rely on in a dream stream, as `typing.Protocol`s.

`Steered` is what a show changes and reads: realtime.dream.stream.DreamStream, or beside the display
the worker's proxy (realtime.run.worker.StreamProxy), which queues changes for the dream's thread.
`Stream` is one that also dreams a frame when called: the DreamStream the loop or the worker calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from realtime.dream.settings import Figures

if TYPE_CHECKING:
    from realtime.dream.engine import Engine


@runtime_checkable
class Steered(Protocol):
    engines: list[Engine]  # one per model

    def set(self, name: str, value: object) -> None:
        """Change a live parameter; ValueError names what is wrong with `value`."""

    def figures(self) -> Figures:
        """A frozen snapshot of the settings, the values in force and the last dream's timings."""


@runtime_checkable
class Stream(Steered, Protocol):
    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The dream of one frame (uint8 RGB at any size -> uint8 RGB at the processing size)."""
