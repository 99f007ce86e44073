"""The PNG mask files of an export: their names from the images' names, and atomic writing."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from PIL import Image

from segview.core.dataset import ImageRecord
from segview.io.atomic import atomic_write_with


def png_name(record: ImageRecord) -> str:
    """The mask file of an image: its relative path with ``.png``; unsafe paths are flattened to the name."""
    path = PurePosixPath(record.file_name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        path = PurePosixPath(path.name)
    if not path.name:
        path = PurePosixPath(f"image_{record.id}")
    return str(path.with_suffix(".png"))


def write_png(path: Path, image: Image.Image) -> None:
    """Save a Pillow image as PNG atomically."""
    atomic_write_with(path, lambda handle: image.save(handle, format="PNG"))
