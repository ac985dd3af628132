"""The protocol's own screens, drawn at the shown size: instructions, rest (grey, a fixation cross or the undreamed
camera), a rating (a 1-9 key scale or a visual-analogue slider), the pause.

Text is drawn with Pillow's built-in FreeType font (any script it covers, no font file to install); grey is
mid-grey (128), the luminance a rest screen is usually matched to.
"""

from __future__ import annotations

import textwrap
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from realtime.dream.reproject import fit

GREY, INK = 128, 255


def grey(size: tuple[int, int]) -> np.ndarray:
    return np.full((size[1], size[0], 3), GREY, np.uint8)


def cross(size: tuple[int, int]) -> np.ndarray:
    """A fixation cross on grey: arms a tenth of the shorter side, lines a hundredth thick (at least 2 px)."""
    picture = grey(size)
    w, h = size
    arm, half = max(4, min(w, h) // 10), max(1, min(w, h) // 200)
    picture[h // 2 - half : h // 2 + half + 1, w // 2 - arm : w // 2 + arm + 1] = INK
    picture[h // 2 - arm : h // 2 + arm + 1, w // 2 - half : w // 2 + half + 1] = INK
    return picture


def rest(kind: str, size: tuple[int, int], camera: np.ndarray | None = None) -> np.ndarray:
    """The rest screen: grey, cross, or the camera's frame as it is, scaled to the shown size."""
    if kind == "camera" and camera is not None:
        return fit(camera, size)
    return cross(size) if kind == "cross" else grey(size)


def text(size: tuple[int, int], words: str, below: str = "") -> np.ndarray:
    """`words` wrapped and centred on grey, `below` (a key's hint) under them."""
    image = Image.fromarray(grey(size))
    draw = ImageDraw.Draw(image)
    pixels = max(12, size[1] // 18)
    font = _font(pixels)
    columns = max(10, int(size[0] / (pixels * 0.55)))
    lines = [line for part in words.splitlines() for line in textwrap.wrap(part, columns) or [""]]
    if below:
        lines += ["", below]
    step = pixels * 1.3
    top = (size[1] - step * len(lines)) / 2
    for i, line in enumerate(lines):
        draw.text((size[0] / 2, top + i * step), line, fill=(INK,) * 3, font=font, anchor="ma")
    return np.asarray(image).copy()


def rating(size: tuple[int, int], prompt: str, scale: str, position: int | None = None) -> np.ndarray:
    """The rating screen: the prompt, then the keys 1..9 or the slider 0..100 with its mark at `position`."""
    hint = "press 1 ... 9" if scale == "keys" else "left / right to move, return to answer"
    picture = text(size, prompt, hint)
    if scale == "vas":
        w, h = size
        y, left, right = int(h * 0.8), w // 10, w - w // 10
        picture[y - 1 : y + 2, left:right] = INK
        x = left + round((right - left) * (50 if position is None else position) / 100)
        picture[y - h // 30 : y + h // 30 + 1, max(0, x - 2) : x + 3] = INK
    return picture


@cache
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)
