"""The display path of the asynchronous mode: every camera frame shown at once, with the dream on it.

Per camera frame (`DisplayPath.frame`): the frame is scaled to the processing size, the optical
flow from the previously shown frame is measured there, the detail on screen is carried along it,
a dream that has just finished is carried onto this one and faded in over `--dream-fade` frames
(the worker carries it onto the newest frame it was offered, usually the previous one here, so the
display only adds this frame's motion; from an older frame, one flow between the two, started from
the per-frame flows since then composed: realtime.dream.chain), and the camera frame at the display
size gets the detail, scaled up, laid on it. The camera stays sharp and on time; the dream sticks to
what moves. Runs on the loop's thread; the worker (realtime.show.worker) never touches it.
"""
from __future__ import annotations

import time

import numpy as np

from realtime.dream.chain import FAR_ALONE, Chain
from realtime.dream.flow import Flow, following
from realtime.dream.reproject import Fade, carry, compose, fit, padded


class DisplayPath:
    def __init__(self, processing: tuple[int, int], display: tuple[int, int], fade_frames: int,
                 flow: str = "dis", around: bool = False):
        self.processing, self.display, self.around = processing, display, around
        self.fade = Fade(fade_frames)
        self.flow = following(None, flow, around)
        self.far = following(None, flow, around, far=True)  # from a dream's frame
        self.prev: np.ndarray | None = None  # the previous frame, processing size
        self.chain = Chain()  # the per-frame motions, for a dream that lands many frames later
        self.motion = None  # the motion onto the frame last handled from the one before, coarse (Motion.coarse)
        self.landed = None  # the newest DreamUpdate on screen
        self.spent = {"flow": 0.0, "warp": 0.0, "compose": 0.0}  # seconds, summed

    def frame(self, image: np.ndarray, flow: str = "dis", update=None) -> tuple[np.ndarray, np.ndarray]:
        """A camera frame (uint8 RGB, any size) -> (it at the processing size, what to show at the display size).

        `flow` is the live parameter ("off": the detail stays where it is); `update` a finished dream."""
        t0 = time.perf_counter()
        proc = fit(image, self.processing)  # counted with the flow, whose input it is
        self.flow = following(self.flow, flow, self.around)  # switched live, maybe
        self.far = following(self.far, flow, self.around, far=True)
        moved = self._motion(self.flow, self.prev, proc, flow)
        self.motion = None if moved is None else moved.coarse
        self.chain.push(proc, self.motion)
        landing = None
        if update is not None and update.frame is self.prev:  # the worker carried it onto the last frame
            landing = moved
        elif update is not None:  # update.frame is the array this method returned for that frame
            seed = self.chain.since(update.frame, beyond=FAR_ALONE)
            landing = self._motion(self.far, update.frame, proc, flow, seed)
        t1 = time.perf_counter()
        self.fade.carry(moved, self.around)
        if update is not None:
            self.fade.land(carry(padded(update.detail), landing, self.around))
            self.landed = update
        t2 = time.perf_counter()
        shown = compose(image, self.fade.step(), self.display, proc)
        t3 = time.perf_counter()
        self.prev = proc
        for key, seconds in (("flow", t1 - t0), ("warp", t2 - t1), ("compose", t3 - t2)):
            self.spent[key] += seconds
        return proc, shown

    @staticmethod
    def _motion(measure: Flow, before: np.ndarray | None, after: np.ndarray, flow: str, seed=None):
        if flow == "off" or before is None or before is after:
            return None
        return measure.between(before, after, seed)
