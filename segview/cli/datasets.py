"""`segview convert`, `segview validate` and `segview export`: datasets in, datasets out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segview.cli.common import EXPORT_FORMATS, add_input_options, add_max_pixels, print_report
from segview.errors import ProjectLockedError, SegviewError
from segview.io.detect import DatasetFormat


def _cmd_convert(args: argparse.Namespace) -> int:
    from segview.io.detect import load_dataset
    from segview.io.export import export_dataset, single_output_layout

    fmt = DatasetFormat(args.to)
    out_dir, layout = single_output_layout(args.out, fmt)
    dataset, load_report = load_dataset(
        args.input,
        args.input_format,
        image_root=args.images,
        png_dir=args.png_dir,
        check_images=not args.no_check_images,
    )
    print_report("Reading", load_report, args.max_issues)
    errors = len(load_report.errors)
    if errors and not args.allow_errors:
        print(f"Nothing written: reading found {errors} error(s) (above); what they name would be missing from "
              f"{args.out}. Fix the input, or pass --allow-errors to write it without them.", file=sys.stderr)
        return 1
    report, written = export_dataset(
        dataset, out_dir, [fmt], mask_format=args.mask_format, category_id_base=args.category_id_base,
        check_images=False, layouts={fmt: layout}, read_back=False,
    )
    print_report("Writing", report, args.max_issues)
    if not written:
        print(f"Nothing written to {args.out}: fix the errors above, then convert again.", file=sys.stderr)
        return 1
    annotated = sum(1 for r in dataset.images if r.annotation is not None and r.annotation.segments)
    dropped = f" ({errors} reading error(s) above: what they name was left out)" if errors else ""
    print(
        f"Wrote {args.to} to {args.out}: {len(dataset.images)} image(s), {annotated} annotated, "
        f"{len(dataset.categories)} categories{dropped}."
    )
    return 0 if report.ok and not errors else 1  # left out under --allow-errors: written, yet not all


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


def _cmd_export(args: argparse.Namespace) -> int:
    from segview.io.export import LAYOUTS, export_dataset
    from segview.io.project import Project

    try:
        formats = [DatasetFormat(f.strip()) for f in args.to.split(",") if f.strip()]
    except ValueError:
        raise SegviewError(f"--to takes a comma-separated list of {', '.join(EXPORT_FORMATS)}, not {args.to!r}.") from None
    if not formats or DatasetFormat.LABELME in formats:
        raise SegviewError(f"--to takes one or more of {', '.join(EXPORT_FORMATS)}.")
    if is_dataset(Path(args.project)):  # a dataset with the edits its project holds
        from segview.io.dataset_edits import load_edited_dataset

        dataset, _read = load_edited_dataset(args.project)
        if args.scope == "corrected":
            dataset.images = [r for r in dataset.images if r.annotation is not None]
    else:
        try:
            project = Project.open(args.project, create=False)
        except ProjectLockedError as exc:  # a segview window holds it: read what it has journaled so far
            project = Project.open_read_only(args.project)
            print(f"{exc} Exporting what that window has saved so far.", file=sys.stderr)
        with project:
            dataset = project.dataset(args.scope)
    # Files of the person's own in the way (ForeignFilesError) end like every user error: one line, status 2,
    # as predict and convert do.
    report, paths = export_dataset(dataset, args.out, formats, mask_format=args.mask_format,
                                   category_id_base=args.category_id_base)
    print_report("Checking, writing and reading back", report, args.max_issues)
    if not paths:
        print("Nothing written: fix the errors above in segview, then export again.", file=sys.stderr)
        return 1
    for fmt in formats:
        print(f"Wrote {fmt.value} to {' + '.join(str(args.out / n) for n in LAYOUTS[fmt].paths)}")
    annotated = sum(1 for r in dataset.images if r.annotation is not None)
    print(f"Exported {len(dataset.images)} image(s) ({args.scope}), {annotated} annotated, "
          f"{len(dataset.categories)} categories.")
    return 0 if report.ok else 1


def is_dataset(path: Path) -> bool:
    """A dataset file, or a folder the format detection takes for a labelme or semantic-PNG dataset."""
    from segview.io.detect import detect_format

    try:
        return path.is_file() or (path.is_dir() and detect_format(path) is not None)
    except SegviewError:
        return False


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
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
    convert.add_argument("--allow-errors", action="store_true",
                         help="write the output even when reading found errors (the report lists what was "
                         "left out; the exit status is still 1); without it nothing is written")
    add_input_options(convert)
    convert.set_defaults(func=_cmd_convert)

    validate = sub.add_parser("validate", help="check a COCO, panoptic, labelme or semantic-PNG dataset")
    validate.add_argument("path")
    add_input_options(validate)
    validate.set_defaults(func=_cmd_validate)
    export = sub.add_parser("export", help="export a segview project (folder of images, or a dataset with the "
                                           "edits made on it) to dataset formats")
    export.add_argument("project", help="the project folder (images + .segview/), or a dataset (COCO / panoptic "
                                        "JSON, labelme or semantic-PNG folder) edited in segview")
    export.add_argument("--to", required=True, help="comma-separated: coco, coco-panoptic, semantic-png")
    export.add_argument("--out", required=True, type=Path, help="output folder")
    export.add_argument("--scope", choices=["corrected", "all"], default="corrected",
                        help="corrected (default): only the images whose annotation you made or accepted in "
                        "segview; all: every image, those not corrected exported with no annotation (most "
                        "trainers take them for background-only examples; the report says how many)")
    export.add_argument("--category-id-base", type=int, default=None, metavar="N",
                        help="renumber categories contiguously from N in the class order (default: keep the "
                        "project's ids, as the export dialog does; semantic-png needs N >= 1, coco-panoptic "
                        "N >= 0)")
    export.add_argument("--mask-format", choices=["auto", "polygon", "rle"], default="auto",
                        help="COCO masks: polygons when a mask has no holes, RLE otherwise (auto)")
    export.add_argument("--max-issues", type=int, default=50, metavar="N", help="print at most N issues")
    add_max_pixels(export)
    export.set_defaults(func=_cmd_export)
