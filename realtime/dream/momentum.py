"""Steps that move with the picture: the live dream's ascent step kept as a running mean carried along the flow.

Each frame the engine's step (the dream minus the state it started from) is a fresh gradient. Its fine
pattern follows the network's pixel grid, not the picture, so on a moving camera a fresh step points
elsewhere every frame: the feedback carries the dream along the flow and the new step paints over it,
which shows as flicker the camera does not have. Here the step is a running mean instead (momentum, as in
Ruder et al. 2016's temporally consistent video stylisation: the new result blended with the previous one,
warped): the previous frame's step, moved as the feedback's detail is moved (realtime.dream.stream), weighs
MEMORY and the fresh one the rest; the mean is then scaled to the fresh step's size, so --step-size keeps
its meaning. The fresh step first loses its grain at the scale of one pixel (GRAIN): a pattern that fine is
undone by any move of half a pixel (no warp carries it, and video's 4:2:0 colour cannot hold it), so it
would be painted anew every frame. Where the flow found nothing to carry (newly revealed pixels, the
first frame) the fresh step is all there is. The figures: docs/benchmarks/stability.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.dream.flow import Motion, warp

MEMORY = 0.95  # the carried step's weight: a memory of about 20 frames
GRAIN = 0.7  # px: the Gaussian's sigma that takes the one-pixel grain out of a fresh step


def moved(step: np.ndarray | None, motion: Motion, around: bool = False) -> np.ndarray | None:
    """The running step carried onto the new frame along `motion` (none where it shows what was hidden)."""
    if step is None:
        return None
    step = warp(step, motion.backward, around)
    step[motion.occluded] = 0.0
    return step


def steadied(state: np.ndarray, dream: np.ndarray, carried: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(the dream with its step replaced by the running mean, that mean): `dream` is `state` after the
    engine's steps, `carried` the previous mean moved onto this frame (None: start afresh)."""
    step = cv2.GaussianBlur(dream - state, (0, 0), GRAIN)
    if carried is None:
        return np.clip(state + step, -1.0, 1.0), step
    mean = cv2.addWeighted(carried, MEMORY, step, 1.0 - MEMORY, 0.0)
    mean = mean * np.float32(_size(step) / max(_size(mean), 1e-8))
    return np.clip(state + mean, -1.0, 1.0), mean


def _size(step: np.ndarray) -> float:
    """A step's size: its root mean square over every pixel and channel (about a gradient's standard deviation, its
    mean being near 0; a step that moves everything alike keeps its size too), from OpenCV's per-channel figures
    (several times faster than numpy's)."""
    means, deviations = cv2.meanStdDev(step)
    return float(np.sqrt(np.mean(deviations**2) + np.mean(means**2)))
