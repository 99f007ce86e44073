"""The `segview` command: convert and validate datasets, manage models, predict over images."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from segview import __version__
from segview.core.report import Report
from segview.errors import SegviewError
from segview.io.detect import DatasetFormat

COMMANDS = {"convert", "validate", "models", "predict"}
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


def _progress_bar(description: str, total: int | None, unit: str = "it"):
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


def _cmd_models_list(args: argparse.Namespace) -> int:
    from segview.inference.cards import list_cards, weight_cards
    from segview.inference.weights import find_weights

    rows = []
    for card in list_cards():
        present = all(find_weights(member) is not None for member in weight_cards(card))
        rows.append(
            (card.name, card.task, "yes" if present else "no", card.title + (" (yours)" if card.user else ""))
        )
    widths = [max(len(r[i]) for r in rows + [("name", "task", "weights", "")]) for i in range(3)]
    print(f"{'name':<{widths[0]}}  {'task':<{widths[1]}}  {'weights':<{widths[2]}}  title")
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}")
    return 0


def _cmd_models_download(args: argparse.Namespace) -> int:
    from segview.inference.cards import get_card, weight_cards
    from segview.inference.weights import ensure_weights

    for member in weight_cards(get_card(args.name)):
        bar = None

        def progress(done: int, total: int | None, _name: str = member.name) -> None:
            nonlocal bar
            if bar is None:
                bar = _progress_bar(_name, total, "B")
            bar.update(done - bar.n)

        try:
            path = ensure_weights(member, allow_download=True, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        print(f"{member.name}: {path}")
    return 0


def _cmd_models_import(args: argparse.Namespace) -> int:
    from segview.inference.cards import register_checkpoint

    card = register_checkpoint(args.name, args.checkpoint, args.base, overwrite=args.overwrite)
    print(f"Registered model {card.name!r} ({card.task}) in {card.path}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from segview.core.fusion import FusionParams
    from segview.inference.batch import predict_images
    from segview.inference.pipeline import load_model
    from segview.io.detect import DatasetFormat, save_dataset

    formats = [DatasetFormat(f.strip()) for f in args.format.split(",") if f.strip()]
    model = load_model(args.model, device=args.device, weights_path=args.weights)
    print(f"Model {model.card.name} on {model.device}", file=sys.stderr)
    params = FusionParams(score_threshold=args.score_threshold)
    with _progress_bar("predict", None, "img") as bar:

        def progress(done: int, total: int, path) -> None:
            bar.total = total
            bar.update(done - bar.n)

        dataset, report = predict_images(args.paths, model, params, progress)
    _print_report("Reading", report, args.max_issues)
    targets = {
        DatasetFormat.COCO: args.out / "instances.json",
        DatasetFormat.COCO_PANOPTIC: args.out / "panoptic.json",
        DatasetFormat.SEMANTIC_PNG: args.out / "semantic",
    }
    ok = True
    for fmt in formats:
        save_report = save_dataset(dataset, fmt, targets[fmt])
        _print_report(f"Writing {fmt.value}", save_report, args.max_issues)
        ok &= save_report.ok
        print(f"Wrote {fmt.value} to {targets[fmt]}")
    print(
        f"Predicted {len(dataset.images)} image(s), skipped {len(report.errors)}; images root: {dataset.image_root}"
    )
    return 0 if ok else 1


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

    models = sub.add_parser("models", help="list, download and import models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="list model cards and whether their weights are present").set_defaults(
        func=_cmd_models_list
    )
    download = models_sub.add_parser("download", help="download a model's pretrained weights (hash-checked)")
    download.add_argument("name")
    download.set_defaults(func=_cmd_models_download)
    register = models_sub.add_parser("import", help="register your own checkpoint as a model")
    register.add_argument("name", help="name of the new model")
    register.add_argument("checkpoint", help="a state dict saved with torch.save")
    register.add_argument("--base", required=True, help="the card whose architecture the checkpoint has")
    register.add_argument("--overwrite", action="store_true")
    register.set_defaults(func=_cmd_models_import)

    predict = sub.add_parser("predict", help="run a model over images and write the results")
    predict.add_argument("paths", nargs="+", help="images or folders of images")
    predict.add_argument("--model", required=True, help="a model card name (see `segview models list`)")
    predict.add_argument("--out", required=True, type=Path, help="output folder")
    predict.add_argument(
        "--format",
        default="coco,coco-panoptic,semantic-png",
        help="comma-separated: coco, coco-panoptic, semantic-png",
    )
    predict.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    predict.add_argument("--score-threshold", type=float, default=0.5)
    predict.add_argument("--weights", help="explicit weights file for the model")
    predict.add_argument("--max-issues", type=int, default=50, metavar="N")
    predict.set_defaults(func=_cmd_predict)
    return parser


def _wants_gui(argv: Sequence[str], commands: set[str]) -> bool:
    """`segview`, `segview PATH` and `segview PATH --device X` open the window; subcommands do not."""
    return not argv or (argv[0] not in commands and not argv[0].startswith("-")) or argv[0] in ("--device", "--model")


def _run_gui(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="segview", description="Open the segview window.")
    parser.add_argument("path", nargs="?", help="a folder of images or a COCO / panoptic / labelme dataset")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--model", help="model card to start with (default: the bundled demo model)")
    args = parser.parse_args(argv)
    from segview.ui.app import run

    return run(args.path, device=args.device, model=args.model)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors print one clear line (no traceback) and exit with status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _wants_gui(argv, COMMANDS):
        return _run_gui(argv)
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
