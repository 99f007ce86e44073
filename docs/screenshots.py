"""Take the README's screenshots of the real window under an X server (run it through xvfb-run):

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots.py [--model demo_panoptic]

Opens the bundled demo images with the model, waits for the background inference, and saves, from the X
screen itself (QScreen.grabWindow), i.e. what a user sees: docs/main-window.png (overlays),
docs/compare-view.png (the 2×2 grid with the semantic-vs-panoptic diff) and docs/editing.png (a
correction in progress: predictions accepted, a brush stroke, the history panel) and
docs/objects-list.png (the Objects dock: segments selected from the list, one hidden). The project it
creates in the demo folder is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from shot_tools import save_grab, wait_until

DOCS = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo_panoptic")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from segview.ui.main_window import MainWindow
    from segview.ui.model_control import available_models
    from segview.ui.resources import DEMO_IMAGES

    _app = QApplication(sys.argv[:1])  # kept alive while the script runs
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, device="cpu")
    window.resize(1500, 920)
    window.show()
    window.model_panel.set_models(available_models(), args.model)
    window.open_path(DEMO_IMAGES)
    window.set_model(args.model)

    def wait(condition, seconds: float = 120.0) -> None:
        wait_until(condition, seconds)

    wait(lambda: all(window.workspace.entries[i].prediction is not None for i in range(3)))
    window.browser.select(2)
    window.layer_actions["prediction.instance"].trigger()  # detections with boxes and scores over the panoptic
    wait(lambda: window.current_entry().prediction is not None)
    wait(lambda: False, 1.0)

    def shoot(name: str) -> None:
        save_grab(window, args.out / name)

    shoot("main-window.png")
    window.actions_.compare.trigger()
    panel = window.compare
    filled = []
    panel.filled.connect(lambda: filled.append(None))
    panel.diff.setCurrentIndex(panel.diff.findData("semantic-panoptic"))
    wait(lambda: bool(filled))  # the panes are computed in the background
    wait(lambda: False, 1.0)
    shoot("compare-view.png")
    window.actions_.compare.trigger()
    window.layer_actions["prediction.instance"].trigger()
    edit(window)
    wait(lambda: False, 1.0)
    shoot("editing.png")
    list_objects(window)
    wait(lambda: False, 1.0)
    shoot("objects-list.png")
    window.close()
    shutil.rmtree(DEMO_IMAGES / ".segview", ignore_errors=True)
    return 0


def edit(window) -> None:
    """Accept the model's result, then paint a correction with the brush, as a user would."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    editor, canvas = window.editor, window.canvas
    editor.actions_.accept_all.trigger()
    window._docks["History"].raise_()
    editor.tool_actions["brush"].trigger()
    editor.panel.brush.setValue(14)
    editor.select([])
    things = [c.id for c in window.workspace.categories if c.isthing]
    if things:
        editor.panel.set_category(things[0])
    h, w = window._image.shape[:2]
    points = [QPointF(w * (0.12 + 0.012 * i), h * (0.80 - 0.004 * i * i)) for i in range(10)]
    positions = [canvas.mapFromScene(p) for p in points]
    viewport = canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, positions[0])
    for p in positions[1:]:
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, positions[-1])
    QTest.mouseMove(viewport, positions[-1])


def list_objects(window) -> None:
    """The Objects dock beside the correction: two segments selected in the list, a third one hidden."""
    from PySide6.QtCore import Qt

    window._docks["Objects"].raise_()
    panel = window.objects.panel
    ids = panel.ids()
    window.editor.tool_actions["select"].trigger()
    window.editor.select(ids[1:3])
    if len(ids) > 3:
        panel.item(ids[3]).setCheckState(0, Qt.CheckState.Unchecked)


if __name__ == "__main__":
    sys.exit(main())
