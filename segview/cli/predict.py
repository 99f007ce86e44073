"""`segview predict`: run a model over images and write the results as datasets."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from segview.cli.common import EXPORT_FORMATS, add_max_pixels, positive_int, print_report, progress_bar
from segview.core.wording import count
from segview.errors import SegviewError
from segview.inference.cards import DEFAULT_PROMPT_MODEL
from segview.io.detect import DatasetFormat


def _cmd_predict(args: argparse.Namespace) -> int:
    from segview.core.fusion import FusionParams
    from segview.core.report import Report
    from segview.inference.batch import BatchOptions, finished_before, predict_folder
    from segview.inference.engine_local import start_writer_processes
    from segview.inference.image_sources import list_images
    from segview.inference.records import has_interrupted_run
    from segview.io.export import LAYOUTS, refuse_foreign_files

    try:
        formats = [DatasetFormat(f.strip()) for f in args.format.split(",") if f.strip()]
    except ValueError:
        raise SegviewError(f"--format takes a comma-separated list of {', '.join(EXPORT_FORMATS)}, not "
                           f"{args.format!r}.") from None
    refuse_foreign_files(args.out, formats)  # before the model runs: files of the person's own are in the way
    reading = Report()
    images = list_images(args.paths, reading)
    if args.engine == "local":
        start_writer_processes()  # their start overlaps the model's load
    loader = functools.partial(_load, args)
    # With Ray the actors hold the model; the driver's copy, on the CPU, only gives the categories.
    model = _load(argparse.Namespace(**{**vars(args), "device": "cpu"})) if args.engine == "ray" else loader()
    weights = f" with the weights {args.weights}" if args.weights else ""
    print(f"Model {model.name} on {model.device}{weights}", file=sys.stderr)
    threshold = args.score_threshold
    if threshold is None:  # a grounded model's detector scores clear objects 0.1-0.4: its own cut-off is kept
        threshold = getattr(model, "box_threshold", 0.5)
    params = FusionParams(score_threshold=threshold)
    options = BatchOptions(args.out, tuple(formats), params, args.model, args.weights, args.resume, args.engine,
                           args.workers, args.address, args.gpus_per_worker)
    if args.resume and not has_interrupted_run(args.out):
        if finished_before(model, images, options):
            print(f"The run in {args.out} is complete (these images, this model and these options): nothing to "
                  "predict. Run without --resume to predict them again.", file=sys.stderr)
            return 0
        print(f"Nothing to resume in {args.out} (no interrupted run there): predicting every image.",
              file=sys.stderr)
    bar = None  # made once the run knows its total (a bar printed before it could be left unfinished)

    def progress(total: int, done: int):
        nonlocal bar
        if args.resume and bar is None and done:
            print(f"Resuming: {done} of {count(total, 'image')} already done.", file=sys.stderr)
        if bar is None:
            bar = progress_bar("predict", total, "img")
        else:
            bar.reset(total)
        bar.update(done)  # a resumed run starts where the interrupted one stopped
        return bar.update

    try:
        outcome = predict_folder(model, images, options, loader=loader, progress=progress)
    except KeyboardInterrupt:
        done = ""
        if bar is not None:
            bar.close()
            done = f" after {bar.n} of {count(bar.total, 'image')}"
        print(f"segview: interrupted{done}: run the same command with --resume to continue (the images done are not "
              "predicted again).", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    reading.extend(outcome.reading)
    print_report("Reading", reading, args.max_issues)
    print_report("Writing", outcome.writing, args.max_issues)
    for fmt in formats:
        if args.out / LAYOUTS[fmt].main in outcome.written:
            print(f"Wrote {fmt.value} to {args.out / LAYOUTS[fmt].main}")
    ok = outcome.writing.ok and bool(outcome.written)
    print(f"Predicted {outcome.predicted} image(s), skipped {outcome.skipped}; images root: {images.root}")
    return 0 if ok and reading.ok else 1  # 1 also when an image was skipped: scripts must be able to tell


def _load(args: argparse.Namespace):
    """The model to run: a card, or ``grounded:DETECTOR`` (class names → boxes → prompt-model masks)."""
    from segview.core.class_names import parse_class_names
    from segview.inference.grounded import load_grounded, split_model_name
    from segview.inference.pipeline import load_model

    detector = split_model_name(args.model)
    if detector is None:
        if args.classes is not None or args.prompt_model is not None:
            raise SegviewError(f"--classes and --prompt-model go with --model grounded:DETECTOR, not with "
                               f"{args.model!r}: a card's model knows its own classes.")
        return load_model(args.model, device=args.device, weights_path=args.weights)
    if args.classes is None:
        raise SegviewError(f"--model {args.model} looks for the classes you name: add --classes "
                           '"helmet,flag" (comma-separated).')
    return load_grounded(detector, parse_class_names(args.classes), prompt_model=args.prompt_model,
                         device=args.device, weights_path=args.weights)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
    predict = sub.add_parser("predict", help="run a model over images and write the results (exit 1 when an image was skipped)")
    predict.add_argument("paths", nargs="+", help="images or folders of images")
    predict.add_argument("--model", required=True, help="a model card name (see `segview models list`), or "
                         "grounded:DETECTOR to find --classes by name with an open-vocabulary detector card")
    predict.add_argument("--classes", help='with --model grounded:DETECTOR: the class names to find, '
                         'comma-separated ("helmet,flag")')
    predict.add_argument("--prompt-model", help="with --model grounded:DETECTOR: the prompt model card that "
                         f"turns the boxes into masks (default: {DEFAULT_PROMPT_MODEL})")
    predict.add_argument("--out", required=True, type=Path, help="output folder")
    predict.add_argument(
        "--format",
        default="coco,coco-panoptic,semantic-png",
        help="comma-separated: coco, coco-panoptic, semantic-png",
    )
    predict.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    predict.add_argument("--score-threshold", type=float, help="instances scored below it are dropped (default 0.5; with grounded: the detector's 0.1)")
    predict.add_argument("--weights", help="a weights file to use instead of the model's own (a checkpoint "
                         "of the card's architecture; not for a panoptic pair, which has two models)")
    predict.add_argument("--max-issues", type=int, default=50, metavar="N", help="print at most N issues")
    predict.add_argument("--resume", action="store_true", help="continue the interrupted run in --out: the images "
                         "it finished are not predicted again")
    predict.add_argument("--engine", choices=("local", "ray"), default="local", help="local (this machine: "
                         "decoding, the model and writing overlap) or ray (a Ray cluster; pip install "
                         "'segview[cluster]'; see docs/cluster.md)")
    predict.add_argument("--workers", type=positive_int, metavar="N", help="local: processes that fuse and write "
                         "(default: the cores less one, up to 8); ray: model actors (default 1)")
    predict.add_argument("--address", help="ray: the cluster to join (auto, or ray://HOST:10001; default: "
                         "RAY_ADDRESS, else a Ray instance on this machine)")
    predict.add_argument("--gpus-per-worker", type=float, default=0.0, metavar="G",
                         help="ray: GPUs each model actor takes (1 for one actor per GPU; 0: CPU actors)")
    add_max_pixels(predict)
    predict.set_defaults(func=_cmd_predict)
