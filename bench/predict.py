"""Benchmark: `segview predict` against the model alone, per-image writing cost, and peak memory vs images.

Usage: python bench/predict.py [--images 50] [--rounds 3] [--size 640x480] [--device cpu|cuda] [--engine local|ray]
                               [--workers N] [--encode-size 1920x1080] [--rss 100,1000] [--rss-size 64x48]
Rows:
  throughput   the demo model alone (decoded images, ``predict`` in a loop) and ``predict_folder`` (the whole
               job: decoding, the model, fusion, the three formats written, the final files assembled) on
               the same images in one run, their ratio (target ≥ 0.85 on a 2-core CPU, ≥ 0.7 on a GPU);
  encode       fusion excluded, the per-image CPU work of the writer processes on one core: the three
               formats encoded and written (fsynced: the wait is not CPU time) for one prediction (target
               ≤ 40 ms at 1920×1080);
  peak RSS     of `segview predict` (the CLI in a subprocess) and its worker processes together, sampled,
               for each image count of --rss, at --rss-size (small, so that 1,000 images run in minutes):
               flat = bounded queues.
Images are the bundled demo scenes resized to the size asked, copied as many times as needed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fusion import build_prediction  # noqa: E402
from segview.core.fusion import FusionParams  # noqa: E402
from segview.core.report import Report  # noqa: E402
from segview.io.detect import DatasetFormat  # noqa: E402

FORMATS = (DatasetFormat.COCO, DatasetFormat.COCO_PANOPTIC, DatasetFormat.SEMANTIC_PNG)


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def make_images(folder: Path, count: int, size: tuple[int, int]) -> Path:
    """``count`` demo scenes at ``size`` (PNG), named img00000.png ..."""
    folder.mkdir(parents=True, exist_ok=True)
    scenes = [Image.open(p).convert("RGB").resize(size) for p in sorted((ROOT / "resources" / "demo").glob("*.png"))]
    for i in range(count):
        scenes[i % len(scenes)].save(folder / f"img{i:05d}.png", compress_level=1)
    return folder


def throughput(args: argparse.Namespace, work: Path) -> None:
    """The model alone and the whole job on the same images, in ``--rounds`` alternating turns (a shared
    machine's speed drifts between minutes: each round's ratio compares neighbours); medians printed."""
    from segview.inference.batch import BatchOptions, predict_folder
    from segview.inference.engine_local import start_writer_processes
    from segview.inference.image_sources import list_images
    from segview.inference.pipeline import load_model
    from segview.io.images import read_image

    folder = make_images(work / "images", args.images, _size(args.size))
    if args.engine == "local":
        start_writer_processes()  # as `segview predict` does before it loads its model
    model = load_model("demo_panoptic", device=args.device)
    images = list_images([folder], Report())
    decoded = [read_image(source) for source in images.sources]
    model.predict(decoded[0])  # warm-up
    loader = _Loader(args.device)
    model_rates, predict_rates, ratios = [], [], []
    for turn in range(args.rounds):
        start = time.perf_counter()
        for image in decoded:
            model.predict(image)
        model_rates.append(len(decoded) / (time.perf_counter() - start))
        options = BatchOptions(work / f"out{turn}", FORMATS, FusionParams(), "demo_panoptic", engine=args.engine,
                               workers=args.workers,
                               gpus_per_worker=1.0 if args.device.startswith("cuda") else 0.0)
        start = time.perf_counter()
        outcome = predict_folder(model, images, options, loader=loader)
        predict_rates.append(outcome.predicted / (time.perf_counter() - start))
        ratios.append(predict_rates[-1] / model_rates[-1])
    median = statistics.median
    print(f"{'throughput':<12} {args.images} images {args.size} on {model.device}, engine {args.engine}, "
          f"median of {args.rounds} alternating rounds (ratios {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"{'':<12} model alone {median(model_rates):7.2f} img/s   segview predict {median(predict_rates):7.2f} img/s"
          f"   ratio {median(ratios):.2f} (target ≥ {0.7 if args.device.startswith('cuda') else 0.85})")


class _Loader:
    """The Ray actors' model (picklable)."""

    def __init__(self, device: str) -> None:
        self.device = device

    def __call__(self):
        from segview.inference.pipeline import load_model

        return load_model("demo_panoptic", device=self.device)


