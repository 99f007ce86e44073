"""Benchmark: closing the window (quitting) while the model is busy on a 12-megapixel image, and the
parts of the close: the inference thread, the project's clean shutdown (target: close ≤ 100 ms); then
quitting the ``segview`` command the same way, from the window's close to the end of the process
(CLOCK_MONOTONIC, shared by both processes; target ≤ 0.5 s).

Usage: QT_QPA_PLATFORM=offscreen python bench/quit.py [--model demo_panoptic] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication


def _wait(app: QApplication, done, timeout: float) -> None:
    """Run the event loop until ``done()`` or the timeout."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)


def _timed(obj, name: str, times: dict[str, float], key: str) -> None:
    """Record how long each call of ``obj.name`` takes in ``times[key]``."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times[key] = time.perf_counter() - start

    setattr(obj, name, wrapper)


def run_once(app: QApplication, folder: Path, model: str, settings_file: Path) -> dict[str, float]:
    """One window: predict the first image, start a batch, edit, close while the batch runs."""
    from segview.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat), device="cpu")
    window.show()
    window.open_path(folder)
    window.set_model(model)
    _wait(app, lambda: window.current_entry() is not None and window.current_entry().prediction is not None, 120)
    window.editor.accept_all()  # an edit: the project has something to close
    window.model_control.run_all()
    _wait(app, lambda: window.bridge.process.running_kind() is not None, 10)  # the model is busy
    times: dict[str, float] = {}
    _timed(window.bridge, "shutdown", times, "thread")
    _timed(window.project_link, "close", times, "project")
    start = time.perf_counter()
    window.close()
    times["window"] = time.perf_counter() - start
    window.bridge.process.shutdown(wait=True, timeout=60)  # as app.run does once the window is gone
    window.deleteLater()
    app.processEvents()
    return times


_COMMAND = r'''
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])

def close_when_busy():
    window = next((w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"), None)
    entry = window.current_entry() if window is not None else None
    if entry is None or entry.prediction is None:
        QTimer.singleShot(20, close_when_busy)
        return
    window.model_control.run_all()
    while window.bridge.process.running_kind() is None:  # the model busy on the next image
        time.sleep(0.005)
    print("CLOSE", time.monotonic(), flush=True)
    window.close()

QTimer.singleShot(20, close_when_busy)
from segview.cli import main
sys.argv = ["segview", sys.argv[1], "--device", "cpu", "--model", sys.argv[2]]
sys.exit(main())
'''


def process_exit_once(folder: Path, model: str, config: Path) -> float:
    """Seconds from closing the window of a ``segview`` process (its model busy) to the process's end."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(config))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    child = subprocess.Popen([sys.executable, "-c", _COMMAND, str(folder), model], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env, text=True)
    closed = None
    for line in child.stdout:
        if line.startswith("CLOSE"):
            closed = float(line.split()[1])
    child.wait()
    if closed is None:
        raise SystemExit(f"segview ended (status {child.returncode}) before its window was closed")
    return time.monotonic() - closed


def main() -> None:
    """Print a table: part of the close, median ms, worst ms."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="demo_panoptic")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        rng = np.random.default_rng(0)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(folder / f"big_{i}.jpg")
        runs = [run_once(app, folder, args.model, Path(tmp) / f"settings_{i}.ini") for i in range(args.runs)]
        exits = [process_exit_once(folder, args.model, Path(tmp) / f"config_{i}") for i in range(args.runs)]
    print(f"{'part of closing the window (model busy, 4000x3000)':<52} {'median ms':>10} {'worst ms':>10}")
    for key, label in (("thread", "stop the inference thread (no wait)"), ("project", "project close"),
                       ("window", "the whole close (target <= 100 ms)")):
        values = [r[key] for r in runs]
        print(f"{label:<52} {1e3 * float(np.median(values)):>10.1f} {1e3 * max(values):>10.1f}")
    print(f"{'segview: close to process exit (target <= 500 ms)':<52} {1e3 * float(np.median(exits)):>10.1f} "
          f"{1e3 * max(exits):>10.1f}")


if __name__ == "__main__":
    main()
