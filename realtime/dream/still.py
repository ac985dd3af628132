"""A still image dreamed: the settings of `deepdream dream` and the loop of steps over octaves.

`DreamSettings.transform(rng)` composes the gradient transforms the settings ask for (wrap, jitter,
tiles, blur); `dream_image` runs the steps at each octave. Arrays in, arrays out: no files here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from realtime.dream.engine import Engine
from realtime.dream.octaves import dream_octaves, octave_sizes
from realtime.dream.params import STILL
from realtime.dream.settings import settings_class
from realtime.dream.transforms import Transform, blur, compose, jitter, tiled, wrapped

# Made at run time from the parameter table, so its fields are unknown to a type checker (Any).
StillParameters: Any = settings_class(
    "StillParameters", STILL, "The STILL parameters (realtime.dream.params), checked.", module=__name__
)


class DreamSettings(StillParameters):
    """What `deepdream dream` dreams a still with: the STILL parameters, and what follows from them."""

    def dream_size(self, height: int, width: int) -> tuple[int, int]:
        """The size the dream runs at: the input's, shrunk to --max-dim a side if that is smaller."""
        if self.max_dim and max(height, width) > self.max_dim:
            factor = self.max_dim / max(height, width)
            return round(height * factor), round(width * factor)
        return height, width

    def largest_step(self, height: int, width: int) -> int:
        """Pixels of the largest image one gradient sees (what a step's memory grows with)."""
        h, w = max(
            octave_sizes(*self.dream_size(height, width), self.octaves, self.octave_scale), key=lambda hw: hw[0] * hw[1]
        )
        if self.tile:
            h, w = min(h, self.tile + 2 * 96), min(w, self.tile + 2 * 96)  # a tile and its context
        return h * (w + 2 * 128 if self.wrap else w)

    def transform(self, rng: np.random.Generator) -> Transform | None:
        """The gradient transforms these settings ask for, or None for the plain (fused) loop."""
        parts = [
            t
            for t, on in (
                (wrapped(), self.wrap),  # outermost: tiles and jitter see the padding
                (jitter(self.jitter, rng), self.jitter > 0),
                (tiled(self.tile, rng), self.tile > 0),
                (blur(self.blur, self.wrap), self.blur > 0),
            )
            if on
        ]
        return compose(*parts) if parts else None


def dream_image(
    engine: Engine, image: np.ndarray, settings: DreamSettings, on_step: Callable[[float], object] | None = None
) -> np.ndarray:
    """Dream a [-1, 1] image; `on_step(loss)` after every step (for progress)."""
    rng = np.random.default_rng(settings.seed)
    transform = settings.transform(rng)

    def at_scale(img: np.ndarray, _octave: int) -> np.ndarray:
        for _ in range(settings.steps):
            img = engine.step(img, 1, settings.step_size, transform)
            if on_step:
                on_step(engine.last_loss)
        return img

    return dream_octaves(image, settings.octaves, settings.octave_scale, at_scale)
