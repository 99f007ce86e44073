"""Reading images safely: every supported mode becomes 8-bit RGB, EXIF rotation applied, errors explained."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from segview.errors import ImageReadError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# Refuse images whose pixel count would exhaust memory (Pillow's bomb check, made an error here).
MAX_PIXELS = 300_000_000


def is_image_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise ImageReadError(f"Image not found: {path}. Check the path or the dataset's image folder.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"{path} is not an image segview can read ({exc}).") from exc
    except OSError as exc:
        raise ImageReadError(f"Could not open {path}: {exc}.") from exc
    if image.width * image.height > MAX_PIXELS:
        raise ImageReadError(
            f"{path} is {image.width}×{image.height} pixels, more than the {MAX_PIXELS:,} segview can hold. "
            "Downscale or tile it first."
        )
    return image


def _exif_transposed_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    w, h = image.size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def read_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as displayed (EXIF rotation applied), read from the header only."""
    with _open(Path(path)) as image:
        return _exif_transposed_size(image)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image to an (h, w, 3) uint8 RGB array, EXIF orientation applied."""
    path = Path(path)
    with _open(path) as image:
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
            return to_rgb8(image)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageReadError(f"{path} is truncated or corrupt ({exc}). Re-export or replace the file.") from exc


def to_rgb8(image: Image.Image) -> np.ndarray:
    """Any Pillow mode (1, L, P, I;16, I, F, LA, RGBA, CMYK, YCbCr, ...) to (h, w, 3) uint8 RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        data = np.asarray(image, dtype=np.float64)
        lo, hi = float(np.min(data, initial=0.0)), float(np.max(data, initial=0.0))
        if image.mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0
        scaled = np.zeros_like(data) if hi <= lo else (data - lo) * (255.0 / (hi - lo))
        gray = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
