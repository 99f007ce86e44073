"""Argument types and options that the window's start-up needs too: argparse only, so that `segview` opens
its window without importing what the dataset commands need (numpy and the formats)."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1 (underscores allowed)."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def add_max_pixels(parser: argparse.ArgumentParser) -> None:
    """The --max-pixels option (the pixel budget of every image read)."""
    from segview.io.pixel_budget import DEFAULT_MAX_PIXELS

    parser.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help="refuse images (and sizes a file gives) of more than N pixels before allocating "
                        "for them; segview needs up to about 40 bytes a pixel (default: %(default)s)")
