"""Benchmark: viewer responsiveness — cold start, overlay toggle and rebuild, a 48-megapixel photo.

Usage: QT_QPA_PLATFORM=offscreen python bench/ui.py [--runs 3] [--repeats 20] [--view 1600x900]
       [--labelme-venv DIR] [--startup-only]

- cold start, segview vs labelme: each app's real entry point (`segview` opening the demo folder with the
  demo model, `labelme`), from just before its process is spawned to the end of its window's first paint,
  runs alternating; median of ``--runs`` each (target: segview <= 0.5 x labelme). labelme is installed
  into a throwaway venv, or the comparison is skipped with the reason: see bench/startup.py.
- first prediction: from segview's first paint to the first prediction painted on the demo, next to the
  model's own time (torch, the model, one prediction in a fresh process): the window should add nothing.
- overlay toggle: hide or show one LabelItem over a 3840×2160 image and ``viewport().repaint()``.
- overlay rebuild: ``set_layer`` with a new label map (300 segments) and LUT, then ``repaint()``.
- 48 MP preview: a MainWindow opens a folder holding one 8000×6000 JPEG; from ``open_path`` to the end
  of the first paint of the canvas showing it (its reduced preview; the full decode follows).
- accept all block / compare block: with a prediction of 40 objects on that photo (no model process),
  the longest the event loop went without running a QTimer that ticks every 5 ms, from Ctrl+Enter until
  the step is committed, and from C until the compare panes are filled and painted.
- 48 MP preview, annotated: the same folder opened again, the photo now with its accepted annotation.
- open, 21 annotated: a new MainWindow opens a folder whose project holds annotations of that photo (60
  segments) and of twenty 1920×1080 images, one of these edited last (shown first); from ``MainWindow(...)``
  to the end of the canvas's first paint of it.
Toggle and rebuild run on an ImageCanvas of ``--view`` size, fitted to the image (how an image opens) and
at 1:1, with the app's default layer style ('both', segview.ui.docks.layers_panel DEFAULT_OPACITY);
median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT, SEGMENTS = 3840, 2160, 300
BIG_W, BIG_H = 8000, 6000
TARGETS = {"overlay toggle": 0.005, "overlay rebuild": 0.010, "48 MP preview": 1.0,
           "48 MP preview, annotated": 1.0,
           "accept all block": 0.1, "compare block": 0.1, "open, 21 annotated": 1.0}  # seconds

def label_map(seed: int, count: int = SEGMENTS):
    """A (HEIGHT, WIDTH) uint32 map of ``count`` Voronoi cells (ids 1..count) and a random RGBA LUT."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    gh, gw = HEIGHT // 8, WIDTH // 8
    points = rng.uniform((0, 0), (gh, gw), (count, 2))
    yy, xx = np.mgrid[0:gh, 0:gw]
    best = np.full((gh, gw), np.inf)
    coarse = np.zeros((gh, gw), np.int32)
    for i, (py, px) in enumerate(points, start=1):
        d = (yy - py) ** 2 + (xx - px) ** 2
        closer = d < best
        best[closer], coarse[closer] = d[closer], i
    labels = cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_NEAREST).astype(np.uint32)
    lut = rng.integers(0, 256, (count + 1, 4), dtype=np.uint8)
    lut[:, 3], lut[0] = 255, 0
    return labels, lut


def canvas_timings(view: tuple[int, int], repeats: int) -> dict[str, dict[str, float]]:
    """Median toggle and rebuild seconds, for the fitted view and 1:1."""
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from segview.core.render import OverlayMode, layer_style
    from segview.ui.canvas.canvas import ImageCanvas
    from segview.ui.docks.layers_panel import DEFAULT_OPACITY

    app = QApplication.instance() or QApplication(sys.argv[:1])
    canvas = ImageCanvas()
    canvas.resize(*view)
    canvas.show()
    app.processEvents()
    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    maps = [label_map(seed) for seed in (1, 2)]
    canvas.set_image(image)
    canvas.set_layer("panoptic", *maps[0])
    opacity, fill_alpha = layer_style(OverlayMode.BOTH, DEFAULT_OPACITY / 100)
    canvas.set_layer_style("panoptic", OverlayMode.BOTH, opacity, fill_alpha=fill_alpha)
    item = canvas.layer("panoptic")
    results = {}
    for zoom in ("fit", "1:1"):
        canvas.fit() if zoom == "fit" else canvas.actual_size()
        app.processEvents()
        canvas.viewport().repaint()  # warm caches (the image pyramid, the overlay rendering)
        toggles = []
        for _ in range(repeats):
            start = time.perf_counter()
            item.setVisible(not item.isVisible())
            canvas.viewport().repaint()
            toggles.append(time.perf_counter() - start)
        item.setVisible(True)
        rebuilds = []
        for i in range(repeats):
            labels, lut = maps[(i + 1) % 2]
            start = time.perf_counter()
            canvas.set_layer("panoptic", labels, lut)
            canvas.viewport().repaint()
            rebuilds.append(time.perf_counter() - start)
        results[zoom] = {"overlay toggle": statistics.median(toggles),
                         "overlay rebuild": statistics.median(rebuilds),
                         "scale": canvas.scale_factor()}
    canvas.close()
    return results


