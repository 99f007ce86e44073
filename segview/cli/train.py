"""`segview train`: teach a model the classes of a dataset or of a project's corrected images (the same
TrainingSession as the window's training panel)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

SLICE_SECONDS = 0.5
"""How long one ``run`` slice lasts: the progress bar's refresh and the longest wait for Ctrl-C to stop."""


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from segview.train.plan import TrainingPlan
    from segview.train.session import TrainingSession

    plan = TrainingPlan(str(args.dataset), args.base, args.name, steps=args.steps, minutes=args.minutes,
                        device=args.device, val_fraction=args.val_fraction, batch_size=args.batch_size,
                        resume=args.resume)
    session = TrainingSession(plan, log=lambda line: tqdm.write(line, file=sys.stderr))
    setup = session.prepare()
    stop = _StopOnInterrupt()
    bar = tqdm(total=setup.total_steps, initial=setup.start_step, unit="step", file=sys.stderr, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")
    with stop, bar:
        while not session.progress.done and not stop.requested:
            progress = session.run(SLICE_SECONDS)
            bar.total, bar.n = progress.total_steps, progress.step
            eta = "?" if progress.eta_s is None else tqdm.format_interval(progress.eta_s)
            loss = progress.losses[-1][1] if progress.losses else float("nan")
            bar.set_postfix_str(f"loss {loss:.3f}, {progress.images_per_s:.1f} images/s, ETA {eta}")
    if stop.requested:
        path = session.save_checkpoint()
        print(f"segview: interrupted at step {session.progress.step}: the checkpoint {path} is kept; run the same "
              "command with --resume to continue.", file=sys.stderr)
        return 130
    outcome = session.finish()
    print(f"Base {plan.base} vs {outcome.card_name} on {len(outcome.val_files)} validation images "
          f"({outcome.steps} steps, {outcome.minutes:.1f} min on {outcome.device}):")
    print(outcome.table())
    print(f"Wrote the model {outcome.card_name} ({outcome.card_path}): segview predict --model {outcome.card_name}, "
          f"segview eval {outcome.card_name} --coco FILE, and the window's model list use it.")
    return 0


class _StopOnInterrupt:
    """While entered, the first Ctrl-C asks to stop after the current step (a second one interrupts at once)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> _StopOnInterrupt:
        self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def __exit__(self, *_exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _request(self, _signum: int, _frame: object) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
    train = sub.add_parser("train", help="train a model on a dataset's classes (or a project's corrected images)",
                           description="Fine-tune a model card on a dataset (anything `segview validate` reads) or "
                                       "on the corrected images of a folder opened in segview, and write the new "
                                       "model's card NAME in your models folder. Give a budget: --steps N or "
                                       "--minutes M.")
    train.add_argument("dataset", type=Path, help="a dataset file or folder, or a folder opened in segview")
    train.add_argument("--base", required=True, metavar="MODEL", help="the model card to start from (name or TOML)")
    train.add_argument("--name", required=True, help="the new model's name, such as parts-v1")
    budget = train.add_argument_group("budget (one of --steps and --minutes is required)")
    budget.add_argument("--steps", type=int, metavar="N", help="training steps (wins over --minutes)")
    budget.add_argument("--minutes", type=float, metavar="M", help="training time in minutes")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    train.add_argument("--val-fraction", type=float, default=0.2, metavar="F",
                       help="share of the images kept for validation (default: %(default)s)")
    train.add_argument("--batch-size", type=int, metavar="B",
                       help="images per step (default: 2 on the CPU, the largest that fits on CUDA)")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint of NAME")
    train.set_defaults(func=_cmd_train)
