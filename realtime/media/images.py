"""Still images in and out: any PNG/JPEG mode to float RGB in [-1, 1], and back, written atomically."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from realtime.errors import UserError
from realtime.files import check_writable, write_atomic

WRITABLE = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}


def load_image(path: Path) -> np.ndarray:
    """uint8 [H, W, 3] RGB, EXIF orientation applied, grey/alpha/palette/16-bit converted."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not path.is_file():
        raise UserError(f"input not found: {path}")
    try:
        with _open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                # 16-bit grey: scale to 8 bits rather than let PIL clip at 255.
                arr = np.asarray(img, dtype=np.float32)
                arr = arr * (255.0 / max(float(arr.max()), 255.0) if arr.max() > 255 else 1.0)
                return np.repeat(arr.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                background = Image.new("RGBA", img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, img.convert("RGBA"))
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except Image.DecompressionBombError:
        raise UserError(
            f"{path} claims more pixels than Pillow will decode (over "
            f"{2 * Image.MAX_IMAGE_PIXELS} pixels: a decompression bomb?)"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UserError(f"{path} is not a readable image ({type(exc).__name__}: {str(exc)[:120]})") from None


def _open(path: Path):
    from PIL import Image

    with warnings.catch_warnings():
        # Between Pillow's pixel limit and twice it Pillow only warns: such a photo is real (--max-dim
        # or --tile handle it) and the two-line warning is noise. Beyond twice, Image.open raises.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path)


def load_guide(path: Path) -> np.ndarray:
    """A --guide image in [-1, 1], refused at once (before any model loads) if smaller than the network takes."""
    from realtime.dream.parameter import MIN_SIDE
    from realtime.dream.pixels import to_unit

    rgb = load_image(path)
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise UserError(f"guide {path} is {rgb.shape[1]}x{rgb.shape[0]}; the network needs {MIN_SIDE} pixels a side")
    return to_unit(rgb)


def check_output(path: Path, source: Path | None = None) -> None:
    """Refuse, before any work, an output that would clobber the input or cannot be written."""
    if path.suffix.lower() not in WRITABLE:
        raise UserError(f"cannot tell the image format of {path}; use one of {', '.join(sorted(WRITABLE))}")
    if source is not None and path.resolve() == source.resolve():
        raise UserError(f"output {path} is the input; choose another name")
    check_writable(path)


def save_image(path: Path, rgb8: np.ndarray) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb8).save(buffer, format=WRITABLE[path.suffix.lower()])
    write_atomic(path, buffer.getvalue())
