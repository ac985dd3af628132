"""A video file to render: its container's promises (frame rate, frame count, size) and its frames.

`Clip.open(path)` refuses what is not a clip (a missing file, a still image, something OpenCV
cannot decode, a frame rate no video file can have) with one line; `clip.frames()` yields RGB
frames in order from a frame number; `clip.shortfall(decoded)` says when fewer frames decoded
than the container declares (a truncated or damaged file renders what decodes, with a warning
naming both numbers). Only a count the container states (MP4's, MOV's) is a promise; Matroska
and WebM state none, and OpenCV's guess from the duration (which the sound may outlast) is
used for the progress bar alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import UserError
from realtime.media.video import as_rate


@dataclass(frozen=True)
class Clip:
    path: Path
    fps: float
    count: int  # frames the container declares; 0 when it does not say
    size: tuple[int, int]  # (width, height)
    estimate: int = 0  # OpenCV's guess (duration x rate) where the container says nothing: progress only

    @classmethod
    def open(cls, path: Path) -> Clip:
        if not path.is_file():
            raise UserError(f"input not found: {path}")
        if cv2.haveImageReader(str(path)):
            raise UserError(f"{path} is a still image, not a clip; dream it with `deepdream dream`")
        cap = cv2.VideoCapture(str(path))
        try:
            if not cap.isOpened() or not cap.read()[0]:
                raise UserError(f"{path} is not a readable video")
            guess = cap.get(cv2.CAP_PROP_FRAME_COUNT)
            guess = int(guess) if 0 < guess < 2**31 else 0
            size = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        finally:
            cap.release()
        as_rate(fps)  # 5000 fps is refused now, not after every frame was dreamed
        count = _declared_frames(path)
        return cls(path, fps, count, size, 0 if count else guess)

    @property
    def expected(self) -> int | None:
        """Frames to expect, for a progress bar (None: unknown)."""
        return self.count or self.estimate or None

    def frames(self, skip: int = 0) -> Iterator[np.ndarray]:
        """RGB frames in order, the first `skip` decoded and dropped (seeking is not frame-exact)."""
        cap = cv2.VideoCapture(str(self.path))
        try:
            for _ in range(skip):
                if not cap.grab():
                    return
            while True:
                ok, bgr = cap.read()
                if not ok:
                    return
                yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            cap.release()

    def shortfall(self, decoded: int) -> str | None:
        """A warning when the decoded frame count disagrees with the container's, else None."""
        if not self.count or decoded == self.count:
            return None
        return (
            f"warning: {self.path} declares {self.count} frames but {decoded} decoded (truncated or damaged?); "
            f"the output has the {decoded}"
        )


def _declared_frames(path: Path) -> int:
    """The video stream's frame count as its container states it (0: it states none)."""
    import av

    try:
        with av.open(str(path)) as container:
            return max(0, int(container.streams.video[0].frames)) if container.streams.video else 0
    except (av.FFmpegError, OSError):
        return 0
