"""Octaves: dream at growing scales, carrying the added detail up (google/deepdream's recipe).

The image is shrunk `octaves - 1` times by `scale`; dreaming starts on the smallest, and at each
larger scale the detail added so far (dream minus the plain image at that scale) is upscaled and
laid on the plain image before dreaming there. The result has the input's size.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from realtime.dream.parameter import MIN_SIDE


def octave_sizes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """(h, w) per octave, smallest first, the last the input's own size; none below 75 pixels."""
    sizes = []
    for i in reversed(range(octaves)):
        h, w = round(height / scale**i), round(width / scale**i)
        if min(h, w) >= MIN_SIDE:
            sizes.append((h, w))
    return sizes or [(height, width)]


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    shrinking = h < image.shape[0]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def dream_octaves(
    image: np.ndarray, octaves: int, scale: float, dream: Callable[[np.ndarray, int], np.ndarray]
) -> np.ndarray:
    """dream(image, octave_index) -> dreamed image, run on each scale with the detail carried up."""
    sizes = octave_sizes(image.shape[0], image.shape[1], octaves, scale)
    detail = np.zeros((*sizes[0], 3), np.float32)
    for index, size in enumerate(sizes):
        plain = resize(image, size)
        dreamed = dream(np.clip(plain + resize(detail, size), -1, 1), index)
        detail = dreamed - plain
    return np.clip(resize(image, sizes[-1]) + detail, -1, 1)
