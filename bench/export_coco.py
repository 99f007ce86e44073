"""Benchmark: COCO instances export (target ≤ 10 s for 1000 images × 50 instances at 1920×1080) and import.

Usage: python bench/export_coco.py [--images 1000] [--instances 50] [--width 1920] [--height 1080]
                                   [--mask-format auto|polygon|rle] [--workers N]
The annotations are built before the timing starts (uint16 maps, about 4 GB at the defaults). CPU time
counts the export's worker processes too: compare it with wall time when the machine is busy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.masks import CroppedMask, label_bounding_slices
from segview.core.segments import Annotation, Segment
from segview.io.coco import load_coco, save_coco

TARGET_S = 10.0


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the export's worker processes)."""
    if sys.platform == "win32":  # no getrusage; there are no worker processes there either
        return time.process_time()
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def build_dataset(n_images: int, n_instances: int, width: int, height: int, seed: int) -> Dataset:
    """Ellipses and rectangles of 8-400 px, a tenth of them with a hole, overlapping like real scenes."""
    rng = np.random.default_rng(seed)
    categories = CategorySet(Category(i, f"class{i}") for i in range(1, 11))
    dataset = Dataset(categories)
    for index in range(n_images):
        annotation = Annotation(height, width)
        for _ in range(n_instances):
            h, w = (int(v) for v in rng.integers(8, 400, size=2))
            y, x = int(rng.integers(0, height - 8)), int(rng.integers(0, width - 8))
            yy, xx = np.mgrid[0:h, 0:w]
            if rng.random() < 0.6:
                mask = ((yy - h / 2 + 0.5) / (h / 2)) ** 2 + ((xx - w / 2 + 0.5) / (w / 2)) ** 2 <= 1.0
            else:
                mask = np.ones((h, w), dtype=bool)
            if rng.random() < 0.1:
                mask[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = False
            annotation.add(CroppedMask(x, y, mask), Segment(int(rng.integers(1, 11))))
        dataset.images.append(ImageRecord(index + 1, f"img_{index:05d}.jpg", width, height, annotation))
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=50, help="thing instances painted per image")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--mask-format", default="auto", choices=("auto", "polygon", "rle"))
    parser.add_argument("--workers", type=int, default=None, help="export processes (default: automatic)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    dataset = build_dataset(args.images, args.instances, args.width, args.height, args.seed)
    built = time.perf_counter() - start
    visible = sum(
        len(label_bounding_slices(r.annotation.segment_map)) for r in dataset.images if r.annotation
    )
    print(
        f"built {args.images} images × {args.instances} instances at {args.width}×{args.height} "
        f"({visible} with visible pixels) in {built:.1f} s; load average {os.getloadavg()[0]:.1f}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "instances.json"
        start, cpu = time.perf_counter(), _cpu_seconds()
        save_report = save_coco(dataset, out, mask_format=args.mask_format, workers=args.workers)
        export_s, export_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        size_mb = out.stat().st_size / 1e6
        del dataset
        start, cpu = time.perf_counter(), _cpu_seconds()
        loaded, load_report = load_coco(out, check_images=False)
        import_s, import_cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    exported = sum(len(r.annotation.segments) for r in loaded.images if r.annotation)

    print(f"\n{'step':<20} {'wall (s)':>9} {'CPU (s)':>8} {'instances/s':>12} {'target':>9}")
    verdict = "ok" if export_s <= TARGET_S else "OVER"
    print(
        f"{'export (save_coco)':<20} {export_s:>9.2f} {export_cpu:>8.2f} {exported / export_s:>12,.0f} "
        f"{f'≤ {TARGET_S:.0f} s':>9} {verdict}"
    )
    print(
        f"{'import (load_coco)':<20} {import_s:>9.2f} {import_cpu:>8.2f} {exported / import_s:>12,.0f} {'-':>9}"
    )
    print(
        f"\n{exported} instances, JSON {size_mb:.0f} MB, mask format {args.mask_format}; "
        f"export report: {save_report.summary()}; import report: {load_report.summary()}"
    )


if __name__ == "__main__":
    main()
