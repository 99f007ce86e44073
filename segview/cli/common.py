"""What the commands share: report printing, progress bars, argument types and option groups."""

from __future__ import annotations

import argparse
import sys

from segview.cli.options import add_max_pixels, positive_int  # noqa: F401 - the commands take them from here
from segview.core.report import Report
from segview.io.detect import DatasetFormat

EXPORT_FORMATS = [f.value for f in DatasetFormat if f is not DatasetFormat.LABELME]
INPUT_FORMATS = [f.value for f in DatasetFormat]


def print_report(title: str, report: Report, limit: int | None) -> None:
    """Print a report's issues under a title, at most ``limit`` of them."""
    if report.issues:
        print(f"{title}:")
        for line in report.format(limit).splitlines():
            print(f"  {line}")


def progress_bar(description: str, total: int | None, unit: str = "it"):
    """A tqdm bar on stderr; ``unit`` "B" counts bytes in KiB/MiB."""
    from tqdm import tqdm

    scale = unit == "B"
    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1024 if scale else 1000,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def figure(value: float | None) -> str:
    """A measured figure to three decimals, or a dash when it was not measured."""
    return "- (not measured for this model)" if value is None else f"{value:.3f}"


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that read a dataset: format, image and PNG folders, checks, limits."""
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help="skip format detection")
    parser.add_argument("--images", metavar="DIR", help="image folder (default: beside the JSON file, or when "
                        "the images are not there the image folder a segview export recorded)")
    parser.add_argument(
        "--png-dir", metavar="DIR", help="panoptic PNG folder (default: JSON path without .json)"
    )
    parser.add_argument("--no-check-images", action="store_true", help="do not open the image files")
    add_max_pixels(parser)
    parser.add_argument("--max-issues", type=int, default=50, metavar="N", help="print at most N issues")
