"""Benchmark: how long "Accept all" on a 48-megapixel photo blocks the window (target ≤ 0.1 s).

Usage: QT_QPA_PLATFORM=offscreen python bench/accept_all.py [--runs 5] [--size 8000x6000]

Each run opens a new folder holding the same JPEG (so each is an image's first accept all in a new
project: the model's classes are adopted, the annotation is begun, the first snapshot written), gives it a
prediction of 40 objects over two stuff classes (bench/ui.py's ``big_prediction``, no model), presses
Ctrl+Enter and waits until the step is committed. A QTimer ticking every 5 ms on the GUI thread measures
the longest the event loop went without running it, in three phases: the key press itself (the window's
own work: the annotation begun, the classes adopted, the layers refreshed), the change being computed on
the worker (the GUI thread only waits for the GIL here), the bands applied and the step committed
(journaled). Prints each run and the median of each column.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET = 0.1  # seconds


class Ticks:
    """The times a QTimer ticking every ``interval_ms`` on the GUI thread ran."""

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self) -> None:
        self.times = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.times.append(time.perf_counter())

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]

    def holding(self, moment: float) -> int:
        """The index of the gap that holds ``moment``."""
        return next(i for i, end in enumerate(self.times[1:]) if end >= moment)

    def longest(self, first: int, last: int | None = None) -> float:
        """The longest of the gaps ``first`` to ``last`` (excluded; to the end without it)."""
        return max(self.gaps()[first:last], default=0.0)


def one_run(app, window, folder: Path, prediction, categories) -> dict[str, float]:
    """Open ``folder``, give its photo the prediction, accept all; the longest gaps of each phase."""
    from ui import _open_until_painted

    _open_until_painted(app, window, folder)
    while window._image is None:  # the full decode: editing starts with it
        app.processEvents()
    window.workspace.set_prediction(window.current, prediction, categories)
    window.refresh_layers()
    for _ in range(10):
        app.processEvents()
    done: list = []

    def finished(history) -> None:
        done.append(history)

    window.editor.accept_job.finished.connect(finished)
    first_band: list[float] = []
    ticks = Ticks()
    ticks.start()
    pressed = time.perf_counter()
    window.editor.actions_.accept_all.trigger()
    history = window.editor.stacks.get(window.current_entry().path)
    history.change_listeners.append(lambda _box: first_band.append(time.perf_counter()) if not first_band else None)
    while not done:
        app.processEvents()
    ticks.stop()
    end = ticks.times[-1]
    window.editor.accept_job.finished.disconnect(finished)
    applying = first_band[0] if first_band else end
    press = ticks.holding(pressed)  # the key press runs from start to end inside one gap
    bands = ticks.holding(applying) if first_band else len(ticks.gaps())
    return {"block": ticks.longest(press), "key press": ticks.longest(press, press + 1),
            "computing": ticks.longest(press + 1, bands), "applying": ticks.longest(bands),
            "total": end - pressed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="accepts, each in a new folder (median)")
    parser.add_argument("--size", default="8000x6000", help="photo size WxH")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import cv2
    import numpy as np
    import ui
    from PySide6.QtWidgets import QApplication

    ui.BIG_W, ui.BIG_H = (int(v) for v in args.size.lower().split("x"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    prediction, categories = ui.big_prediction()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
        photo = Path(tmp) / "photo.jpg"
        cv2.imwrite(str(photo), cv2.resize(small, (ui.BIG_W, ui.BIG_H), interpolation=cv2.INTER_CUBIC),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
        window = ui._window(tmp)
        app.processEvents()
        for run in range(args.runs):
            folder = Path(tmp) / f"run{run}"
            folder.mkdir()
            os.link(photo, folder / "photo.jpg")
            rows.append(one_run(app, window, folder, prediction, categories))
        window.close()
        window.bridge.shutdown()
    columns = ["block", "key press", "computing", "applying", "total"]
    print(f"accept all on a {ui.BIG_W}×{ui.BIG_H} JPEG, 40 objects: longest GUI-thread gap (ms)")
    print(f"{'run':<8}" + "".join(f"{c:>12}" for c in columns))
    for i, row in enumerate(rows, start=1):
        print(f"{i:<8}" + "".join(f"{row[c] * 1000:>12.1f}" for c in columns))
    median = {c: statistics.median(r[c] for r in rows) for c in columns}
    print(f"{'median':<8}" + "".join(f"{median[c] * 1000:>12.1f}" for c in columns))
    verdict = "ok" if median["block"] <= TARGET else "SLOW"
    print(f"median block {median['block']:.3f} s, target ≤ {TARGET:.2f} s: {median['block'] / TARGET:.2f}×  {verdict}"
          f"  ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
