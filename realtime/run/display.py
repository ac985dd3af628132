"""The display path of the asynchronous mode: every camera frame shown at once, with the dream on it.

Per camera frame (`DisplayPath.frame`): the frame is scaled to the processing size, the optical
flow from the previously shown frame is measured there, the detail on screen is carried along it,
a dream that has just finished is carried onto this one and faded in over `--dream-fade` frames
(the worker carries it onto the newest frame it was offered, usually the previous one here, so the
display only adds this frame's motion; from up to NEAR frames back, along the per-frame motions
since, already measured; from an older frame, one flow between the two, started from the per-frame
flows since then composed: realtime.dream.chain), and the camera frame at the display size gets
the detail, scaled up, laid on it. The camera stays sharp and on time; the dream sticks to
what moves. Runs on the loop's thread; the worker (realtime.run.worker) never touches it.
`display_size` says what size the outputs show, in either mode.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from realtime.dream.chain import FAR_ALONE, Chain
from realtime.dream.flow import Flow, Motion, following
from realtime.dream.parameter import MIN_SIDE
from realtime.dream.pixels import frozen
from realtime.dream.reproject import Fade, carrier, compose, fit, padded
from realtime.media.kinds import Source

if TYPE_CHECKING:
    from realtime.run.worker import DreamUpdate

Carrier = Callable[[np.ndarray], np.ndarray]  # a detail moved along one motion (realtime.dream.reproject.carrier)

# Frames: a dream landing at most this far behind is carried along the per-frame motions since (a remap
# each, what the shown detail gets every frame anyway) rather than a flow of its own on the display's
# time. The flow of its own keeps more of the detail, and the gap grows with every carry: hence only a
# few frames (measured: docs/benchmarks/live.md, "Carrying a late dream").
NEAR = 3


class DisplayPath:
    def __init__(
        self,
        processing: tuple[int, int],
        display: tuple[int, int],
        fade_frames: int,
        flow: str = "dis",
        around: bool = False,
    ) -> None:
        self.processing, self.display, self.around = processing, display, around
        self.fade = Fade(fade_frames)
        self.flow = following(None, flow, around)
        self.far = following(None, flow, around, far=True)  # from a dream's frame
        self.prev: np.ndarray | None = None  # the previous frame, processing size
        self.chain = Chain()  # the per-frame motions, for a dream that lands many frames later
        self.motion: np.ndarray | None = (
            None  # the motion onto the frame last handled from the one before, coarse (Motion.coarse)
        )
        # (frame, the carrier onto it from the one before), newest last: this frame and NEAR before it
        self.recent: deque[tuple[np.ndarray, Carrier]] = deque(maxlen=NEAR + 1)
        self.landed: DreamUpdate | None = None  # the newest on screen
        self.spent = {"flow": 0.0, "warp": 0.0, "compose": 0.0}  # seconds, summed

    def frame(
        self, image: np.ndarray, flow: str = "dis", update: DreamUpdate | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """A camera frame (uint8 RGB, any size) -> (it at the processing size, what to show at the display size).

        `flow` is the live parameter ("off": the detail stays where it is); `update` a finished dream."""
        t0 = time.perf_counter()
        proc = frozen(fit(image, self.processing))  # counted with the flow, whose input it is; shared with
        # the dream's thread (offered) and compared by identity (a landing dream's frame): never changed
        self.flow = following(self.flow, flow, self.around)  # switched live, maybe
        self.far = following(self.far, flow, self.around, far=True)
        moved = self._motion(self.flow, self.prev, proc, flow)
        self.motion = None if moved is None else moved.coarse
        self.chain.push(proc, self.motion)
        far = self._far_landing(update, proc, flow)
        t1 = time.perf_counter()
        move = carrier(moved, self.around)  # one map for the shown details and a landing dream
        self.recent.append((proc, move))
        self.fade.carry(move)
        if update is not None:
            steps = self._moves_since(update.frame)
            self._land(update, [carrier(far, self.around)] if steps is None else steps)
        t2 = time.perf_counter()
        shown = compose(image, self.fade.step(), self.display, proc)
        t3 = time.perf_counter()
        self.prev = proc
        for key, seconds in (("flow", t1 - t0), ("warp", t2 - t1), ("compose", t3 - t2)):
            self.spent[key] += seconds
        return proc, shown

    def _far_landing(self, update: DreamUpdate | None, proc: np.ndarray, flow: str) -> Motion | None:
        """The motion onto this frame from a finished dream's frame when that is more than NEAR frames
        back (one flow of its own, started from the per-frame motions composed); else None."""
        near = [seen for seen, _ in list(self.recent)[-NEAR:]] + [proc]
        if update is None or any(seen is update.frame for seen in near):
            return None
        seed = self.chain.since(update.frame, beyond=FAR_ALONE)
        return self._motion(self.far, update.frame, proc, flow, seed)

    def _land(self, update: DreamUpdate, steps: list[Carrier]) -> None:
        """A finished dream's detail, carried along `steps` onto this frame, starts to fade in."""
        detail = padded(update.detail)
        for step in steps:
            detail = step(detail)
        self.fade.land(detail)
        self.landed = update

    def _moves_since(self, frame: np.ndarray) -> list[Carrier] | None:
        """The carriers from `frame` (an array `frame()` returned) onto this one, oldest first ([] if it
        is this very array: a source repeating frames at the processing size); None if it is older
        than the last NEAR."""
        moves: list[Carrier] = []
        for seen, move in reversed(self.recent):
            if seen is frame:
                return moves[::-1]
            moves.append(move)
        return None

    @staticmethod
    def _motion(
        measure: Flow, before: np.ndarray | None, after: np.ndarray, flow: str, seed: np.ndarray | None = None
    ) -> Motion | None:
        if flow == "off" or before is None or before is after:
            return None
        return measure.between(before, after, seed)


def display_size(
    asked: tuple[int, int] | None, sync: bool, source: Source, processing: tuple[int, int]
) -> tuple[int, int]:
    """What the outputs show: --display-size if given; with --sync the processing size; else the
    source's size, capped at 1920x1080."""
    if asked is not None:
        return asked
    return processing if sync else capped(source_size(source, processing))


def source_size(source: Source, fallback: tuple[int, int]) -> tuple[int, int]:
    """A source's frame size (width, height), as far as it tells before the first frame."""
    size = getattr(source, "size", None)  # the synthetic pattern's
    if size:
        return int(size[0]), int(size[1])
    image = getattr(source, "image", None)  # a still photo's
    if image is not None:
        return image.shape[1], image.shape[0]
    cap = getattr(source, "cap", None)
    if cap is not None:
        import cv2

        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if min(w, h) >= MIN_SIDE:
            return w, h
    return fallback


def capped(size: tuple[int, int], limit: tuple[int, int] = (1920, 1080)) -> tuple[int, int]:
    """Scaled down, keeping its shape, to fit within `limit` (a 4K camera shown at 1080p)."""
    scale = min(1.0, limit[0] / size[0], limit[1] / size[1])
    return max(MIN_SIDE, round(size[0] * scale)), max(MIN_SIDE, round(size[1] * scale))
