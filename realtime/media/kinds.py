"""What the live path relies on in a frame source and a sink, as `typing.Protocol`s.

A `Source` is what realtime.media.sources.open_source returns: camera, video file, still photo or
the synthetic pattern; `from_file` tells the sources whose frames come from a file (a run on one can
repeat) from the live ones. A `Sink` is any place a shown frame goes (realtime.media.sinks, the
recorder, the HTTP viewer).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from realtime.media.sources import Frame, StillSource


@runtime_checkable
class Source(Protocol):
    fps: float  # frames a second: a file's own rate, a camera's, or the pattern's

    def frames(self) -> Iterator[Frame | None]:
        """Frames in order; None where a read failed (a camera lost), the end where a file ends."""

    def close(self) -> None:
        """Release the device or file."""


@runtime_checkable
class Sink(Protocol):
    def write(self, frame: np.ndarray) -> None:
        """One shown frame (uint8 RGB)."""

    def close(self) -> None:
        """Finish: a recording's last frames written and its file in place."""


def from_file(source: Source) -> bool:
    """The frames come from a file: a video (CaptureSource.is_file) or a still photo (StillSource)."""
    return bool(getattr(source, "is_file", False)) or isinstance(source, StillSource)
