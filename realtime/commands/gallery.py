"""`deepdream gallery`: one dream per layer mixed0..mixed10 of the same image, labelled, on one sheet.

It uses one mix model (one-hot layer weights in turn), not eleven exports, so a user sees what
each layer paints: strokes and textures low, eyes and animals high (with ImageNet weights).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realtime.dream.engine import Engine
from realtime.dream.octaves import resize
from realtime.dream.parameter import MIN_SIDE
from realtime.dream.pixels import to_uint8, to_unit
from realtime.errors import UserError
from realtime.media.images import check_output, load_image, save_image

LABEL_HEIGHT = 24


def dream_layers(engine: Engine, image: np.ndarray, steps: int, step_size: float, on_step=None):
    """[(layer, dreamed image)] for every layer of the mix model."""
    layers = engine.info.mix_layers
    out = []
    for i, name in enumerate(layers):
        engine.mix(np.eye(len(layers), dtype=np.float32)[i])
        img = image
        for _ in range(steps):
            img = engine.step(img, 1, step_size)
            if on_step:
                on_step(name)
        out.append((name, img))
    return out


def contact_sheet(tiles: list[tuple[str, np.ndarray]], columns: int = 4) -> np.ndarray:
    """uint8 RGB sheet: tiles in rows of `columns`, each with its label on a dark strip below."""
    from PIL import Image, ImageDraw

    h, w = tiles[0][1].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * w, rows * (h + LABEL_HEIGHT)), (16, 16, 16))
    draw = ImageDraw.Draw(sheet)
    for k, (label, image) in enumerate(tiles):
        x, y = (k % columns) * w, (k // columns) * (h + LABEL_HEIGHT)
        sheet.paste(Image.fromarray(to_uint8(image)), (x, y))
        draw.text((x + 6, y + h + 5), label, fill=(240, 240, 240))
    return np.asarray(sheet)


def run(
    source: Path,
    output: Path,
    model: Path,
    steps: int = 20,
    step_size: float = 0.02,
    size: int = 256,
    provider: str = "auto",
) -> Path:
    from tqdm import tqdm

    check_output(output, source)
    engine = Engine(model, provider)
    if len(engine.info.mix_layers) < 11:
        raise UserError(
            f"{model} is not a mix model up to mixed10; make one with "
            "`deepdream export --mix --layers mixed10` (it goes into the model store as mix_mixed10)"
        )
    rgb = load_image(source)
    scale = size / max(rgb.shape[:2])
    image = resize(
        to_unit(rgb), (max(MIN_SIDE, round(rgb.shape[0] * scale)), max(MIN_SIDE, round(rgb.shape[1] * scale)))
    )
    with tqdm(total=steps * len(engine.info.mix_layers), desc="gallery", unit="step") as bar:
        tiles = dream_layers(engine, image, steps, step_size, lambda name: bar.set_postfix_str(name) or bar.update())
    save_image(output, contact_sheet(tiles))
    return output
