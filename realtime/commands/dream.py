"""`deepdream dream`: one still image through octaves of ascent steps, with a progress bar."""
from __future__ import annotations

from pathlib import Path

from realtime.dream.engine import Engine
from realtime.dream.octaves import octave_sizes, resize
from realtime.dream.pixels import to_uint8, to_unit
from realtime.dream.still import DreamSettings, dream_image
from realtime.dream.transforms import MIN_SIDE
from realtime.errors import UserError
from realtime.media.images import check_output, load_guide, load_image, save_image


def run(source: Path, output: Path, model: Path, settings: DreamSettings, provider: str = "auto",
        guide: Path | None = None) -> Path:
    from tqdm import tqdm

    check_output(output, source)
    rgb = load_image(source)
    guide_rgb = load_guide(guide, MIN_SIDE) if guide is not None else None
    engine = Engine(model, provider)
    if guide_rgb is not None:
        engine.guide(to_unit(guide_rgb))
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
