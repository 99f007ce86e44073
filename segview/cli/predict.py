"""`segview predict`: run a model over images and write the results as datasets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segview.cli.common import EXPORT_FORMATS, add_max_pixels, print_report, progress_bar
from segview.errors import SegviewError
from segview.io.detect import DatasetFormat


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
    with progress_bar("predict", None, "img") as bar:

        def progress(done: int, total: int, path) -> None:
            bar.total = total
            bar.update(done - bar.n)

        dataset, report = predict_images(args.paths, model, params, progress)
    print_report("Reading", report, args.max_issues)
    save_report, written = export_dataset(dataset, args.out, formats, check_images=False, read_back=False)
    print_report("Writing", save_report, args.max_issues)
    for fmt in formats:
        if args.out / LAYOUTS[fmt].main in written:
            print(f"Wrote {fmt.value} to {args.out / LAYOUTS[fmt].main}")
    ok = save_report.ok and bool(written)
    print(
        f"Predicted {len(dataset.images)} image(s), skipped {len(report.errors)}; images root: {dataset.image_root}"
    )
    return 0 if ok and report.ok else 1  # 1 also when an image was skipped: scripts must be able to tell


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
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
    add_max_pixels(predict)
    predict.set_defaults(func=_cmd_predict)
