"""`deepdream dream`: one still image through octaves of ascent steps, with a progress bar."""

from __future__ import annotations

from pathlib import Path

from realtime.dream.engine import Engine
from realtime.dream.octaves import octave_sizes, resize
from realtime.dream.parameter import MIN_SIDE
from realtime.dream.pixels import to_uint8, to_unit
from realtime.dream.still import DreamSettings, dream_image
from realtime.errors import UserError
from realtime.media.images import check_output, load_guide, load_image, save_image

# Peak memory of one ascent step per pixel of its image: 440-530 bytes measured on the CPU
# (InceptionV3 mixed3+mixed5, 480x640 to 1440x1920, ru_maxrss); rounded up for headroom.
STEP_BYTES_PER_PIXEL = 600


def available_memory() -> int | None:
    """Bytes the system can still give (Linux's MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            fields = dict(line.split(":", 1) for line in fh)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def check_memory(source: Path, shape, settings: DreamSettings) -> None:
    """Refuse, before the model loads, a dream whose steps would not fit in memory, saying what helps."""
    need = settings.largest_step(*shape[:2]) * STEP_BYTES_PER_PIXEL
    free = available_memory()
    if free is not None and need > free:
        raise UserError(
            f"{source} is {shape[1]}x{shape[0]}: a step at that size needs about {need / 2**30:.1f} GiB, "
            f"{free / 2**30:.1f} GiB is free; dream it in tiles (--tile 512) or smaller (--max-dim 2000)"
        )


def run(
    source: Path, output: Path, model: Path, settings: DreamSettings, provider: str = "auto", guide: Path | None = None
) -> Path:
    from tqdm import tqdm

    check_output(output, source)
    rgb = load_image(source)
    image = _working_image(rgb, source, settings)  # size problems before the model loads
    check_memory(source, rgb.shape, settings)
    guide_image = load_guide(guide) if guide is not None else None
    engine = Engine(model, provider)
    if guide_image is not None:
        engine.guide(guide_image)
    total = settings.steps * len(octave_sizes(*image.shape[:2], settings.octaves, settings.octave_scale))
    with tqdm(total=total, desc=f"dream ({engine.provider.removesuffix('ExecutionProvider')})", unit="step") as bar:

        def tick(loss):
            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            bar.update(1)

        dreamed = dream_image(engine, image, settings, tick)
    out = to_uint8(resize(dreamed, rgb.shape[:2]))
    save_image(output, out)
    return output


def _working_image(rgb, source: Path, settings: DreamSettings):
    """The photo in [-1, 1] at the size the dream runs at; refused where a side is under the network's minimum."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise UserError(f"{source} is {rgb.shape[1]}x{rgb.shape[0]}; the network needs {MIN_SIDE} pixels a side")
    size = settings.dream_size(*rgb.shape[:2])
    if min(size) < MIN_SIDE:
        least = -(-MIN_SIDE * max(rgb.shape[:2]) // min(rgb.shape[:2]))
        raise UserError(
            f"--max-dim {settings.max_dim} makes {source.name} {size[1]}x{size[0]}; the network needs "
            f"{MIN_SIDE} pixels a side: use --max-dim {least} or more"
        )
    return resize(to_unit(rgb), size)
