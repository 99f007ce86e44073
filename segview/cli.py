"""The `segview` command: dataset conversion and validation (the GUI and models come later)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from segview import __version__
from segview.core.report import Report
from segview.errors import SegviewError
from segview.io.detect import DatasetFormat

EXPORT_FORMATS = [f.value for f in DatasetFormat if f is not DatasetFormat.LABELME]
INPUT_FORMATS = [f.value for f in DatasetFormat]


def _print_report(title: str, report: Report, limit: int | None) -> None:
    if report.issues:
        print(f"{title}:")
        for line in report.format(limit).splitlines():
            print(f"  {line}")


def _cmd_convert(args: argparse.Namespace) -> int:
    from segview.io.detect import load_dataset, save_dataset

    dataset, load_report = load_dataset(
        args.input,
        args.input_format,
        image_root=args.images,
        png_dir=args.png_dir,
        check_images=not args.no_check_images,
    )
    _print_report("Reading", load_report, args.max_issues)
    save_report = save_dataset(
        dataset, args.to, args.out, mask_format=args.mask_format, category_id_base=args.category_id_base
    )
    _print_report("Writing", save_report, args.max_issues)
    annotated = sum(1 for r in dataset.images if r.annotation is not None and r.annotation.segments)
    print(
        f"Wrote {args.to} to {args.out}: {len(dataset.images)} image(s), {annotated} annotated, "
        f"{len(dataset.categories)} categories."
    )
    return 0 if save_report.ok else 1


def _cmd_validate(args: argparse.Namespace) -> int:
    from segview.io.detect import detect_format, load_dataset

    fmt = DatasetFormat(args.input_format) if args.input_format else detect_format(args.path)
    dataset, report = load_dataset(
        args.path, fmt, image_root=args.images, png_dir=args.png_dir, check_images=not args.no_check_images
    )
    segments = sum(len(r.annotation.segments) for r in dataset.images if r.annotation is not None)
    print(
        f"{args.path}: {fmt.value}, {len(dataset.images)} image(s), {segments} segment(s), "
        f"{len(dataset.categories)} categories"
    )
    for line in report.format(args.max_issues).splitlines():
        print(f"  {line}")
    print("valid" if report.ok else "INVALID")
    return 0 if report.ok else 1


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help="skip format detection")
    parser.add_argument("--images", metavar="DIR", help="image folder (default: beside the JSON file)")
    parser.add_argument(
        "--png-dir", metavar="DIR", help="panoptic PNG folder (default: JSON path without .json)"
    )
    parser.add_argument("--no-check-images", action="store_true", help="do not open the image files")
    parser.add_argument("--max-issues", type=int, default=50, metavar="N", help="print at most N issues")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="segview", description=__doc__)
    parser.add_argument("--version", action="version", version=f"segview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    convert = sub.add_parser("convert", help="convert a dataset between formats")
    convert.add_argument("input", help="COCO / panoptic JSON file, labelme folder or semantic-PNG folder")
    convert.add_argument("--to", required=True, choices=EXPORT_FORMATS)
    convert.add_argument("--out", required=True, help="output JSON file (coco, coco-panoptic) or folder")
    convert.add_argument(
        "--mask-format",
        choices=["auto", "polygon", "rle"],
        default="auto",
        help="COCO masks: polygons when a mask has no holes, RLE otherwise (auto)",
    )
    convert.add_argument(
        "--category-id-base",
        type=int,
        default=None,
        metavar="N",
        help="renumber categories contiguously from N (default: keep ids)",
    )
    _add_input_options(convert)
    convert.set_defaults(func=_cmd_convert)

    validate = sub.add_parser("validate", help="check a COCO, panoptic, labelme or semantic-PNG dataset")
    validate.add_argument("path")
    _add_input_options(validate)
    validate.set_defaults(func=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors print one clear line (no traceback) and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SegviewError as exc:
        print(f"segview: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("segview: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
