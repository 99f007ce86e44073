"""Reading images safely: every supported mode becomes 8-bit RGB, EXIF rotation applied, errors explained.

Every failure (missing, not an image, truncated, corrupt, too large) is an ``ImageReadError`` naming
the file; Pillow's ``LOAD_TRUNCATED_IMAGES`` is left off, so a cut file is an error, never half an image.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from segview.errors import ImageReadError
from segview.io.pixel_budget import PixelBudgetError, budget_message, check_pixels

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

ImageSource = str | os.PathLike | bytes

# segview checks sizes itself (segview.io.pixel_budget), so Pillow's bomb *warning* below its hard limit is noise.
# A module-level filter rather than catch_warnings() per call: the latter is not thread-safe.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

# What Pillow's plugins raise on damaged or hostile input ("image file is truncated" is an OSError).
_DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, ArithmeticError,
    struct.error, zlib.error,
)
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def is_image_file(path: str | os.PathLike) -> bool:
    """True when the file name has one of the image suffixes segview reads."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


@contextlib.contextmanager
def _opened(source: ImageSource, name: str | None) -> Iterator[tuple[Image.Image, str]]:
    """Open the header only; yield the image and the label used in messages."""
    if isinstance(source, bytes):
        label, fp, n_bytes = name or "embedded image", io.BytesIO(source), len(source)
    else:
        path = Path(source)
        label, fp = name or str(path), path
        try:
            if path.is_dir():
                raise ImageReadError(f"{label} is a folder, not an image file. Give the path of an image.")
            if not path.is_file():
                raise ImageReadError(f"Image not found: {label}. Check the path or the dataset's image folder.")
            n_bytes = path.stat().st_size
        except OSError as exc:  # a path too long, a permission denied on a folder above it, ...
            raise ImageReadError(f"Cannot open {label}: {exc.strerror or exc}. Check the path.") from exc
    if n_bytes == 0:
        raise ImageReadError(f"{label} is empty (0 bytes). Replace it with the real image.")
    try:
        image = Image.open(fp)
    except Image.DecompressionBombError as exc:  # Pillow's limit follows the pixel budget
        raise PixelBudgetError(budget_message(label)) from exc
    except UnidentifiedImageError as exc:
        raise ImageReadError(
            f"{label} is not an image segview can read (unknown format or damaged header). "
            "Replace it with a PNG, JPEG, TIFF, BMP or WebP file."
        ) from exc
    except PermissionError as exc:
        raise ImageReadError(f"Permission denied reading {label}. Check the file's permissions.") from exc
    except _DECODE_ERRORS as exc:
        raise ImageReadError(f"{label} is corrupt or unreadable ({exc}). Replace the file.") from exc
    with image:
        check_pixels(image.width, image.height, label)
        if image.width == 0 or image.height == 0:
            raise ImageReadError(f"{label} has no pixels ({image.width}×{image.height}). Replace the file.")
        yield image, label


def _orientation(image: Image.Image, label: str) -> int:
    """The EXIF orientation (1..8) known from the header; 1 when absent.

    A PNG's eXIf chunk counts only when it precedes the pixel data: Pillow would decode the whole
    image to look for a later one, and the size must be readable from the header alone.
    """
    if image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS as exc:
        raise ImageReadError(f"{label} has corrupt EXIF metadata ({exc}). Re-export the file.") from exc
    return orientation if orientation in _TRANSPOSE else 1


def read_image_size(source: ImageSource, *, name: str | None = None) -> tuple[int, int]:
    """(width, height) as displayed (EXIF rotation applied), read from the header only.

    ``source`` is a path or the encoded bytes of an image; ``name`` labels it in error messages.
    """
    with _opened(source, name) as (image, label):
        w, h = image.size
        return (h, w) if _orientation(image, label) in (5, 6, 7, 8) else (w, h)


def read_image(source: ImageSource, *, name: str | None = None) -> np.ndarray:
    """Decode an image (a path or encoded bytes) to an (h, w, 3) uint8 RGB array, EXIF orientation applied."""
    return _decode(source, name, lambda image: image.load())


def read_thumbnail(source: ImageSource, max_side: int, *, name: str | None = None) -> np.ndarray:
    """Decode a small version of an image, at most ``max_side`` pixels on its longer side, as (h, w, 3)
    uint8 RGB with EXIF orientation applied. JPEGs decode at a reduced scale (Pillow's draft mode), so a
    huge photo costs a fraction of a full read."""

    def shrink(image: Image.Image) -> None:
        image.draft("RGB", (max_side, max_side))
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)

    return _decode(source, name, shrink)


class _NotReducible(Exception):
    """The format has no reduced decoding (only JPEG's DCT scaling is used)."""


def read_reduced(source: ImageSource, long_side: int, *, name: str | None = None) -> np.ndarray | None:
    """A JPEG decoded straight at 1/2, 1/4 or 1/8 scale (Pillow's draft mode: the DCT is scaled, so it
    costs a fraction of a full decode), the smallest whose longer side is still about ``long_side`` or
    more; (h, w, 3) uint8 RGB, EXIF orientation applied. None for other formats, which cannot decode
    reduced (the caller reads the full image)."""

    def draft(image: Image.Image) -> None:
        if image.format != "JPEG":
            raise _NotReducible
        longest = max(image.size)
        image.draft("RGB", (max(1, image.width * long_side // longest), max(1, image.height * long_side // longest)))
        image.load()

    try:
        return _decode(source, name, draft)
    except _NotReducible:
        return None


def _decode(source: ImageSource, name: str | None, load) -> np.ndarray:
    """Open, ``load(image)`` in place (decoding all of it, or a reduced version), rotate, convert to RGB."""
    with _opened(source, name) as (image, label):
        orientation = _orientation(image, label)
        try:
            load(image)
        except MemoryError as exc:
            raise ImageReadError(
                f"Not enough memory to decode {label} ({image.width}×{image.height}). Downscale it first."
            ) from exc
        except (*_DECODE_ERRORS, Image.DecompressionBombError) as exc:
            raise ImageReadError(f"{label} is truncated or corrupt ({exc}). Replace the file.") from exc
        if orientation != 1:
            image = image.transpose(_TRANSPOSE[orientation])
        try:
            return to_rgb8(image)
        except ValueError as exc:
            raise ImageReadError(
                f"{label} has pixel mode {image.mode}, which segview cannot show ({exc}). Convert it to RGB."
            ) from exc


def to_rgb8(image: Image.Image) -> np.ndarray:
    """Any Pillow mode (1, L, P, I;16, I, F, LA, RGBA, CMYK, YCbCr, ...) to (h, w, 3) uint8 RGB.

    Unsigned 16-bit images are scaled from their full range (0..65535); other integer and float images are
    stretched from min(0, lowest) to max(0, highest), NaN and infinities shown black. Transparent
    pixels (alpha channel or a palette/tRNS transparent colour) are composited on white.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        gray = (np.asarray(image, dtype=np.uint32) * 255 + 32767) // 65535
        return np.repeat(gray.astype(np.uint8)[..., None], 3, axis=2)
    if image.mode in ("I", "F") or image.mode.startswith("I;"):  # signed or 32-bit variants too
        data = np.asarray(image, dtype=np.float64)
        finite = np.isfinite(data)
        lo = float(np.min(data, where=finite, initial=0.0))
        hi = float(np.max(data, where=finite, initial=0.0))
        scaled = np.zeros_like(data) if hi <= lo else (np.where(finite, data, lo) - lo) * (255.0 / (hi - lo))
        gray = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode in ("RGBA", "RGBa", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
