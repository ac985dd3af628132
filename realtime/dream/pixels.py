"""Pixels as the network sees them: uint8 RGB <-> float32 in [-1, 1] (Inception preprocessing)."""

from __future__ import annotations

import numpy as np


def to_unit(rgb8: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 in [-1, 1] (Inception preprocessing)."""
    return rgb8.astype(np.float32) / 127.5 - 1.0


def to_uint8(unit: np.ndarray) -> np.ndarray:
    return np.clip((unit + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only view of `array`: for pixels handed to another thread, which must never change them."""
    view = array.view()
    view.flags.writeable = False
    return view