def encode(args: argparse.Namespace, work: Path) -> None:
    """The writer processes' per-image work without fusion, timed as process CPU time (one core)."""
    from segview.core.dataset import ImageRecord
    from segview.core.fusion import fuse
    from segview.io.atomic import atomic_write_bytes
    from segview.io.coco import encode_instances
    from segview.io.coco_panoptic import encode_panoptic
    from segview.io.mask_png import encode_png
    from segview.io.semantic_png import class_map

    width, height = _size(args.encode_size)
    prediction, categories = build_prediction(width, height, 30, 12)
    annotation = fuse(prediction, categories, FusionParams(score_threshold=0.0))
    record = ImageRecord(1, "img.png", width, height, annotation)
    mapping = {c.id: c.id for c in categories}
    things = frozenset(c.id for c in categories if c.isthing)
    parts: dict[str, list[float]] = {"coco": [], "panoptic": [], "semantic": [], "all": []}
    for repeat in range(args.repeats + 1):
        clock = time.process_time()
        encode_instances(record, things, mapping)
        t1 = time.process_time()
        png, _ = encode_panoptic(annotation, "img.png", mapping, Report())
        atomic_write_bytes(work / "p.png", png)
        t2 = time.process_time()
        atomic_write_bytes(work / "s.png", encode_png(class_map(annotation, mapping, "uint8", "img.png", Report())))
        t3 = time.process_time()
        if repeat:  # the first is a warm-up
            for key, value in zip(parts, (t1 - clock, t2 - t1, t3 - t2, t3 - clock), strict=True):
                parts[key].append(value * 1000)
    shown = "   ".join(f"{k} {statistics.median(v):5.1f}" for k, v in parts.items())
    print(f"{'encode':<12} {width}x{height}, {len(annotation.segments)} segments, ms CPU: {shown} "
          f"(target all ≤ 40)")


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants now (Linux /proc), in KiB; 0 once it is gone."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as status:
            total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            total += sum(_tree_rss_kb(int(child)) for child in children.read().split())
    except (OSError, ValueError):
        pass
    return total


def peak_rss(args: argparse.Namespace, work: Path) -> None:
    """`segview predict` in a subprocess, its memory and its workers' sampled every 50 ms (Linux only)."""
    counts = [int(c) for c in args.rss.split(",")]
    folder = make_images(work / "rss_images", max(counts), _size(args.rss_size))
    for count in counts:
        subset = work / f"rss_{count}"
        subset.mkdir()
        for i in range(count):
            os.link(folder / f"img{i:05d}.png", subset / f"img{i:05d}.png")
        argv = ["predict", str(subset), "--model", "demo_panoptic", "--device", args.device, "--out",
                str(work / f"rss_out_{count}")] + (["--workers", str(args.workers)] if args.workers else [])
        start = time.perf_counter()
        run = subprocess.Popen([sys.executable, "-m", "segview.cli", *argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        peak = 0
        while run.poll() is None:
            peak = max(peak, _tree_rss_kb(run.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        print(f"{'peak RSS':<12} {count:5d} images {args.rss_size}: predict and its workers {peak / 1024:6.0f} MB, "
              f"exit {run.returncode}, {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--engine", default="local", choices=("local", "ray"))
    parser.add_argument("--workers", type=int)
    parser.add_argument("--encode-size", default="1920x1080")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rss", default="100,1000", help="image counts for the peak RSS rows ('' to skip)")
    parser.add_argument("--rss-size", default="64x48")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternating model-alone / predict turns (median)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="segview-bench-predict-"))
    try:
        encode(args, work)
        if not args.skip_throughput:
            throughput(args, work)
        if args.rss:
            peak_rss(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
