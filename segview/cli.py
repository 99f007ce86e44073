"""The `segview` command: convert and validate datasets, manage models, predict over images, train the
demo model and evaluate models."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from segview import __version__
from segview.core.report import Report
from segview.errors import ProjectLockedError, SegviewError
from segview.io.detect import DatasetFormat

COMMANDS = {"convert", "validate", "models", "predict", "train-demo", "eval", "export"}
EXPORT_FORMATS = [f.value for f in DatasetFormat if f is not DatasetFormat.LABELME]
INPUT_FORMATS = [f.value for f in DatasetFormat]


def _print_report(title: str, report: Report, limit: int | None) -> None:
    if report.issues:
        print(f"{title}:")
        for line in report.format(limit).splitlines():
            print(f"  {line}")


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
    _print_report("Reading", load_report, args.max_issues)
    errors = len(load_report.errors)
    if errors and not args.allow_errors:
        print(f"Nothing written: reading found {errors} error(s) (above); what they name would be missing from "
              f"{args.out}. Fix the input, or pass --allow-errors to write it without them.", file=sys.stderr)
        return 1
    report, written = export_dataset(
        dataset, out_dir, [fmt], mask_format=args.mask_format, category_id_base=args.category_id_base,
        check_images=False, layouts={fmt: layout}, read_back=False,
    )
    _print_report("Writing", report, args.max_issues)
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
        delay=0.2,  # shown once there is something to count (predict learns its total after collecting images)
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
    from segview.inference.cards import user_models_dir
    from segview.inference.pipeline import load_model
    from segview.inference.user_cards import register_checkpoint

    target = user_models_dir() / f"{args.name}.toml"
    previous = target.read_bytes() if target.is_file() else None  # an overwritten card comes back on failure
    card = register_checkpoint(args.name, args.checkpoint, args.base, overwrite=args.overwrite)
    try:
        load_model(card, device="cpu")  # a checkpoint of another architecture is refused now, not in segview
    except SegviewError as exc:
        if previous is None:
            card.path.unlink(missing_ok=True)
        else:
            card.path.write_bytes(previous)
        raise SegviewError(f"Model {args.name!r} not registered: {exc}") from None
    print(f"Registered model {card.name!r} ({card.task}) in {card.path}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from segview.core.fusion import FusionParams
    from segview.inference.batch import predict_images
    from segview.inference.pipeline import load_model
    from segview.io.export import LAYOUTS, export_dataset, refuse_foreign_files

    try:
        formats = [DatasetFormat(f.strip()) for f in args.format.split(",") if f.strip()]
    except ValueError:
        raise SegviewError(f"--format takes a comma-separated list of {', '.join(EXPORT_FORMATS)}, not "
                           f"{args.format!r}.") from None
    refuse_foreign_files(args.out, formats)  # before the model runs: files of the person's own are in the way
    model = load_model(args.model, device=args.device, weights_path=args.weights)
    weights = f" with the weights {args.weights}" if args.weights else ""
    print(f"Model {model.card.name} on {model.device}{weights}", file=sys.stderr)
    params = FusionParams(score_threshold=args.score_threshold)
    with _progress_bar("predict", None, "img") as bar:

        def progress(done: int, total: int, path) -> None:
            bar.total = total
            bar.update(done - bar.n)

        dataset, report = predict_images(args.paths, model, params, progress)
    _print_report("Reading", report, args.max_issues)
    save_report, written = export_dataset(dataset, args.out, formats, check_images=False, read_back=False)
    _print_report("Writing", save_report, args.max_issues)
    for fmt in formats:
        if args.out / LAYOUTS[fmt].main in written:
            print(f"Wrote {fmt.value} to {args.out / LAYOUTS[fmt].main}")
    ok = save_report.ok and bool(written)
    print(
        f"Predicted {len(dataset.images)} image(s), skipped {len(report.errors)}; images root: {dataset.image_root}"
    )
    return 0 if ok and report.ok else 1  # 1 also when an image was skipped: scripts must be able to tell


def _cmd_train_demo(args: argparse.Namespace) -> int:
    from segview.inference.device import choose_device
    from segview.train.demo import EVAL_SEEDS, train_demo

    if args.seed + args.train_scenes > EVAL_SEEDS.start:
        raise SegviewError(f"Training seeds {args.seed}-{args.seed + args.train_scenes - 1} reach the held-out "
                           f"evaluation seeds (from {EVAL_SEEDS.start}): lower --seed or --train-scenes.")
    if args.eval_images > len(EVAL_SEEDS):
        raise SegviewError(f"--eval-images is at most {len(EVAL_SEEDS)} (the held-out scenes).")
    device = choose_device(args.device).device
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        print(line, flush=True)

    result = train_demo(
        args.out,
        semantic_steps=args.semantic_steps,
        instance_steps=args.instance_steps,
        size=args.size,
        train_scenes=args.train_scenes,
        seed=args.seed,
        semantic_batch_size=args.semantic_batch_size,
        instance_batch_size=args.instance_batch_size,
        eval_images=args.eval_images,
        bn_batches=args.bn_batches,
        threads=args.threads or None,
        device=device,
        log=log,
    )
    print(result.evaluation.table())
    for path in result.cards:
        print(f"Wrote {path}")
    return 0


def _seed_range(text: str) -> range:
    start, sep, stop = text.partition(":")
    try:
        seeds = range(int(start), int(stop)) if sep else range(int(start), int(start) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not A:B (two integers, B excluded)") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"{text!r} is empty: B must be greater than A")
    return seeds


def _cmd_eval(args: argparse.Namespace) -> int:
    from segview.core.fusion import FusionParams
    from segview.inference.cards import get_card, load_card
    from segview.inference.pipeline import load_model
    from segview.train.demo import DEMO_FUSION, DEMO_SIZE, EVAL_SEEDS
    from segview.train.evaluate import evaluate, evaluate_dataset

    if args.images is not None and args.coco is None:
        raise SegviewError("--images goes with --coco FILE (the folder of that file's images).")
    path = Path(args.model)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise SegviewError(f"No model card {path}: give a card TOML file or a model name (see `segview models "
                               "list`).")
        card = load_card(path)
    else:
        card = get_card(args.model)
    params = FusionParams(
        score_threshold=DEMO_FUSION.score_threshold if args.score_threshold is None else args.score_threshold,
        overlap_threshold=DEMO_FUSION.overlap_threshold if args.overlap_threshold is None else args.overlap_threshold,
        stuff_area_limit=DEMO_FUSION.stuff_area_limit if args.stuff_area_limit is None else args.stuff_area_limit,
    )
    model = load_model(card, device=args.device)
    print(f"Model {card.name} on {model.device}", file=sys.stderr)
    if args.coco is not None:
        from segview.io.coco import load_coco

        dataset, report = load_coco(args.coco, args.images)
        _print_report("Reading", report, args.max_issues)
        result = evaluate_dataset(model, dataset, params)
        where = str(args.coco)
    else:
        seeds = args.seeds or EVAL_SEEDS
        size = args.size or DEMO_SIZE
        result = evaluate(model, seeds, size, size, params)
        where = f"generated scenes {seeds.start}-{seeds.stop - 1} of {size}×{size}"
    print(f"Evaluated {card.name} on {where}: {result.summary()}")
    print(f"AP: mask {_figure(result.mask_ap)}, mask AP50 {_figure(result.mask_ap50)}, box {_figure(result.box_ap)}")
    print(f"mIoU: {_figure(result.miou)}")
    print(f"PQ: {_figure(result.pq)} (SQ {_figure(result.sq)}, RQ {_figure(result.rq)}; things "
          f"{_figure(result.pq_things)}, stuff {_figure(result.pq_stuff)})")
    print(result.table())
    return 0


def _figure(value: float | None) -> str:
    return "- (not measured for this model)" if value is None else f"{value:.3f}"


def _cmd_export(args: argparse.Namespace) -> int:
    from segview.io.export import LAYOUTS, export_dataset
    from segview.io.project import Project

    try:
        formats = [DatasetFormat(f.strip()) for f in args.to.split(",") if f.strip()]
    except ValueError:
        raise SegviewError(f"--to takes a comma-separated list of {', '.join(EXPORT_FORMATS)}, not {args.to!r}.") from None
    if not formats or DatasetFormat.LABELME in formats:
        raise SegviewError(f"--to takes one or more of {', '.join(EXPORT_FORMATS)}.")
    if _is_dataset(Path(args.project)):  # a dataset with the edits its project holds
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
    _print_report("Checking, writing and reading back", report, args.max_issues)
    if not paths:
        print("Nothing written: fix the errors above in segview, then export again.", file=sys.stderr)
        return 1
    for fmt in formats:
        print(f"Wrote {fmt.value} to {' + '.join(str(args.out / n) for n in LAYOUTS[fmt].paths)}")
    annotated = sum(1 for r in dataset.images if r.annotation is not None)
    print(f"Exported {len(dataset.images)} image(s) ({args.scope}), {annotated} annotated, "
          f"{len(dataset.categories)} categories.")
    return 0 if report.ok else 1


def _is_dataset(path: Path) -> bool:
    """A dataset file, or a folder the format detection takes for a labelme or semantic-PNG dataset."""
    from segview.io.detect import detect_format

    try:
        return path.is_file() or (path.is_dir() and detect_format(path) is not None)
    except SegviewError:
        return False


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def _add_max_pixels(parser: argparse.ArgumentParser) -> None:
    from segview.io.pixel_budget import DEFAULT_MAX_PIXELS

    parser.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS, metavar="N",
                        help="refuse images (and sizes a file gives) of more than N pixels before allocating "
                        "for them; segview needs up to about 40 bytes a pixel (default: %(default)s)")


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-format", choices=INPUT_FORMATS, help="skip format detection")
    parser.add_argument("--images", metavar="DIR", help="image folder (default: beside the JSON file, or when "
                        "the images are not there the image folder a segview export recorded)")
    parser.add_argument(
        "--png-dir", metavar="DIR", help="panoptic PNG folder (default: JSON path without .json)"
    )
    parser.add_argument("--no-check-images", action="store_true", help="do not open the image files")
    _add_max_pixels(parser)
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
    convert.add_argument("--allow-errors", action="store_true",
                         help="write the output even when reading found errors (the report lists what was "
                         "left out; the exit status is still 1); without it nothing is written")
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

    predict = sub.add_parser("predict", help="run a model over images and write the results (exit 1 when an image was skipped)")
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
    predict.add_argument("--weights", help="a weights file to use instead of the model's own (a checkpoint "
                         "of the card's architecture; not for a panoptic pair, which has two models)")
    predict.add_argument("--max-issues", type=int, default=50, metavar="N")
    _add_max_pixels(predict)
    predict.set_defaults(func=_cmd_predict)

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
    _add_max_pixels(export)
    export.set_defaults(func=_cmd_export)

    demo = sub.add_parser("train-demo", help="train the bundled demo models from scratch on generated scenes")
    demo.add_argument("--out", type=Path, metavar="DIR", help="where weights and cards go (default: models/)")
    default = " (default: %(default)s)"
    demo.add_argument("--semantic-steps", type=int, default=1200, metavar="N", help="LR-ASPP steps" + default)
    demo.add_argument("--instance-steps", type=int, default=3000, metavar="N", help="Mask R-CNN steps" + default)
    demo.add_argument("--size", type=int, default=256, metavar="PX", help="square scene size" + default)
    demo.add_argument("--train-scenes", type=int, default=2000, metavar="N", help="training scenes" + default)
    demo.add_argument("--seed", type=int, default=0, metavar="N", help="first training scene's seed" + default)
    demo.add_argument("--semantic-batch-size", type=int, default=8, metavar="N", help="images per step" + default)
    demo.add_argument("--instance-batch-size", type=int, default=4, metavar="N", help="images per step" + default)
    demo.add_argument("--bn-batches", type=int, default=50, metavar="N",
                      help="batches to recompute BatchNorm statistics over after training, 0: none" + default)
    demo.add_argument("--eval-images", type=int, default=100, metavar="N",
                      help="held-out scenes to evaluate the pair on" + default)
    demo.add_argument("--threads", type=int, default=2, metavar="N",
                      help="CPU threads for torch, 0: torch's choice" + default)
    demo.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N" + default)
    demo.set_defaults(func=_cmd_train_demo)

    evaluate = sub.add_parser("eval", help="measure a model's mask AP, mIoU and PQ")
    evaluate.add_argument("model", help="a model card name or a card TOML file")
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--seeds", type=_seed_range, metavar="A:B",
                        help="generated demo scenes of seeds A..B-1 (default: the held-out demo seeds)")
    source.add_argument("--coco", type=Path, metavar="FILE", help="a COCO instances file as ground truth")
    evaluate.add_argument("--images", type=Path, metavar="DIR", help="with --coco: the image folder")
    evaluate.add_argument("--size", type=int, metavar="PX", help="generated scene size (default: the demo size)")
    evaluate.add_argument("--score-threshold", type=float, metavar="F", help="fusion (default: the demo's)")
    evaluate.add_argument("--overlap-threshold", type=float, metavar="F", help="fusion (default: the demo's)")
    evaluate.add_argument("--stuff-area-limit", type=int, metavar="PX", help="fusion (default: the demo's)")
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    evaluate.add_argument("--max-issues", type=int, default=50, metavar="N")
    evaluate.set_defaults(func=_cmd_eval)
    return parser


def _wants_gui(argv: Sequence[str], commands: set[str]) -> bool:
    """`segview`, `segview PATH` and `segview PATH --device X` open the window; subcommands do not."""
    return not argv or (argv[0] not in commands and not argv[0].startswith("-")) or argv[0] in ("--device", "--model", "--max-pixels")


def _run_gui(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="segview", description="Open the segview window.")
    parser.add_argument("path", nargs="?", help="a folder of images or a COCO / panoptic / labelme dataset")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--model", help="model card to start with (default: the bundled demo model)")
    _add_max_pixels(parser)
    args = parser.parse_args(argv)
    from segview.io.pixel_budget import pixel_budget
    from segview.ui.app import run

    with pixel_budget(args.max_pixels):
        return run(args.path, device=args.device, model=args.model, exit_process=True)


def _escape_unencodable_output() -> None:
    """Print what the terminal cannot encode (a lone surrogate from a dataset's names) as escapes, such as
    ``\\ud800``, instead of failing with UnicodeEncodeError halfway through a report."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _one_line(error: BaseException) -> str:
    """An error's message on one line: line breaks a dataset's names may carry are shown escaped."""
    return str(error).replace("\r", "\\r").replace("\n", "\\n")


_PATH_ARGUMENTS = ("input", "path", "paths", "out", "images", "png_dir", "project", "checkpoint", "coco", "weights")


def _check_path_arguments(args: argparse.Namespace) -> None:
    """Refuse a path argument the operating system cannot even look up (a name too long, a loop of links,
    a folder above it that cannot be entered) before the command starts, rather than deep inside it."""
    for key in _PATH_ARGUMENTS:
        values = getattr(args, key, None)
        for value in values if isinstance(values, list) else [values]:
            if value is None:
                continue
            try:
                os.stat(value)
            except (FileNotFoundError, NotADirectoryError):
                continue  # the command says what it expected there
            except OSError as exc:
                raise SegviewError(f"Cannot use {value}: {exc.strerror or exc}. Check the path.") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors print one clear line (no traceback) and exit with status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _escape_unencodable_output()
    if _wants_gui(argv, COMMANDS):
        return _run_gui(argv)
    args = build_parser().parse_args(argv)
    from segview.io.pixel_budget import pixel_budget

    try:
        _check_path_arguments(args)
        with pixel_budget(getattr(args, "max_pixels", None)):
            return int(args.func(args))
    except SegviewError as exc:
        print(f"segview: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("segview: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
