"""Benchmark: teach the demo model a class it has never seen (issue 11).

From ``demo_panoptic``, `segview train`'s session learns the traffic cone (``generate_scene(..., cones=True)``)
from at most 40 corrected images (a segview project folder whose images are all corrected; the session keeps
about a fifth of them for its own validation), within a budget of minutes. The mask AP of the cone and of the
four old things is then measured on held-out cone scenes, before (the demo model) and after.

Targets (issue 11): cone mask AP >= 0.5 within 15 minutes on a 2-core CPU; the old things keep >= 0.9 of
their AP.

Usage: python bench/finetune.py [--minutes 12 | --steps N] [--images 40] [--eval-scenes 50] [--size 256] [--device cpu]
       [--threads 2] [--keep DIR]
A quick check that it works: python bench/finetune.py --minutes 0.5 --eval-scenes 4 --images 8
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

TRAIN_SEEDS = 2_000_000
EVAL_SEEDS = 3_000_000
"""Seeds of the training and held-out scenes: apart from each other and from the demo's (0-1999, 1000000+)."""
OLD_THINGS = ("ball", "crate", "tree", "star")


def write_project(folder: Path, count: int, size: int) -> None:
    """``count`` cone scenes as PNG files in ``folder`` and a segview project in which all are corrected."""
    import cv2

    from segview.io.project import Project
    from segview.train.scenes import CONE_CATEGORIES, generate_dataset

    folder.mkdir(parents=True)
    scenes = list(generate_dataset(range(TRAIN_SEEDS, TRAIN_SEEDS + count), size, size, cones=True))
    for name, image, _ in scenes:
        cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    with Project.open(folder) as project:
        project.set_categories(CONE_CATEGORIES)
        for name, _, annotation in scenes:
            project.save_annotation(name, annotation)


def held_out(model_name: str, count: int, size: int, device: str) -> dict[str, float]:
    """Mask AP per thing class (and ``old``, the mean of the four old things) on ``count`` cone scenes."""
    from segview.inference.pipeline import load_model
    from segview.train.demo import DEMO_FUSION
    from segview.train.evaluate import evaluate_pairs
    from segview.train.scenes import CONE_CATEGORIES, generate_scene

    scenes = (generate_scene(seed, size, size, cones=True) for seed in range(EVAL_SEEDS, EVAL_SEEDS + count))
    result = evaluate_pairs(load_model(model_name, device=device), scenes, CONE_CATEGORIES, DEMO_FUSION)
    ap = {c.name: (c.ap or 0.0) for c in result.per_class if c.isthing}
    ap["old"] = sum(ap[name] for name in OLD_THINGS) / len(OLD_THINGS)
    return ap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=12.0, help="training budget (default: %(default)s)")
    parser.add_argument("--steps", type=int, help="a budget of steps instead (wins over --minutes): for a busy "
                        "machine, where minutes would give too few steps; the CPU time is printed too")
    parser.add_argument("--images", type=int, default=40, help="corrected images, at most 40 (default: %(default)s)")
    parser.add_argument("--eval-scenes", type=int, default=50, help="held-out scenes (default: %(default)s)")
    parser.add_argument("--size", type=int, default=256, help="scene size in pixels (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: %(default)s)")
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it, instead of a temporary one")
    args = parser.parse_args()
    if args.images > 40:
        parser.error("--images is at most 40 (the issue's budget of corrected images)")
    import torch

    torch.set_num_threads(args.threads)
    work = args.keep or Path(tempfile.mkdtemp(prefix="segview-finetune-"))
    os.environ["SEGVIEW_DATA_DIR"] = str(work / "data")  # the new card goes here, not into the user's models
    from segview.inference.device import choose_device
    from segview.train.plan import TrainingPlan
    from segview.train.session import TrainingSession

    device = choose_device(args.device).device
    write_project(work / "project", args.images, args.size)
    before = held_out("demo_panoptic", args.eval_scenes, args.size, device)
    session = TrainingSession(TrainingPlan(str(work / "project"), "demo_panoptic", "cones-v1", steps=args.steps,
                                           minutes=args.minutes, device=device), log=print)
    setup = session.prepare()
    start, cpu_start = time.perf_counter(), time.process_time()
    while not session.progress.done:
        progress = session.run(60)
        print(f"step {progress.step}, loss {progress.losses[-1][1]:.3f}, {progress.images_per_s:.1f} images/s, "
              f"{progress.elapsed_s / 60:.1f} min", flush=True)
    minutes, cpu_minutes = (time.perf_counter() - start) / 60, (time.process_time() - cpu_start) / 60
    outcome = session.finish()
    after = held_out(outcome.card_name, args.eval_scenes, args.size, device)

    print(f"\nTrained {outcome.card_name} from demo_panoptic on {len(setup.train_files)} of {args.images} corrected "
          f"images ({len(setup.val_files)} for validation): {outcome.steps} steps of {setup.batch_size} in "
          f"{minutes:.1f} min on {device} ({60 * minutes / max(outcome.steps, 1):.2f} s/step, {args.threads} threads; "
          f"CPU time {cpu_minutes:.1f} min, {cpu_minutes / args.threads:.1f} min per thread)")
    print(f"Mask AP on {args.eval_scenes} held-out cone scenes of {args.size} px:")
    print(f"{'class':8} {'before':>7} {'after':>7}")
    for name in ("cone", *OLD_THINGS, "old"):
        print(f"{name:8} {before[name]:7.3f} {after[name]:7.3f}")
    kept = after["old"] / before["old"] if before["old"] else float("nan")
    print(f"\ncone AP {after['cone']:.3f} (target >= 0.5: {'met' if after['cone'] >= 0.5 else 'NOT met'}); old things "
          f"keep {kept:.2f} of their AP (target >= 0.9: {'met' if kept >= 0.9 else 'NOT met'}); "
          f"{minutes:.1f} min (target <= 15 on a 2-core CPU)")
    print(f"Work folder: {work}")


if __name__ == "__main__":
    main()
