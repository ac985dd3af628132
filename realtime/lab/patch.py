"""The photodiode patch: a square in one corner of the shown frame, white or black, for a light sensor taped there.

LSL markers cannot see the display's own delay (a headset's panel lights tens of ms after the flip): a photodiode
on a patch that turns white with a trial's onset measures it. `--photodiode CORNER[,SIZE]`: tl, tr, bl or br and
the square's side in pixels of the shown frame (default 40). The patch is drawn on the picture the sinks get,
after the dream, so the kept video holds it too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.errors import UserError

CORNERS = ("tl", "tr", "bl", "br")
SIDE = 40  # px: a photodiode's sensor is a few mm; 40 px is about 1 cm on a laptop screen


@dataclass(frozen=True)
class Patch:
    corner: str = "tl"
    side: int = SIDE

    def draw(self, picture: np.ndarray, white: bool) -> np.ndarray:
        """A copy of `picture` (uint8 HxWx3) with the square white (255) or black (0) in the corner."""
        out = picture.copy()
        out[self._where(out)] = 255 if white else 0
        return out

    def region(self, picture: np.ndarray) -> np.ndarray:
        """The patch's pixels of a picture (what a test reads back from the kept video)."""
        return picture[self._where(picture)]

    def _where(self, picture: np.ndarray) -> tuple[slice, slice]:
        h, w = picture.shape[:2]
        side = min(self.side, h, w)
        rows = slice(0, side) if self.corner[0] == "t" else slice(h - side, h)
        cols = slice(0, side) if self.corner[1] == "l" else slice(w - side, w)
        return rows, cols


def parse_patch(text: str) -> Patch:
    """`CORNER[,SIZE]` -> Patch; UserError in one line otherwise."""
    corner, _, size = text.strip().lower().partition(",")
    if corner not in CORNERS:
        raise UserError(f"--photodiode {text!r}: the corner must be one of {', '.join(CORNERS)} (then ,SIZE in px)")
    if not size:
        return Patch(corner)
    if not size.strip().isdigit() or not 4 <= int(size) <= 1000:
        raise UserError(f"--photodiode {text!r}: SIZE must be a whole number of pixels, 4..1000")
    return Patch(corner, int(size))
