"""Benchmark: brush-stroke-to-screen and undo time on a 3840×2160 annotation with ~300 segments.

Usage: QT_QPA_PLATFORM=offscreen python bench/edit.py [--repeats 30] [--radius 12]
One stroke piece = the atom of a brush dab between two points (``brush_mask`` + ``paint``) applied
through ``EditHistory`` (whose change listener updates the three annotation layers in their dirty box
only) plus a synchronous repaint of a 1600×900 viewport fitted to the image. Undo = reverting one
20-piece stroke plus the repaint. A full rebuild of the layers is timed as the baseline that the
dirty-box path avoids. Prints medians against the 16 ms target.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

TARGET_MS = 16.0
HEIGHT, WIDTH, SEGMENTS = 2160, 3840, 300


def _annotation():
    from segview.core.categories import Category, CategorySet
    from segview.core.segments import Annotation, Segment

    rng = np.random.default_rng(0)
    categories = CategorySet([Category(i, f"class {i}", isthing=i <= 10) for i in range(1, 21)])
    seeds = rng.uniform(0, 1, (SEGMENTS, 2)) * [WIDTH / 16, HEIGHT / 16]
    yy, xx = np.mgrid[0 : HEIGHT // 16, 0 : WIDTH // 16]
    dist = (xx[..., None] - seeds[:, 0]) ** 2 + (yy[..., None] - seeds[:, 1]) ** 2
    small = (dist.argmin(axis=2) + 1).astype(np.uint16)
    segment_map = cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST)
    segments = {i: Segment(int(rng.integers(1, 21))) for i in range(1, SEGMENTS + 1)}
    return Annotation(HEIGHT, WIDTH, segment_map, segments), categories


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--radius", type=float, default=12.0)
    parser.add_argument("--layers", choices=("panoptic", "all"), default="panoptic",
                        help="annotation layers shown over the image (all three are updated either way)")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from segview.core.edits import brush_mask, paint
    from segview.core.history import EditHistory
    from segview.core.render import OverlayMode, layer_style
    from segview.core.segments import Segment
    from segview.core.workspace import ImageEntry
    from segview.ui.canvas.canvas import ImageCanvas
    from segview.ui.canvas.edit_redraw import AnnotationRedraw
    from segview.ui.docks.layers_panel import DEFAULT_OPACITY

    app = QApplication.instance() or QApplication([])
    annotation, categories = _annotation()
    entry = ImageEntry(Path("bench.png"), annotation=annotation)
    canvas = ImageCanvas()
    canvas.resize(1600, 900)
    canvas.show()
    canvas.set_image(np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    redraw = AnnotationRedraw(canvas)
    redraw.attach(entry, categories)
    redraw.refresh()
    for name, item in canvas.layers().items():
        opacity, fill_alpha = layer_style(OverlayMode.BOTH, DEFAULT_OPACITY / 100)
        item.set_style(OverlayMode.BOTH, fill_alpha, opacity)
        item.setVisible(args.layers == "all" or name.endswith("panoptic"))
    canvas.fit()
    app.processEvents()
    canvas.viewport().repaint()
    history = EditHistory(annotation)
    history.change_listeners.append(redraw.changed)
    sid = annotation.next_id()

    def stroke_points(k: int) -> list[tuple[float, float]]:
        y = 200 + (k % 40) * 45
        return [(300 + 150 * i, y + 20 * np.sin(i)) for i in range(21)]

    piece_times, atom_times, undo_times, full_times = [], [], [], []
    for k in range(args.repeats):
        points = stroke_points(k)
        history.begin("Brush")
        for i in range(len(points) - 1):
            start = time.perf_counter()
            mask = brush_mask(points[i : i + 2], args.radius, HEIGHT, WIDTH)
            atom = paint(annotation, mask, sid, None if sid in annotation.segments else Segment(1))
            made = time.perf_counter()
            history.apply(atom)
            canvas.viewport().repaint()
            end = time.perf_counter()
            piece_times.append(end - start)
            atom_times.append(made - start)
        history.commit()
        start = time.perf_counter()
        with redraw.batch():  # as the undo stack's commands do
            history.undo()
        canvas.viewport().repaint()
        undo_times.append(time.perf_counter() - start)
        with redraw.batch():
            history.redo()
    repaint_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        canvas.viewport().repaint()
        repaint_times.append(time.perf_counter() - start)
    for _ in range(max(3, args.repeats // 5)):
        start = time.perf_counter()
        redraw.refresh()
        canvas.viewport().repaint()
        full_times.append(time.perf_counter() - start)

    rows = [
        ("brush piece → screen", _median_ms(piece_times)),
        ("  of which the atom (mask + paint)", _median_ms(atom_times)),
        ("  repaint alone, nothing changed", _median_ms(repaint_times)),
        ("undo a 20-piece stroke → screen", _median_ms(undo_times)),
        ("full layer rebuild → screen (baseline)", _median_ms(full_times)),
    ]
    print(f"{WIDTH}×{HEIGHT}, {SEGMENTS} segments, brush radius {args.radius:g}, viewport 1600×900, "
          f"{args.layers} layer(s) shown, median of {args.repeats} strokes")
    print(f"{'measure':<40} {'median ms':>10} {'target ms':>10} {'ratio':>7}")
    for name, value in rows:
        print(f"{name:<40} {value:>10.2f} {TARGET_MS:>10.0f} {value / TARGET_MS:>7.2f}")


if __name__ == "__main__":
    main()
