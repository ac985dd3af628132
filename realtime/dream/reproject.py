"""Reprojection of dream detail: a dream made from one frame, carried onto newer frames along the flow.

The detail of a dream is the dream minus the frame it was made from (float32, [-1, 1] units, at the
processing size). `carrier` moves detail along the optical flow from the frame it belongs to onto a
newer one and drops it where that frame shows what was hidden (the occlusion check of
realtime.dream.flow); `compose` lays detail, scaled up, on a camera frame at the display size;
`Fade` brings a newly landed detail in over a few display frames so the change does not pop. This
is asynchronous reprojection (VR's timewarp) applied to a dream: pure functions, no threads.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np

from realtime.dream.flow import Motion, source_map, warp

UNIT = 127.5  # one unit of detail in pixel levels (realtime.dream.pixels: [-1, 1] <-> 0..255)
OUTSIDE = 8.0  # pixels beyond the left edge: bilinear reads there see only the border's 0


def detail_of(dream8: np.ndarray, frame8: np.ndarray) -> np.ndarray:
    """Dream and the frame it was made from (uint8, same size) -> detail in [-1, 1] units."""
    return (dream8.astype(np.float32) - frame8.astype(np.float32)) / UNIT


def carrier(motion: Motion | None, around: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """The motion from a previous frame to the current one -> a function that carries detail aligned
    with the previous frame onto the current one (the identity when no motion is known).

    Where the current frame shows what was hidden or outside the previous one, the detail is 0 (the
    camera shows there). The map is made once, so carrying several details costs one remap each."""
    if motion is None:
        return lambda detail: detail
    if around:  # a panorama: what leaves one side enters the other (realtime.dream.flow.warp)

        def carry_around(detail: np.ndarray) -> np.ndarray:
            moved = warp(detail, motion.backward, around)
            moved[motion.occluded] = 0.0
            return moved

        return carry_around
    # Occluded pixels read from far outside the frame, where the border is 0: one remap does the
    # warp and the occlusion, faster than masking every channel afterwards (docs/benchmarks/live.md).
    h, w = motion.backward.shape[:2]
    where = source_map(motion.backward)
    cv2.copyTo(_outside(h, w), motion.occluded.view(np.uint8), where)  # faster than numpy's masked store
    return lambda detail: cv2.remap(
        detail, where, None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


@lru_cache(maxsize=4)
def _outside(h: int, w: int) -> np.ndarray:
    """[h, w, 2] float32: a source position beyond the frame's left and top edges; read-only, shared."""
    outside = np.full((h, w, 2), -OUTSIDE, np.float32)
    outside.flags.writeable = False
    return outside


def fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (width, height): area averaging going down, linear going up, nothing if equal.

    OpenCV averages areas fast only when halving, so a frame at least twice the size is halved first,
    as often as it takes; what is left, under 2x on an axis, goes linear (at 2x linear is the same
    two-pixel average), unless the other axis still shrinks more (area then). The figures:
    docs/benchmarks/live.md, "Figures behind the display path's code"."""
    size = (size[0], size[1])  # a tuple: a list would compare unequal to a shape below
    while image.shape[1] >= 2 * size[0] and image.shape[0] >= 2 * size[1]:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[1::-1] == size:
        return image
    far = image.shape[1] > 2 * size[0] or image.shape[0] > 2 * size[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if far else cv2.INTER_LINEAR)


def compose(
    camera8: np.ndarray, detail: np.ndarray | None, size: tuple[int, int], scaled: np.ndarray | None = None
) -> np.ndarray:
    """A camera frame at `size` plus the detail (3 or 4 channels, see `padded`) scaled up to it, uint8
    (saturated, not wrapped). `scaled`: the camera frame already at the detail's size, if at hand.

    A camera no larger than the detail (a small clip or webcam shown big) gets the detail at the
    detail's own size and the sum is scaled up once: scaling is linear, so the picture is the same up
    to rounding, for half the work (docs/benchmarks/live.md)."""
    if detail is None:
        return fit(camera8, size)
    detail = rgb(detail)
    (ch, cw), (dh, dw) = camera8.shape[:2], detail.shape[:2]
    if cw <= dw < size[0] and ch <= dh < size[1]:
        small = scaled if scaled is not None and scaled.shape == detail.shape else fit(camera8, (dw, dh))
        return fit(_add_levels(small, detail), size)
    return _add_levels(fit(camera8, size), fit(detail, size))


def _add_levels(camera8: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """camera + detail in pixel levels, saturated to uint8: one pass (no product array to allocate)."""
    return cv2.addWeighted(detail, UNIT, camera8, 1.0, 0.0, dtype=cv2.CV_8U)


def padded(detail: np.ndarray) -> np.ndarray:
    """Detail with a fourth channel: OpenCV remaps 4-channel float images with SIMD, 3-channel ones
    without (more than twice as slow: docs/benchmarks/live.md), so the display path carries its details
    as 4 channels."""
    return cv2.cvtColor(detail, cv2.COLOR_RGB2RGBA) if detail.shape[2] == 3 else detail


def rgb(detail: np.ndarray) -> np.ndarray:
    """The 3 channels of a `padded` detail."""
    return cv2.cvtColor(detail, cv2.COLOR_RGBA2RGB) if detail.shape[2] == 4 else detail


class Fade:
    """The shown detail and, while one lands, the incoming one, brought in over `frames` display frames."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.shown: np.ndarray | None = None
        self.incoming: np.ndarray | None = None
        self.done = 0  # display frames of the current fade so far

    def land(self, detail: np.ndarray) -> None:
        """A new dream's detail, already carried onto the newest frame."""
        if self.shown is None or self.frames == 0:
            self.shown, self.incoming = detail, None
        else:
            if self.incoming is not None:  # landed mid-fade: keep what is on screen, fade from there
                self.shown = self.current()
            self.incoming, self.done = detail, 0

    def carry(self, move: Callable[[np.ndarray], np.ndarray]) -> None:
        """Move both along the newest motion (a `carrier`: one map for both)."""
        if self.shown is None:
            return
        self.shown = move(self.shown)
        if self.incoming is not None:
            self.incoming = move(self.incoming)

    def step(self) -> np.ndarray | None:
        """The detail for this display frame; the fade moves one frame on."""
        if self.incoming is not None:
            self.done += 1
            if self.done >= self.frames:
                self.shown, self.incoming = self.incoming, None
        return self.current()

    def current(self) -> np.ndarray | None:
        if self.incoming is None:
            return self.shown
        assert self.shown is not None  # land() starts a fade only over a shown detail
        a = self.done / self.frames
        return cv2.addWeighted(self.shown, 1.0 - a, self.incoming, a, 0.0)
