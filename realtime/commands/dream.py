"""`deepdream dream`: one still image through octaves of ascent steps, with a progress bar."""
from __future__ import annotations

from pathlib import Path

from realtime.dream.engine import Engine
from realtime.dream.octaves import octave_sizes, resize
from realtime.dream.pixels import to_uint8, to_unit
from realtime.dream.still import DreamSettings, dream_image
from realtime.dream.transforms import MIN_SIDE
from realtime.errors import UserError
from realtime.media.images import check_output, load_image, save_image


def run(source: Path, output: Path, model: Path, settings: DreamSettings, provider: str = "auto",
        guide: Path | None = None) -> Path:
    from tqdm import tqdm

    check_output(output, source)
    rgb = load_image(source)
    image = _working_image(rgb, source, settings.max_dim)  # size problems before the model loads
    engine = Engine(model, provider)
    if guide is not None:
        engine.guide(to_unit(load_image(guide)))
    total = settings.steps * len(octave_sizes(*image.shape[:2], settings.octaves, settings.octave_scale))
    with tqdm(total=total, desc=f"dream ({engine.provider.removesuffix('ExecutionProvider')})", unit="step") as bar:
        def tick(loss):
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(1)
        dreamed = dream_image(engine, image, settings, tick)
    out = to_uint8(resize(dreamed, rgb.shape[:2]))
    save_image(output, out)
    return output


def _working_image(rgb, source: Path, max_dim: int):
    """The photo in [-1, 1], scaled down to --max-dim; refused where a side ends under the network's minimum."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise UserError(f"{source} is {rgb.shape[1]}x{rgb.shape[0]}; the network needs {MIN_SIDE} pixels a side")
    image = to_unit(rgb)
    if not max_dim or max(image.shape[:2]) <= max_dim:
        return image
    factor = max_dim / max(image.shape[:2])
    size = (round(image.shape[0] * factor), round(image.shape[1] * factor))
    if min(size) < MIN_SIDE:
        least = -(-MIN_SIDE * max(image.shape[:2]) // min(image.shape[:2]))
        raise UserError(f"--max-dim {max_dim} makes {source.name} {size[1]}x{size[0]}; the network needs "
                        f"{MIN_SIDE} pixels a side: use --max-dim {least} or more")
    return resize(image, size)
