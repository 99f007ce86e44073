"""Benchmark: project store at 3840×2160 — journaling a small brush edit (target: a few ms), a snapshot
(checkpoint) and a load with journal replay.

Usage: python bench/project_store.py [--edits 50] [--width 3840] [--height 2160]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import Segment
from segview.io.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.factories import random_annotation  # noqa: E402


def _ms(values: list[float]) -> str:
    """Median and worst of a list of seconds, in ms."""
    return f"{1e3 * float(np.median(values)):8.2f} {1e3 * max(values):8.2f}"


def main() -> None:
    """Print a table: operation, median ms, worst ms."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    args = parser.parse_args()
    h, w = args.height, args.width
    with tempfile.TemporaryDirectory() as tmp:
        Image.new("RGB", (w, h)).save(Path(tmp) / "big.png")
        annotation = random_annotation(np.random.default_rng(0), h, w, n_things=40)
        with Project.open(tmp) as project:
            snapshots = []
            for _ in range(5):
                start = time.perf_counter()
                project.save_annotation("big.png", annotation)
                snapshots.append(time.perf_counter() - start)
            history = EditHistory(project.load_annotation("big.png"))
            project.attach("big.png", history)
            sid = max(history.annotation.segments)
            strokes = []
            for i in range(args.edits):
                x, y = 200 + 7 * i, 300 + 3 * i
                mask = edits.brush_mask([(x, y), (x + 15, y + 6)], 6, h, w)
                start = time.perf_counter()
                history.apply(edits.paint(history.annotation, mask, sid, Segment(1)), "Brush")
                strokes.append(time.perf_counter() - start)
            loads = []
            for _ in range(3):
                start = time.perf_counter()
                project.load_annotation("big.png")
                loads.append(time.perf_counter() - start)
    print(f"{'operation':<44} {'median':>8} {'worst':>8}  (ms, {w}×{h})")
    print(f"{'brush edit applied + journaled (1 commit)':<44} {_ms(strokes)}")
    print(f"{'snapshot (compress + write + commit)':<44} {_ms(snapshots)}")
    print(f"{f'load (snapshot + {args.edits} journal rows)':<44} {_ms(loads)}")


if __name__ == "__main__":
    main()
