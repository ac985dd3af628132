"""Gradient transforms, lucid-style: `(config) -> (gradient fn) -> gradient fn`, combined with `compose`.

A gradient fn maps an [H, W, 3] image to d loss / d image. Each transform wraps one:
- `jitter(pixels, rng)`: roll the image by a random offset, take the gradient, roll it back, so the
  dream does not lock to the pixel grid or to tile borders (the lecture notes' "jitter").
- `tiled(tile, rng)`: gradient of an image larger than a tile, one overlapping tile at a time, with
  a random offset per call, so memory stays bounded and no seam forms.
- `blur(sigma)`: Gaussian smoothing of the gradient, for softer, larger strokes.
- `wrapped(margin)`: for 360-degree equirectangular panoramas, the gradient of the image padded
  left and right with its own other edge, so nothing marks where the panorama's edges meet.
All are off by default; `compose()` of nothing is the identity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import reduce

import cv2
import numpy as np

from realtime.dream.parameter import MIN_SIDE

Gradient = Callable[[np.ndarray], np.ndarray]  # [H, W, 3] image -> [H, W, 3] raw gradient
Transform = Callable[[Gradient], Gradient]  # a gradient fn -> one that wraps it (jitter, tiles, blur, wrap)


def compose(*transforms: Transform) -> Transform:
    """compose(a, b)(grad) == a(b(grad)): b wraps the gradient first, a outermost."""
    return lambda grad_fn: reduce(lambda fn, t: t(fn), reversed(transforms), grad_fn)


def jitter(pixels: int, rng: np.random.Generator) -> Transform:
    def wrap(grad_fn: Gradient) -> Gradient:
        def rolled(image: np.ndarray) -> np.ndarray:
            dy, dx = (int(v) for v in rng.integers(-pixels, pixels + 1, size=2))
            grad = grad_fn(np.roll(image, (dy, dx), axis=(0, 1)))
            return np.roll(grad, (-dy, -dx), axis=(0, 1))

        return rolled

    return wrap


def blur(sigma: float, around: bool = False) -> Transform:
    """Gaussian smoothing of the gradient; `around`: the left and right edges are neighbours."""
    pad = int(3 * sigma + 1) if around else 0

    def wrap(grad_fn: Gradient) -> Gradient:
        def smoothed(image: np.ndarray) -> np.ndarray:
            grad = grad_fn(image)
            if pad:
                grad = np.pad(grad, ((0, 0), (pad, pad), (0, 0)), mode="wrap")
            out = cv2.GaussianBlur(grad, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
            return out[:, pad:-pad] if pad else out

        return smoothed

    return wrap


def wrapped(margin: int = 128) -> Transform:
    """Gradient of the panorama seen with `margin` columns of its other edge on each side.

    The margin is a multiple of 32, InceptionV3's largest stride, so the padded image keeps the
    network's sampling grid where it was.
    """
    margin = -(-margin // 32) * 32

    def wrap(grad_fn: Gradient) -> Gradient:
        def around(image: np.ndarray) -> np.ndarray:
            m = min(margin, image.shape[1])
            grad = grad_fn(np.pad(image, ((0, 0), (m, m), (0, 0)), mode="wrap"))
            return grad[:, m:-m]

        return around

    return wrap


def tile_spans(length: int, tile: int, margin: int) -> list[tuple[int, int, int, int]]:
    """(read_start, read_end, keep_start, keep_end) per tile along one axis.

    The kept parts partition [0, length); each read part adds up to `margin` pixels of context on
    both sides, so the gradient near a tile's edge sees what the whole-image gradient sees.
    """
    count = max(1, math.ceil(length / tile))
    edges = np.linspace(0, length, count + 1).round().astype(int)
    spans = []
    for start, end in zip(edges[:-1], edges[1:]):
        lo, hi = max(0, start - margin), min(length, end + margin)
        if hi - lo < MIN_SIDE:  # widen a tiny edge tile to the network's minimum
            lo, hi = max(0, min(lo, hi - MIN_SIDE)), min(length, max(hi, lo + MIN_SIDE))
        spans.append((int(lo), int(hi), int(start), int(end)))
    return spans


def tiled(tile: int, rng: np.random.Generator | None, margin: int = 96) -> Transform:
    """Tile-wise gradient; with an rng, tiles move by a random offset (rolled, wrapped) each call."""

    def wrap(grad_fn: Gradient) -> Gradient:
        def by_tiles(image: np.ndarray) -> np.ndarray:
            h, w = image.shape[:2]
            if h <= tile and w <= tile:
                return grad_fn(image)
            dy, dx = (0, 0) if rng is None else (int(rng.integers(0, h)), int(rng.integers(0, w)))
            shifted = np.roll(image, (dy, dx), axis=(0, 1)) if (dy or dx) else image
            out = np.empty_like(image)
            for r0, r1, k0, k1 in tile_spans(h, tile, margin):
                for c0, c1, j0, j1 in tile_spans(w, tile, margin):
                    g = grad_fn(np.ascontiguousarray(shifted[r0:r1, c0:c1]))
                    # The loss is a mean over the tile: rescale to the whole image's mean.
                    share = (r1 - r0) * (c1 - c0) / (h * w)
                    out[k0:k1, j0:j1] = g[k0 - r0 : k1 - r0, j0 - c0 : j1 - c0] * share
            return np.roll(out, (-dy, -dx), axis=(0, 1)) if (dy or dx) else out

        return by_tiles

    return wrap
