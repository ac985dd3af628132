"""`deepdream dream`: one still image through octaves of ascent steps, with a progress bar."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.engine import Engine
from realtime.images import check_output, load_image, save_image, to_uint8, to_unit
from realtime.octaves import dream_octaves, octave_sizes, resize
from realtime.errors import UserError
from realtime.transforms import MIN_SIDE, blur, compose, jitter, tiled, wrapped

DEFAULT_MODEL = Path("models") / "inception_mixed3_mixed5.onnx"


@dataclass(frozen=True)
class DreamSettings:
    steps: int = 100
    step_size: float = 0.01
    octaves: int = 1
    octave_scale: float = 1.3
    tile: int = 0
    jitter: int = 0
    blur: float = 0.0
    max_dim: int = 0
    seed: int = 0
    wrap: bool = False

    def transform(self, rng: np.random.Generator):
        """The gradient transforms these settings ask for, or None for the plain (fused) loop."""
        parts = [t for t, on in ((wrapped(), self.wrap),  # outermost: tiles and jitter see the padding
                                 (jitter(self.jitter, rng), self.jitter > 0),
                                 (tiled(self.tile, rng), self.tile > 0),
                                 (blur(self.blur, self.wrap), self.blur > 0)) if on]
        return compose(*parts) if parts else None


def dream_image(engine: Engine, image: np.ndarray, settings: DreamSettings, on_step=None) -> np.ndarray:
    """Dream a [-1, 1] image; `on_step(loss)` after every step (for progress)."""
    rng = np.random.default_rng(settings.seed)
    transform = settings.transform(rng)

    def at_scale(img, _octave):
        for _ in range(settings.steps):
            img = engine.step(img, 1, settings.step_size, transform)
            if on_step:
                on_step(engine.last_loss)
        return img

    return dream_octaves(image, settings.octaves, settings.octave_scale, at_scale)


def run(source: Path, output: Path, model: Path, settings: DreamSettings, provider: str = "auto",
        guide: Path | None = None) -> Path:
    from tqdm import tqdm

    check_output(output, source)
    rgb = load_image(source)
    engine = Engine(model, provider)
    if guide is not None:
        engine.guide(to_unit(load_image(guide)))
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise UserError(f"{source} is {rgb.shape[1]}x{rgb.shape[0]}; the network needs {MIN_SIDE} pixels a side")
    image = to_unit(rgb)
    if settings.max_dim and max(image.shape[:2]) > settings.max_dim:
        factor = settings.max_dim / max(image.shape[:2])
        image = resize(image, (round(image.shape[0] * factor), round(image.shape[1] * factor)))
    total = settings.steps * len(octave_sizes(*image.shape[:2], settings.octaves, settings.octave_scale))
    with tqdm(total=total, desc=f"dream ({engine.provider.removesuffix('ExecutionProvider')})", unit="step") as bar:
        def tick(loss):
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(1)
        dreamed = dream_image(engine, image, settings, tick)
    out = to_uint8(resize(dreamed, rgb.shape[:2]))
    save_image(output, out)
    return output
