"""Benchmark: panoptic fusion of one prediction (target ≤ 30 ms at 3840×2160, 100 instances, 19 classes).

Usage: python bench/fusion.py [--width 3840] [--height 2160] [--instances 100] [--classes 19] [--repeats 7]
Prints the median wall and CPU time of ``segview.core.fusion.fuse`` and of the per-class implementation it
replaced (kept in tests/core/test_fusion_one_pass.py as the reference), and their ratio. OpenCV runs on one
thread (``--opencv-threads``), so CPU time is the one-core cost, which a busy machine inflates least. The prediction is built before the timing: a semantic map of 32-px blocks with
float16 confidence (what the predictors give) and elliptic instances of 20-400 px.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segview.core.categories import Category, CategorySet  # noqa: E402
from segview.core.fusion import FusionParams, fuse  # noqa: E402
from segview.core.masks import CroppedMask  # noqa: E402
from segview.core.prediction import InstancePrediction, Prediction  # noqa: E402
from tests.core.test_fusion_one_pass import _reference_fuse  # noqa: E402

TARGET_MS = 30.0


def build_prediction(width: int, height: int, instances: int, classes: int, seed: int = 0):
    """A prediction like a street scene's: blocky stuff, a third of the classes things, elliptic objects."""
    rng = np.random.default_rng(seed)
    categories = CategorySet(Category(i, f"class{i}", isthing=i <= classes // 3) for i in range(1, classes + 1))
    small = rng.integers(1, classes + 1, (height // 32 + 1, width // 32 + 1)).astype(np.uint16)
    semantic = np.kron(small, np.ones((32, 32), np.uint16))[:height, :width].copy()
    confidence = rng.random((height, width), dtype=np.float32).astype(np.float16)
    found = []
    for _ in range(instances):
        w, h = (int(v) for v in rng.integers(20, 400, 2))
        x, y = int(rng.integers(0, max(1, width - w))), int(rng.integers(0, max(1, height - h)))
        yy, xx = np.mgrid[:h, :w]
        mask = ((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2 <= 1
        found.append(InstancePrediction(int(rng.integers(1, classes // 3 + 1)), float(rng.random()), CroppedMask(x, y, mask)))
    return Prediction(height, width, found, semantic, confidence), categories


def _median_ms(function, repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``function()``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, clock = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - clock)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--opencv-threads", type=int, default=1)
    args = parser.parse_args()
    cv2.setNumThreads(args.opencv_threads)
    prediction, categories = build_prediction(args.width, args.height, args.instances, args.classes)
    params = FusionParams(score_threshold=0.0)  # every instance is pasted
    fuse(prediction, categories, params)  # warm-up
    new_wall, new_cpu = _median_ms(lambda: fuse(prediction, categories, params), args.repeats)
    old_wall, old_cpu = _median_ms(lambda: _reference_fuse(prediction, categories, params), max(3, args.repeats // 2))
    print(f"{'case':<34} {'fuse ms wall/CPU':>17} {'per-class wall/CPU':>19} {'speed-up CPU':>13} {'target ms':>10}")
    case = f"{args.width}x{args.height}, {args.instances} inst, {args.classes} cls"
    verdict = "ok" if new_cpu <= TARGET_MS else "over"
    print(f"{case:<34} {new_wall:8.1f}/{new_cpu:8.1f} {old_wall:9.1f}/{old_cpu:9.1f} {old_cpu / new_cpu:12.1f}x "
          f"{TARGET_MS:9.0f} {verdict}")


if __name__ == "__main__":
    main()
