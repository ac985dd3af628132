"""Motion over many frames, composed from the motions between consecutive ones: where a long-gap flow starts.

One DIS measurement follows motion up to a few percent of the frame's width. A dream that lands
many frames after the frame it was made from (a panning camera, a slow dream on a CPU) has moved
further than that, and measured directly most of it reads as
occluded and is dropped. The display path measures the motion between consecutive frames anyway:
`Chain` keeps the last of those (their `Motion.coarse` fields, at the flow's work size) and
composes them from an older frame to the newest, and that seeds the direct measurement
(realtime.dream.flow.Flow.between(seed=...)), which then only refines it: far less of the frame
is dropped, and the rest is closer (the figures: docs/benchmarks/live.md, "Figures behind the display path's code").
"""

from __future__ import annotations

import weakref
from collections import deque

import cv2
import numpy as np

from realtime.dream.flow import pixel_grid

KEEP = 60  # frames (2 s at 30 fps): a dream slower than that lands unseeded; at most ~37 MB of fields
# Frames over which the far flow alone follows a pan as well as seeded (measured on the test pan:
# docs/benchmarks/live.md); below that, composing the per-frame flows would only cost time.
FAR_ALONE = 6


class Chain:
    def __init__(self, frames: int = KEEP) -> None:
        self.frames = frames
        # (a weak reference to the frame: the chain never keeps a frame alive, only its field;
        #  the coarse backward field onto it from the frame before, or None where the motion is unknown)
        self._links: deque[tuple[weakref.ref[np.ndarray], np.ndarray | None]] = deque(maxlen=frames)

    def push(self, frame: np.ndarray, field: np.ndarray | None) -> None:
        """The newest frame (the very array later looked up) and the motion onto it from the one pushed
        before (a `Motion.coarse`, never changed after); None (flow off, no previous frame) breaks the
        chain there."""
        self._links.append((weakref.ref(frame), field))

    def copy(self) -> Chain:
        """The same links, to compose while this one takes new ones (on another thread)."""
        twin = Chain(self.frames)
        twin._links.extend(self._links)
        return twin

    def since(self, frame: np.ndarray, beyond: int = 0) -> np.ndarray | None:
        """The coarse backward field from the newest frame to `frame` (for each pixel of the newest,
        where it was in `frame`), or None: `frame` is the newest or at most `beyond` frames older (a
        flow that finds that much motion alone needs no seed), no longer kept, or the chain is broken
        after it."""
        links = list(self._links)
        for i in range(len(links) - 1, -1, -1):
            if links[i][0]() is frame:
                fields = [field for _, field in links[i + 1 :]]
                known = [field for field in fields if field is not None]
                if len(fields) <= beyond or len(known) < len(fields):
                    return None
                return compose(known)
        return None


def compose(fields: list[np.ndarray]) -> np.ndarray:
    """Backward fields of consecutive frames, oldest first -> the newest frame's backward field to the
    frame before the oldest. Each step looks up, where the path has got to, the next older field;
    beyond the edge the edge's motion goes on (a seed only needs to be near)."""
    h, w = fields[-1].shape[:2]
    grid = pixel_grid(h, w)
    where = cv2.add(grid, fields[-1])
    for field in reversed(fields[:-1]):
        where = cv2.add(where, cv2.remap(field, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return cv2.subtract(where, grid)
