"""Dense optical flow (OpenCV's DIS) and warping, for feedback that follows the camera's motion.

`Flow.between(prev, cur)` gives, for every pixel of `cur`, where it was in `prev` (backward flow),
an occlusion mask from the forward-backward check of Sundaram et al. 2010 (as Ruder et al. 2016 use
it for video style transfer), and the motion magnitude; `seed` starts it from a known estimate
(realtime.dream.chain: motion over many frames). `warp(image, flow)` pulls `image` (aligned with
`prev`) onto `cur`'s pixels. A `fine` flow is precise to a fraction of a pixel, for carrying the dream's
own fine detail from frame to frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import cv2
import numpy as np


@dataclass(frozen=True)
class Motion:
    backward: np.ndarray  # [H, W, 2] float32: cur pixel (x, y) came from (x, y) + backward
    occluded: np.ndarray  # [H, W] bool: no trustworthy source in prev
    coarse: np.ndarray | None = None  # backward as measured, at the flow's work size (what chains compose)

    @cached_property
    def magnitude(self) -> np.ndarray:
        """[H, W] float32 pixels per frame; made when first read (the live display path never reads it)."""
        return cv2.magnitude(self.backward[..., 0], self.backward[..., 1])


def gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb


def warp(image: np.ndarray, backward: np.ndarray, around: bool = False) -> np.ndarray:
    """`around`: a 360-degree panorama, where leaving one side enters the other."""
    return cv2.remap(
        image, source_map(backward, around), None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def source_map(backward: np.ndarray, around: bool = False) -> np.ndarray:
    """[H, W, 2] float32: where each pixel comes from, absolute (what cv2.remap wants), as one map."""
    h, w = backward.shape[:2]
    where = cv2.add(pixel_grid(h, w), backward)
    if around:
        np.mod(where[..., 0], w, out=where[..., 0])
    return where


@lru_cache(maxsize=4)
def pixel_grid(h: int, w: int) -> np.ndarray:
    """[h, w, 2] float32: each pixel's own (x, y); read-only, shared."""
    grid = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    grid.flags.writeable = False
    return grid


def following(current: Flow | None, method: str, around: bool = False, far: bool = False, fine: bool = False) -> Flow:
    """`current`, or a new Flow where there is none or the live --flow names another method ("off"
    keeps the one there is: nothing is measured then)."""
    if current is not None and method in ("off", current.method) and current.around == around:
        return current
    return Flow(method if method != "off" else "dis", around=around, far=far, fine=fine)


FINE_WIDTH = 320  # a fine flow's work width


