"""The lossless writer's codec: FFV1 (version 3) in Matroska, for a stimulus kept to the byte (a lab's session).

realtime.media.video's `VideoWriter` with `VideoFormat(lossless=True)` uses what is here. Pictures are coded as
`bgr0`, which FFV1 takes and gives back unchanged, so decoding to rgb24 returns the very RGB bytes written (FFV1
has no 8-bit planar RGB); no padding (odd sizes stay odd) and no colour tags (there is no YUV conversion to
describe). The same frames give the same bytes on every run: the slice count is fixed by the picture's size
alone (slices are coded apart, so threads share them without changing a byte), every frame is a keyframe, and
the muxer runs bitexact (Matroska otherwise writes the date, a random segment UID and the library's version).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.errors import UserError

if TYPE_CHECKING:
    import av

ENCODER, PIX_FMT, CONTAINER, SUFFIX = "ffv1", "bgr0", "matroska", ".mkv"
FFV1 = {"level": "3", "g": "1", "slicecrc": "1", "threads": "0"}  # keyframes only, each slice checksummed; 0: auto
SLICES = (16, 4, 1)  # the first the picture holds (FFV1 wants some rows and columns per slice)
MUXER = {"fflags": "+bitexact"}


def ffv1_options(size: tuple[int, int]) -> dict[str, str]:
    """FFV1's options for pictures of `size`: the most slices of SLICES that open at that size."""
    import av

    for slices in SLICES:
        options = {**FFV1, "slices": str(slices)}
        trial: Any = av.CodecContext.create(ENCODER, "w")  # a video codec's context: width, height, pix_fmt
        trial.width, trial.height, trial.pix_fmt, trial.time_base = *size, PIX_FMT, Fraction(1, 30)
        trial.options = options
        try:
            trial.open()
            return options
        except (av.FFmpegError, ValueError):  # too small for that many slices
            continue
    raise UserError(f"the lossless writer (FFV1) does not open at {size[0]}x{size[1]}; reinstall PyAV: pip install av")


def picture(frame: np.ndarray) -> av.VideoFrame:
    """An RGB frame (HxWx3 uint8) as the encoder's picture: the same bytes, reordered to bgr0 by swscale."""
    import av

    return av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24").reformat(format=PIX_FMT)
