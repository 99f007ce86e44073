"""Decoding the image on screen without freezing the window.

A big JPEG (more than ``PREVIEW_PIXELS``) is shown at once from a reduced decode (1/2–1/8 scale, about
0.1 s for 48 megapixels, against 0.8–6 s for the full decode), as a preview pyramid of the full size, so
the layers line up already; the full image is decoded on a worker thread and swapped in when it arrives
(``full_ready``). Smaller images, and formats that cannot decode reduced, are decoded at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from segview.errors import SegviewError
from segview.ui.background import BackgroundJobs
from segview.ui.canvas.array_items import ImagePyramid

PREVIEW_PIXELS = 12_000_000  # above this a JPEG shows its reduced decode first
PREVIEW_SIDE = 1500  # the preview's longer side is at least about this many pixels


@dataclass(frozen=True)
class OpenedImage:
    """An image chosen for the screen: the full array, or a preview pyramid until ``full_ready``."""

    ticket: int
    image: np.ndarray | ImagePyramid
    complete: bool


class ImageLoader(QObject):
    """Opens images for the screen; ``decode`` reads a full image (default ``read_image``; a test may
    hold it back). Pillow is imported on the first image, not with the window."""

    full_ready = Signal(int, object)  # ticket, (h, w, 3) uint8 RGB
    failed = Signal(int, str)  # ticket, the reason (a SegviewError's message)

    def __init__(self, parent: QObject | None = None,
                 decode: Callable[[str | os.PathLike], np.ndarray] | None = None) -> None:
        super().__init__(parent)
        self.decode = decode
        self.jobs = BackgroundJobs("image-decode", self)
        self.jobs.finished.connect(self._finished)

    def open(self, path: str | os.PathLike) -> OpenedImage:
        """The image at ``path`` now: complete, or a preview whose full decode has started. Raises
        SegviewError (ImageReadError) when the file cannot be read at all."""
        from segview.io.images import read_image, read_image_size, read_reduced

        decode = self.decode or read_image
        self.jobs.cancel()  # the image shown before is no longer wanted
        width, height = read_image_size(path)
        reduced = read_reduced(path, PREVIEW_SIDE) if width * height > PREVIEW_PIXELS else None
        if reduced is None:
            return OpenedImage(self.jobs.ticket, decode(path), True)
        ticket = self.jobs.submit(decode, path)
        return OpenedImage(ticket, ImagePyramid.preview(reduced, (height, width)), False)

    def is_current(self, ticket: int) -> bool:
        """Whether ``ticket`` belongs to the image opened last."""
        return self.jobs.is_current(ticket)

    def _finished(self, ticket: int, rgb: np.ndarray | None, error: Exception | None) -> None:
        if not self.jobs.is_current(ticket):
            return
        if isinstance(error, SegviewError):
            self.failed.emit(ticket, str(error))
        elif error is not None:
            raise error
        else:
            self.full_ready.emit(ticket, rgb)
