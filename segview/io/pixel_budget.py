"""The pixel budget: the most pixels one image may have before segview allocates anything for it.

One limit for every place that would allocate per pixel: image decoding, the sizes a dataset file only
claims (COCO ``width``/``height``, labelme ``imageWidth``/``imageHeight``), panoptic and semantic mask PNGs,
and the model pipeline. Pillow's decompression-bomb limit is kept equal to it, so Pillow refuses at the
same size with the same advice.

The default, 150 megapixels, admits every single camera frame in use (a 102 MP medium-format sensor,
a 61 MP full-frame one, 8K video at 33 MP) and a 12000×12000 scan, and refuses the sizes of the field
report (a 13000×13000 PNG, a 30000×10000 claim). Measured on a 20-megapixel image, the heaviest paths
need up to about 40 bytes a pixel (writing a panoptic PNG 15, reading one 36, predicting with the demo pair
33, beyond the process's own): about 6 GB at the default.
``segview ... --max-pixels N`` raises or lowers it for one command.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PIL import Image

from segview.errors import ImageReadError

DEFAULT_MAX_PIXELS = 150_000_000

_budget = DEFAULT_MAX_PIXELS


class PixelBudgetError(ImageReadError):
    """An image (or the size a file claims for it) has more pixels than the budget allows."""


def max_pixels() -> int:
    """The current budget, in pixels per image."""
    return _budget


def set_max_pixels(pixels: int) -> None:
    """Change the budget (and Pillow's decompression-bomb limit with it) for this process."""
    global _budget
    if pixels < 1:
        raise ValueError(f"the pixel budget must be positive, not {pixels}")
    _budget = int(pixels)
    # Pillow refuses images of more than 2 × MAX_IMAGE_PIXELS pixels (and only warns above it).
    Image.MAX_IMAGE_PIXELS = (_budget + 1) // 2


@contextlib.contextmanager
def pixel_budget(pixels: int | None) -> Iterator[None]:
    """The budget set to ``pixels`` (None: left as it is) while the block runs, then restored."""
    before = _budget
    if pixels is not None:
        set_max_pixels(pixels)
    try:
        yield
    finally:
        set_max_pixels(before)


def over_budget(width: int, height: int) -> bool:
    """True when a width × height image has more pixels than the budget."""
    return width * height > _budget


def budget_message(label: str, width: int | None = None, height: int | None = None) -> str:
    """What to say about ``label`` (an image or a size a file claims) being over the budget."""
    size = "" if width is None or height is None else f" ({width}×{height}, {width * height / 1e6:,.1f} megapixels)"
    return (
        f"{label} is too large{size}: more than segview's budget of {_budget / 1e6:g} megapixels per image. "
        "Raise it with --max-pixels N if this machine has the memory (up to about 40 bytes a pixel), or downscale "
        "or tile the image."
    )


def check_pixels(width: int, height: int, label: str) -> None:
    """Raise :class:`PixelBudgetError` when a width × height image is over the budget."""
    if over_budget(width, height):
        raise PixelBudgetError(budget_message(label, width, height))


set_max_pixels(DEFAULT_MAX_PIXELS)
