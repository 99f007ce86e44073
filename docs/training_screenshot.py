"""Take the README's screenshot of the training panel under an X server (run it through xvfb-run):

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/training_screenshot.py [--steps 60]

Makes a folder of generated scenes with cones (a class the demo models never saw) whose project holds the
exact annotations of all but two, opens it in the window with ``demo_semantic``, trains from it in the
training panel (Model → Train on corrected images…) on the CPU, and saves the panel at the end, with its
loss curve and before/after table, as docs/training-panel.png. The folder and the trained card (in a
temporary models folder) are removed afterwards.
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
SCENES, CORRECTED, SIZE = 12, 10, 256


def make_project(folder: Path) -> None:
    """SCENES generated scenes with cones; the project holds the annotations of the first CORRECTED."""
    from PIL import Image

    from segview.io.project import Project
    from segview.train.scenes import CONE_CATEGORIES, generate_dataset

    folder.mkdir(parents=True)
    annotations = {}
    for i, (name, image, annotation) in enumerate(generate_dataset(range(SCENES), SIZE, SIZE, cones=True)):
        Image.fromarray(image).save(folder / name)
        if i < CORRECTED:
            annotations[name] = annotation
    with Project.open(folder) as project:
        project.set_categories(CONE_CATEGORIES)
        for name, annotation in annotations.items():
            project.save_annotation(name, annotation)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--base", default="demo_semantic")
    parser.add_argument("--out", type=Path, default=DOCS / "training-panel.png")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    scratch = Path(tempfile.mkdtemp(prefix="segview-training-shot-"))
    os.environ["SEGVIEW_DATA_DIR"] = str(scratch / "data")  # the trained card goes here, not to your models
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from segview.ui.main_window import MainWindow
    from segview.ui.model_control import available_models

    folder = scratch / "cones"
    make_project(folder)
    _app = QApplication(sys.argv[:1])  # kept alive while the script runs
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, device="cpu")
    window.resize(1100, 800)
    window.move(0, 0)
    window.show()
    window.model_panel.set_models(available_models(), args.base)
    window.open_path(folder)
    window.set_model(args.base)

    wait = wait_until

    wait(lambda: window.current_entry() is not None and window.current_entry().prediction is not None, 300)
    panel = window.training.open_panel()
    panel.resize(660, 940)
    panel.move(930, 20)
    panel.base.setCurrentIndex(panel.base.findData(args.base))
    panel.steps.setValue(args.steps)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    ended = []
    window.bridge.training_ended.connect(lambda how, value: ended.append((how, value)))
    panel.start_button.click()
    wait(lambda: bool(ended), 3600)
    print(ended[0][0], ended[0][1].table() if ended and ended[0][0] == "finished" else ended)
    wait(lambda: False, 1.0)
    save_grab(panel, args.out)
    window.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ended and ended[0][0] == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
