"""Start-up: the model process is spawned first; the window's frame is painted before the rest of the window
(and numpy, the canvas) is even imported; the rest is built right after that paint, and the folder and model
open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget, QWidget

from segview.ui.app import after_first_paint

ROOT = Path(__file__).resolve().parents[2]

RUN = r"""
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from segview.ui import app as segview_app

order, at_paint = [], {}


class Spy(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not at_paint:
            window = obj.window()
            order.append("painted")
            at_paint.update(modules=sorted(sys.modules), built=window.built, status=window.statusBar().currentMessage())
        return False


def finish_when_open():
    windows = [w for w in QApplication.topLevelWidgets() if hasattr(w, "built")]
    if windows and windows[0].built and windows[0].workspace.entries:
        window = windows[0]
        order.append("opened")
        at_paint["entries"] = len(window.workspace.entries)
        at_paint["model"] = window.bridge.model_name
        at_paint["child"] = window.bridge.process.pid is not None
        window.close()
    else:
        QTimer.singleShot(10, finish_when_open)


if __name__ == "__main__":
    application = QApplication(sys.argv[:1])
    spy = Spy()
    application.installEventFilter(spy)
    QTimer.singleShot(0, finish_when_open)
    segview_app.run(sys.argv[1], device="cpu", model="tiny_sem")
    print(json.dumps({"order": order, **at_paint, "torch": "torch" in sys.modules}))
"""


def test_the_frame_is_painted_before_the_window_is_built_then_the_folder_and_model_open(tmp_path, scenes,
                                                                                         tiny_models_dir):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SEGVIEW_DATA_DIR=str(tiny_models_dir),
               XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(ROOT))
    script = tmp_path / "run_app.py"
    script.write_text(RUN)
    done = subprocess.run([sys.executable, str(script), str(scenes)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["order"] == ["painted", "opened"]
    assert not seen["built"] and seen["status"] == "Starting…"
    before = set(seen["modules"])
    for heavy in ("numpy", "cv2", "segview.ui.canvas.canvas", "segview.ui.inference_bridge",
                  "segview.core.workspace", "segview.ui.model_control"):
        assert heavy not in before, heavy
    assert "segview.inference.model_process" in before  # the child was spawned before the frame
    assert seen["entries"] == 3 and seen["model"] == "tiny_sem" and seen["child"]
    assert not seen["torch"]


def test_a_frame_built_later_is_the_whole_window(qtbot, tmp_path, scenes):
    from segview.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), device="cpu",
                        build=False)
    qtbot.addWidget(window)
    window.show()
    assert not window.built and window.statusBar().currentMessage() == "Starting…"
    assert not window.findChildren(QDockWidget) and window.menuBar().actions() == []
    window.build()
    try:
        assert window.built and window.statusBar().currentMessage() == ""
        assert {d.windowTitle() for d in window.findChildren(QDockWidget)} >= {"Images", "Layers", "Model", "Tools"}
        assert window.menuBar().actions()
        window.open_path(scenes)
        assert len(window.workspace.entries) == 3 and window.current == 0
    finally:
        window.bridge.shutdown()


def test_a_frame_closed_before_it_is_built_closes(qtbot, tmp_path):
    from segview.ui.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), build=False)
    qtbot.addWidget(window)
    window.show()
    assert window.close()


def test_after_first_paint_runs_once_after_the_paint_or_after_its_fallback(qtbot):
    shown, hidden, calls = QWidget(), QWidget(), []
    qtbot.addWidget(shown)
    qtbot.addWidget(hidden)
    after_first_paint(shown, lambda: calls.append(("shown", shown.isVisible())), fallback_ms=60_000)
    shown.show()
    qtbot.waitUntil(lambda: calls == [("shown", True)])
    after_first_paint(hidden, lambda: calls.append(("hidden", hidden.isVisible())), fallback_ms=50)
    qtbot.waitUntil(lambda: len(calls) == 2)
    shown.repaint()
    qtbot.wait(100)  # nothing more comes: each callback runs once
    assert calls == [("shown", True), ("hidden", False)]