def big_prediction():
    """40 elliptic objects of one thing class over two stuff classes, on a BIG_W×BIG_H image."""
    import cv2
    import numpy as np

    from segview.core.categories import Category, CategorySet
    from segview.core.masks import CroppedMask
    from segview.core.prediction import InstancePrediction, Prediction

    rng = np.random.default_rng(1)
    semantic = np.ones((BIG_H, BIG_W), np.uint16)
    semantic[BIG_H // 2 :] = 2
    instances = []
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(300, 1500, 2))
        y, x = int(rng.integers(0, BIG_H - h)), int(rng.integers(0, BIG_W - w))
        mask = np.zeros((h, w), np.uint8)
        cv2.ellipse(mask, (w // 2, h // 2), (w // 2, h // 2), 0, 0, 360, 1, -1)
        instances.append(InstancePrediction(3, float(rng.uniform(0.5, 1)), CroppedMask(x, y, mask.astype(bool))))
    categories = CategorySet([Category(1, "sky", isthing=False), Category(2, "road", isthing=False),
                              Category(3, "ball")])
    return Prediction(BIG_H, BIG_W, instances, semantic), categories


class _Gaps:
    """The longest the event loop went without running a QTimer ticking every ``interval_ms``."""

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.longest, self._last = 0.0, 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def __enter__(self):
        self.longest, self._last = 0.0, time.perf_counter()
        self.timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._tick()
        self.timer.stop()


def big_image_timings() -> dict[str, float]:
    """Seconds to the first paint of a 48 MP JPEG, and the longest event-loop blocks of accept all and
    of opening the compare view on it."""
    import cv2
    import numpy as np
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        small = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
        photo = cv2.resize(small, (BIG_W, BIG_H), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / "photo.jpg"), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
        window = _window(tmp)
        app.processEvents()
        start = time.perf_counter()
        preview = _open_until_painted(app, window, folder) - start
        while window._image is None:  # the full decode
            app.processEvents()
        prediction, categories = big_prediction()
        window.workspace.set_prediction(window.current, prediction, categories)
        window.refresh_layers()
        app.processEvents()
        done: list = []
        window.editor.accept_job.finished.connect(done.append)
        with _Gaps() as accept:
            window.editor.actions_.accept_all.trigger()
            while not done:
                app.processEvents()
        filled: list = []
        with _Gaps() as compare:
            window.actions_.compare.trigger()
            window.compare.filled.connect(lambda: filled.append(None))
            while not filled:
                app.processEvents()
            window.compare.repaint()
        window.actions_.compare.trigger()  # back to the canvas
        start = time.perf_counter()  # open again: now the photo has an annotation (accepted above) in the project
        annotated = _open_until_painted(app, window, folder) - start
        window.close()
        window.bridge.shutdown()
    return {"48 MP preview": preview, "accept all block": accept.longest, "compare block": compare.longest,
            "48 MP preview, annotated": annotated}


def _blocky_annotation(height: int, width: int, segments: int, seed: int):
    """An annotation of ``segments`` rectangles with a class each."""
    import numpy as np

    from segview.core.segments import Annotation, Segment

    rng = np.random.default_rng(seed)
    segment_map = np.zeros((height, width), np.uint16)
    for sid in range(1, segments + 1):
        h, w = int(rng.integers(height // 10, height // 2)), int(rng.integers(width // 10, width // 2))
        y, x = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
        segment_map[y : y + h, x : x + w] = sid
    present = {int(v) for v in np.unique(segment_map)} - {0}
    return Annotation(height, width, segment_map, {sid: Segment(1 + sid % 3) for sid in present})


def annotated_open_timing() -> float:
    """Seconds from ``MainWindow(...)`` to the first paint of a folder whose project holds 21 annotations."""
    import cv2
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from segview.io.project import Project

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        small = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / "big.jpg"), cv2.resize(small, (BIG_W, BIG_H)), [cv2.IMWRITE_JPEG_QUALITY, 90])
        for i in range(20):
            cv2.imwrite(str(folder / f"hd_{i:02d}.jpg"), cv2.resize(small, (1920, 1080)))
        with Project.open(folder) as project:
            project.save_annotation("big.jpg", _blocky_annotation(BIG_H, BIG_W, 60, 0))
            for i in range(20):
                project.save_annotation(f"hd_{i:02d}.jpg", _blocky_annotation(1080, 1920, 30, i + 1))
            project.set_setting("last_edited_image", "hd_05.jpg")
        start = time.perf_counter()
        window = _window(tmp)
        painted = _open_until_painted(app, window, folder)
        window.close()
        window.bridge.shutdown()
    return painted - start


def _window(tmp: str):
    """A shown main window with private settings in ``tmp``."""
    from PySide6.QtCore import QSettings

    from segview.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat), device="cpu")
    window.resize(1400, 900)
    window.show()
    return window


