"""The window and its model process: torch never in the GUI process, a killed child restarted with the
image on screen asked again and no edit touched, three deaths in a minute and it stops retrying."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from segview.inference.worker import Priority
from tests.ui.test_main_window import _predict

ROOT = Path(__file__).resolve().parents[2]

CYCLE = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from PySide6.QtTest import QTest

app = QApplication(sys.argv[:1])
from segview.ui.main_window import MainWindow

scenes, out, settings_file = (Path(a) for a in sys.argv[1:4])
window = MainWindow(QSettings(str(settings_file), QSettings.Format.IniFormat), device="cpu")
window.resize(1000, 700)
window.show()

def wait(condition, what, seconds=120):
    for _ in range(int(seconds * 100)):
        if condition():
            return
        QTest.qWait(10)
    sys.exit(f"timed out waiting for {what}: {window.device_label.text()} / {window.statusBar().currentMessage()}")

window.open_path(scenes)
window.set_model("tiny_sem")
wait(lambda: window.current_entry().prediction is not None, "the prediction")
window.editor.actions_.accept_all.trigger()
assert window.current_entry().annotation is not None
window.export_action.trigger()
dialog = window.export_dialog
dialog.folder.setText(str(out))
finished = []
dialog.export_finished.connect(lambda result: finished.append(result))
dialog.export_button.click()
wait(lambda: finished, "the export")
assert finished[0].report.ok, finished[0].report.format()
assert (out / "instances.json").is_file()
dialog.close()
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("torch", "torchvision"))
print("TORCH:", loaded[:5], "CHILD:", window.bridge.process.pid, flush=True)
window.close()
window.bridge.shutdown()
"""


def test_open_predict_accept_export_never_imports_torch_in_the_gui_process(tiny_models_dir, scenes, tmp_path):
    env = dict(os.environ, SEGVIEW_DATA_DIR=str(tiny_models_dir), SEGVIEW_CACHE_DIR=str(tmp_path / "cache"),
               QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CYCLE, str(scenes), str(tmp_path / "out"), str(tmp_path / "s.ini")],
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TORCH: [] CHILD:" in done.stdout, done.stdout + done.stderr


def test_a_child_killed_mid_request_is_restarted_and_the_image_on_screen_asked_again(qtbot, window, scenes):
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.editor.actions_.accept_all.trigger()  # an edit, in this process and its project
    accepted = window.workspace.entries[0].annotation
    segment_map = accepted.segment_map.copy()
    process = window.bridge.process
    first = process.pid
    process.submit(("debug", "busy"), ("sleep", 5.0), Priority.INTERACTIVE)  # a prediction seconds long
    assert process.wait_running(("debug", "busy"), 60)
    window.set_model("tiny_sem")  # its load and the image on screen are queued behind it
    assert window.current_entry().prediction is None
    with qtbot.waitSignal(window.bridge.process_died, timeout=30000):
        os.kill(first, signal.SIGKILL)
    assert "killed" in window.statusBar().currentMessage()
    assert "restarted" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)
    assert process.pid != first and process.alive
    assert "tiny_sem on CPU" in window.device_label.text()
    assert window.workspace.entries[0].annotation is accepted  # no edit touched
    assert (accepted.segment_map == segment_map).all()


def test_three_deaths_in_a_minute_and_it_stops_retrying_until_a_model_is_chosen(qtbot, window, scenes):
    window.open_path(scenes)
    window.set_model("tiny_sem")
    process = window.bridge.process
    process._failures.clear()  # the session's process: the kills of earlier tests do not count
    killed: set[int] = set()
    for _ in range(3):
        qtbot.waitUntil(lambda: process.alive and process.pid not in killed, timeout=30000)  # restarted
        killed.add(process.pid)
        with qtbot.waitSignal(window.bridge.process_died, timeout=30000):
            os.kill(process.pid, signal.SIGKILL)
    assert "not restarted" in window.statusBar().currentMessage()
    assert window.device_label.text() == "Model process stopped"
    qtbot.waitUntil(lambda: process.wait_idle(0), timeout=10000)  # what was pending failed, with the reason
    assert not process.alive
    _predict(qtbot, window, "tiny_sem")  # choosing the model again starts it again
    assert process.alive