class Flow:
    def __init__(
        self, method: str = "dis", work_width: int = 160, around: bool = False, far: bool = False, fine: bool = False
    ) -> None:
        self.method = method
        self.around = around  # a 360-degree panorama: motion across the left/right seam is measured
        # Frames are halved while at least twice the work width. `fine`: the dream's feedback, whose detail
        # is a pixel or two across: at 160 px (and DIS's ultrafast preset, which measures at a quarter of
        # that) it lands up to a pixel off and a quarter of a pan's frame is wrongly called occluded.
        self.work_width = max(work_width, FINE_WIDTH) if fine else work_width
        # `far`: motion over several frames (a dream landing on a newer frame), which the ultrafast
        # preset loses beyond a few per cent of the width; the medium one follows it, at several times
        # the cost (the figures: docs/benchmarks/live.md).
        preset = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM if far else cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
        self._dis = cv2.DISOpticalFlow.create(preset) if method == "dis" else None
        if fine and self._dis is not None:  # the medium preset's finest scale and refinement, at its patches' speed
            self._dis.setFinestScale(1)
            self._dis.setVariationalRefinementIterations(5)
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (the last cur frame, its small gray)

    def _flow(self, a: np.ndarray, b: np.ndarray, init: np.ndarray | None) -> np.ndarray:
        """Flow from a to b: a's pixel p moves to p + flow[p] in b; `init` (consumed) an estimate to start from."""
        if self.around:
            pad = min(32, a.shape[1])
            wide_a, wide_b = (np.pad(g, ((0, 0), (pad, pad)), mode="wrap") for g in (a, b))
            if init is not None:
                init = np.pad(init, ((0, 0), (pad, pad), (0, 0)), mode="wrap")
            return self._plain_flow(wide_a, wide_b, init)[:, pad:-pad]
        return self._plain_flow(a, b, init)

    def _plain_flow(self, a: np.ndarray, b: np.ndarray, init: np.ndarray | None) -> np.ndarray:
        if self._dis is not None:
            # `init`: a flow of the right size and type is where DIS starts; None starts from nothing
            # (OpenCV's binding takes None here, its type stubs do not).
            return self._dis.calc(a, b, init)  # type: ignore[arg-type]
        flags = 0 if init is None else cv2.OPTFLOW_USE_INITIAL_FLOW
        return cv2.calcOpticalFlowFarneback(a, b, init, 0.5, 3, 15, 3, 5, 1.2, flags)

    def between(self, prev_rgb: np.ndarray, cur_rgb: np.ndarray, seed: np.ndarray | None = None) -> Motion:
        """`seed`: a backward field at the work size (a `Motion.coarse`, or realtime.dream.chain's
        composition of them) to start from, for motion beyond what one measurement finds."""
        h, w = cur_rgb.shape[:2]
        a, b = self._small(prev_rgb, reuse=True), self._small(cur_rgb)
        self._last = (cur_rgb, b)  # the next call's prev is usually this call's cur
        if seed is not None and seed.shape[:2] != a.shape:
            seed = None  # measured at another size: start from nothing rather than from a wrong field
        if a.shape[1] == w:
            return self._motion(a, b, seed)
        # Motion is smooth at this scale: it is estimated on frames halved until narrower than twice
        # the work width (a quarter of the work per halving) and the field scaled back up once.
        small = self._motion(a, b, seed)
        sx, sy = w / a.shape[1], h / a.shape[0]  # pixels there -> pixels here
        # Scaled where it is small (resizing is linear); a scalar when both axes agree: numpy's
        # broadcast over a last axis of 2 is far slower than a scalar multiply (docs/benchmarks/live.md).
        field = small.backward * np.float32(sx) if sx == sy else small.backward * np.array([sx, sy], np.float32)
        backward = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
        occluded = cv2.resize(small.occluded.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        return Motion(backward, occluded, small.backward)

    def _small(self, rgb: np.ndarray, reuse: bool = False) -> np.ndarray:
        """Gray (first: a third of the work), halved while at least twice the work width; `reuse`: the
        last call's if `rgb` was its current frame."""
        if reuse and self._last is not None and self._last[0] is rgb:
            return self._last[1]
        g = gray(rgb)
        while g.shape[1] >= 2 * self.work_width:
            g = cv2.pyrDown(g)
        return g

    def _motion(self, prev_g: np.ndarray, cur_g: np.ndarray, seed: np.ndarray | None = None) -> Motion:
        backward = self._flow(cur_g, prev_g, None if seed is None else seed.copy())
        magnitude = cv2.magnitude(backward[..., 0], backward[..., 1])
        # The forward flow starts from the seed reversed: exact for a pan, close for smooth motion
        # (as good as a composed forward chain on the test pan, for half the composing).
        forward = self._flow(prev_g, cur_g, None if seed is None else -seed)
        # Following backward then forward should come home; where it does not, cur's pixel was hidden in prev.
        forward_there = warp(forward, backward, self.around)
        round_trip = cv2.add(backward, forward_there)
        err = cv2.magnitude(round_trip[..., 0], round_trip[..., 1])
        there = cv2.magnitude(forward_there[..., 0], forward_there[..., 1])
        occluded = err * err > 0.01 * (magnitude * magnitude + there * there) + 0.5
        backward.flags.writeable = False  # shared as `coarse` by chains on two threads: never changed
        return Motion(backward, occluded, backward)
