"""Benchmark: how long the GUI thread stalls while the model loads and predicts (issue 10).

Usage: QT_QPA_PLATFORM=offscreen python bench/stall.py [--folder resources/demo] [--model demo_panoptic]
       [--device cpu] [--timeout 300]

A QTimer ticks every 5 ms on the GUI thread from the moment a MainWindow opens a copy of the folder,
through the model's start-up and load, and "Run on all images", until every image has a prediction.
Each gap between ticks is how long the event loop could not run: p50, p99 and the longest are printed
(targets: p99 <= 10 ms, longest <= 20 ms), with the time to the first prediction and to the last.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"p99": 0.010, "longest": 0.020}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default=str(ROOT / "resources" / "demo"))
    parser.add_argument("--model", default="demo_panoptic")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from segview.ui.model_control import available_models

    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="segview-stall-"))
    folder = work / "images"
    shutil.copytree(args.folder, folder, ignore=shutil.ignore_patterns(".segview"))
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)

    clock = QElapsedTimer()
    clock.start()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e9))
    timer.start()
    marks: dict[str, float] = {}

    from segview.ui.main_window import MainWindow

    window = MainWindow(settings, device=args.device)
    window.resize(1280, 800)
    window.show()
    window.model_panel.set_models(available_models(), args.model)
    marks["window"] = clock.nsecsElapsed() / 1e9

    def start() -> None:
        window.open_path(folder)
        window.set_model(args.model)
        window.model_control.run_all()

    def poll() -> None:
        entries = window.workspace.entries
        done = sum(entry.prediction is not None for entry in entries)
        now = clock.nsecsElapsed() / 1e9
        if done and "first" not in marks:
            marks["first"] = now
        if entries and done == len(entries):
            marks["all"] = now
            app.quit()
        elif now > args.timeout:
            print(f"timed out with {done}/{len(entries)} predictions", file=sys.stderr)
            app.quit()

    QTimer.singleShot(0, start)
    watcher = QTimer()
    watcher.timeout.connect(poll)
    watcher.start(20)
    app.exec()
    timer.stop()
    window.bridge.shutdown()
    shutil.rmtree(work, ignore_errors=True)
    if "all" not in marks:
        return 1

    gaps = sorted(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    p50 = statistics.median(gaps)
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
    longest = gaps[-1]
    print(f"images: {len(window.workspace.entries)} from {args.folder}, model {args.model} on {args.device}")
    print(f"ticks: {len(ticks)} over {ticks[-1] - ticks[0]:.1f} s")
    print(f"gap p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (target <= {TARGETS['p99'] * 1000:.0f}), "
          f"longest {longest * 1000:.1f} ms (target <= {TARGETS['longest'] * 1000:.0f})")
    print(f"gaps over 20 ms: {sum(g > 0.020 for g in gaps)}, over 50 ms: {sum(g > 0.050 for g in gaps)}")
    longest_at = [(b - a, a - marks["window"]) for a, b in zip(ticks, ticks[1:], strict=False) if b - a > 0.015]
    if longest_at:
        print("gaps over 15 ms (ms at s after the window): "
              + ", ".join(f"{gap * 1000:.0f} at {at:.2f}" for gap, at in longest_at[:10]))
    print(f"first prediction {marks['first'] - marks['window']:.2f} s after the window, "
          f"all {marks['all'] - marks['window']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