def _open_until_painted(app, window, folder: Path) -> float:
    """Open ``folder`` and return the time (perf_counter) its first image is painted on the canvas."""
    from PySide6.QtCore import QEvent, QObject

    painted: list[float] = []

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if event.type() == QEvent.Type.Paint and window.canvas.image_item.pyramid is not None:
                painted.append(time.perf_counter())
            return False

    spy = FirstPaint()
    window.canvas.viewport().installEventFilter(spy)
    window.open_path(folder)
    while not painted:
        app.processEvents()
    window.canvas.viewport().removeEventFilter(spy)
    return painted[0]


def startup_rows(runs: int, labelme_venv: Path | None) -> None:
    """Print the cold starts of segview and labelme and segview's wait for its first prediction."""
    from startup import cold_starts, first_prediction, labelme_command

    labelme, how = labelme_command(labelme_venv)
    times = cold_starts(runs, labelme)
    medians = {app: (statistics.median(w for w, _ in runs_), statistics.median(c for _, c in runs_))
               for app, runs_ in times.items() if runs_}
    for app in medians:
        print(f"cold start: {app} {medians[app][0]:.2f} s, {medians[app][1]:.2f} s of its own CPU (median of {runs}: "
              + " ".join(f"{w:.2f}/{c:.2f}" for w, c in times[app]) + ")")
    if labelme is None:
        print(f"cold start: labelme skipped: {how}")
    else:
        (ours, our_cpu), (theirs, their_cpu) = medians["segview"], medians["labelme"]
        print(f"cold start: segview/labelme {ours / theirs:.2f} wall, {our_cpu / their_cpu:.2f} CPU (target <= 0.50) "
              + ("ok" if ours <= 0.5 * theirs else "SLOW") + f"; {how}")
    waits = first_prediction(runs)
    added = waits["window to prediction"] - waits["model alone"]
    print(f"first prediction: {waits['window to prediction']:.2f} s from the window's first paint; the model alone "
          f"{waits['model alone']:.2f} s (torch, load, predict); the window adds {added:+.2f} s (target <= 0)")


def _row(name: str, where: str, seconds: float) -> str:
    target = TARGETS[name]
    ratio = seconds / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    if target >= 0.1:
        figure, goal = f"{seconds:.2f} s", f"{target:.2f} s"
    else:
        figure, goal = f"{seconds * 1000:.1f} ms", f"{target * 1000:.0f} ms"
    return f"{name:<24} {where:<30} {figure:>10} {goal:>8} {ratio:>6.2f}×  {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold starts (median)")
    parser.add_argument("--repeats", type=int, default=20, help="toggles and rebuilds (median)")
    parser.add_argument("--view", default="1600x900", help="canvas size WxH")
    parser.add_argument("--labelme-venv", help="a virtual environment for labelme, kept (made when missing)")
    parser.add_argument("--startup-only", action="store_true", help="only the cold start and first prediction")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    view = tuple(int(v) for v in args.view.lower().split("x"))

    startup_rows(args.runs, Path(args.labelme_venv) if args.labelme_venv else None)
    if args.startup_only:
        return
    timings = canvas_timings(view, args.repeats)
    big = big_image_timings()
    opened = annotated_open_timing()
    print(f"{'figure':<24} {'where':<30} {'measured':>10} {'target':>8} {'ratio':>7}")
    for zoom, figures in timings.items():
        where = f"{WIDTH}×{HEIGHT}, {SEGMENTS} seg, {zoom} ({figures['scale']:.2f})"
        for name in ("overlay toggle", "overlay rebuild"):
            print(_row(name, where, figures[name]))
    for name, seconds in big.items():
        print(_row(name, f"{BIG_W}×{BIG_H} JPEG, 40 objects", seconds))
    print(_row("open, 21 annotated", f"{BIG_W}×{BIG_H} + 20 × 1920×1080", opened))
    print(f"(canvas {view[0]}×{view[1]}, platform {os.environ['QT_QPA_PLATFORM']}, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
