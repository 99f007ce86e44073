"""`segview train-demo` and `segview eval`: train the bundled demo models, measure a model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segview.cli.common import figure, print_report
from segview.errors import SegviewError


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


def seed_range(text: str) -> range:
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
        print_report("Reading", report, args.max_issues)
        result = evaluate_dataset(model, dataset, params)
        where = str(args.coco)
    else:
        seeds = args.seeds or EVAL_SEEDS
        size = args.size or DEMO_SIZE
        result = evaluate(model, seeds, size, size, params)
        where = f"generated scenes {seeds.start}-{seeds.stop - 1} of {size}×{size}"
    print(f"Evaluated {card.name} on {where}: {result.summary()}")
    print(f"AP: mask {figure(result.mask_ap)}, mask AP50 {figure(result.mask_ap50)}, box {figure(result.box_ap)}")
    print(f"mIoU: {figure(result.miou)}")
    print(f"PQ: {figure(result.pq)} (SQ {figure(result.sq)}, RQ {figure(result.rq)}; things "
          f"{figure(result.pq_things)}, stuff {figure(result.pq_stuff)})")
    print(result.table())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
    demo = sub.add_parser("train-demo", help="train the bundled demo models from scratch on generated scenes")
    demo.add_argument("--out", type=Path, metavar="DIR", help="where weights and cards go (default: the checkout's models/, or your models folder in an installed segview)")
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
    source.add_argument("--seeds", type=seed_range, metavar="A:B",
                        help="generated demo scenes of seeds A..B-1 (default: the held-out demo seeds)")
    source.add_argument("--coco", type=Path, metavar="FILE", help="a COCO instances file as ground truth")
    evaluate.add_argument("--images", type=Path, metavar="DIR", help="with --coco: the image folder")
    evaluate.add_argument("--size", type=int, metavar="PX", help="generated scene size (default: the demo size)")
    evaluate.add_argument("--score-threshold", type=float, metavar="F", help="fusion (default: the demo's)")
    evaluate.add_argument("--overlap-threshold", type=float, metavar="F", help="fusion (default: the demo's)")
    evaluate.add_argument("--stuff-area-limit", type=int, metavar="PX", help="fusion (default: the demo's)")
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    evaluate.add_argument("--max-issues", type=int, default=50, metavar="N", help="print at most N issues")
    evaluate.set_defaults(func=_cmd_eval)
