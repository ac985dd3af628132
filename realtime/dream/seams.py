"""Is there a seam where separately dreamed chunks meet? Per-frame figures and the seam test of `render --ray`.

Per frame t: the warping error of Ruder et al. 2016 (output t-1 carried by the source's optical
flow onto frame t, its mean absolute difference from output t over the non-occluded pixels),
divided by the same for the source (what the camera's own motion and lighting leave), and the
dream strength, mean |output - source|. A frame near a border is worse than the clip's own
outliers when its warping error exceeds the 95th percentile of the other frames' or its strength
falls below their 5th percentile: `seam_figures` gives both as ratios (worst near-border frame
over that percentile; a jump shows as warp > 1, a fade as strength < 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.dream.flow import Flow, warp


@dataclass(frozen=True)
class Seams:
    warp: float  # worst near-border warping error / the other frames' 95th percentile
    strength: float  # weakest near-border strength / the other frames' 5th percentile


def per_frame(source: Sequence[np.ndarray], output: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """uint8 RGB frames (the source is scaled to the output's size) -> (warping error, strength) per
    frame; frame 0 has no warping error (nan)."""
    h, w = output[0].shape[:2]
    src = [f if f.shape[:2] == (h, w) else cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in source]
    flow = Flow()
    errors: list[float] = [np.nan]
    for t in range(1, len(output)):
        motion = flow.between(src[t - 1], src[t])
        keep = ~motion.occluded
        errors.append(
            _moved_error(output, t, motion.backward, keep) / max(_moved_error(src, t, motion.backward, keep), 1e-6)
        )
    strength = [np.abs(o.astype(np.float32) - s.astype(np.float32)).mean() for o, s in zip(output, src)]
    return np.array(errors), np.array(strength)


def _moved_error(frames: Sequence[np.ndarray], t: int, backward: np.ndarray, keep: np.ndarray) -> float:
    """Frame t-1 warped onto frame t: the mean absolute difference over the unoccluded pixels."""
    moved = warp(frames[t - 1].astype(np.float32), backward)
    return float(np.abs(moved - frames[t].astype(np.float32))[keep].mean())


def seam_figures(
    source: Sequence[np.ndarray], output: Sequence[np.ndarray], borders: Sequence[int], near: int = 1
) -> Seams:
    """`borders`: first frames of the chunks after the first; `near` frames either side count."""
    errors, strength = per_frame(source, output)
    close = {b + d for b in borders for d in range(-near, near + 1)} & set(range(1, len(output)))
    others = [t for t in range(1, len(output)) if t not in close]
    worst = max(errors[t] for t in close) / np.percentile(errors[others], 95)
    weakest = min(strength[t] for t in close) / np.percentile(strength[others], 5)
    return Seams(float(worst), float(weakest))
