"""What the live path relies on in a frame source and a sink, as `typing.Protocol`s.

A `Source` is what realtime.media.sources.open_source returns: camera, video file, still photo or
the synthetic pattern; `is_video_file` tells a video file (its frames have their own time) from the
rest, and `repeatable` the sources a run can repeat (a video or a photo) from the live ones. A `Sink`
is any place a shown frame goes (realtime.media.sinks, the recorder, the HTTP viewer).
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


def is_video_file(source: Source) -> bool:
    """The frames come from a video file (CaptureSource.is_file), not a camera, a photo or the pattern."""
    return bool(getattr(source, "is_file", False))


def repeatable(source: Source) -> bool:
    """The same frames every run: a video file or a still photo (StillSource)."""
    return is_video_file(source) or isinstance(source, StillSource)
