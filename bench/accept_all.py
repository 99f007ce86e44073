"""Benchmark: how long "Accept all" on a 48-megapixel photo blocks the window (target ≤ 0.1 s).

Usage: QT_QPA_PLATFORM=offscreen python bench/accept_all.py [--runs 5] [--size 8000x6000]

Each run opens a new folder holding the same JPEG (so each is an image's first accept all in a new
project: the model's classes are adopted, the annotation is begun, the first snapshot written), gives it a
prediction of 40 objects over two stuff classes (bench/ui.py's ``big_prediction``, no model), presses
Ctrl+Enter and waits until the step is committed. A QTimer ticking every 5 ms on the GUI thread measures
the longest the event loop went without running it, in three phases: the key press itself (the window's
own work: the annotation begun, the classes adopted, the layers refreshed), the change being computed on
the worker (the GUI thread only waits for the GIL here), the bands applied and the step committed
(journaled). Each gap is given in wall-clock time and in the GUI thread's CPU time within it (its own
work, what a quiet machine would show; the difference is waiting for the GIL or, under load, for a
core). Prints each run and the median of each column.
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
    """When a QTimer ticking every ``interval_ms`` on the GUI thread ran: wall clock and the GUI thread's
    CPU time, so that each gap is both what the window's user waits and what the GUI thread itself
    worked (the rest: waiting for the GIL or, on a loaded machine, for a core)."""

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.times: list[tuple[float, float]] = []
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.times.append((time.perf_counter(), time.thread_time()))

    def start(self) -> None:
        self.times = []
        self._tick()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._tick()

    def holding(self, moment: float) -> int:
        """The index of the gap that holds ``moment`` (wall clock)."""
        return next(i for i, (end, _cpu) in enumerate(self.times[1:]) if end >= moment)

    def longest(self, first: int, last: int | None = None) -> tuple[float, float]:
        """Of the gaps ``first`` to ``last`` (excluded; to the end without it): the longest in wall-clock
        time, and the most CPU time the GUI thread spent in one."""
        gaps = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(self.times, self.times[1:], strict=False)][first:last]
        return max((g[0] for g in gaps), default=0.0), max((g[1] for g in gaps), default=0.0)


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
    end = ticks.times[-1][0]
    window.editor.accept_job.finished.disconnect(finished)
    press = ticks.holding(pressed)  # the key press runs from start to end inside one gap
    bands = ticks.holding(first_band[0]) if first_band else len(ticks.times) - 1
    return {"block": ticks.longest(press), "key press": ticks.longest(press, press + 1),
            "computing": ticks.longest(press + 1, bands), "applying": ticks.longest(bands),
            "total": (end - pressed, 0.0)}


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
    columns = ["block", "key press", "computing", "applying"]
    print(f"accept all on a {ui.BIG_W}×{ui.BIG_H} JPEG, 40 objects: longest GUI-thread gap, ms "
          "(wall / the GUI thread's most CPU time in one)")
    print(f"{'run':<8}" + "".join(f"{c:>18}" for c in columns) + f"{'total':>10}")

    def line(label: str, row: dict) -> str:
        cells = "".join(f"{row[c][0] * 1000:>10.1f} /{row[c][1] * 1000:>6.1f}" for c in columns)
        return f"{label:<8}{cells}{row['total'][0] * 1000:>10.0f}"

    for i, row in enumerate(rows, start=1):
        print(line(str(i), row))
    median = {c: tuple(statistics.median(r[c][k] for r in rows) for k in (0, 1)) for c in [*columns, "total"]}
    print(line("median", median))
    wall, cpu = median["block"]
    verdict = "ok" if wall <= TARGET else "SLOW"
    print(f"median block {wall:.3f} s (GUI thread's own work {cpu:.3f} s), target ≤ {TARGET:.2f} s: "
          f"{wall / TARGET:.2f}×  {verdict}  ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"Python {sys.version.split()[0]})")

if __name__ == "__main__":
    main()
