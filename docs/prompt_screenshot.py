"""Take docs/prompt-tool.png: the prompt tool (T) with a positive and a negative point and the mask under them.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/prompt_screenshot.py [--weights FILE]

The prompt model is the default one's architecture, EdgeTAM. Without ``--weights`` (EdgeTAM's
.safetensors) it has random weights, so the mask is the right size and place but not the object's outline;
the README says so. The demo images
are copied to a temporary folder (no project is written next to the bundled ones).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from shot_tools import save_grab, wait_until

DOCS = Path(__file__).resolve().parent
RANDOM_FRAME = 256  # random weights on a 256-pixel frame: quick to embed on any CPU


def write_card(folder: Path, weights: Path | None) -> None:
    folder.mkdir(parents=True)
    target = folder / "shot_sam.safetensors"
    long_side = 1024
    if weights is not None:
        shutil.copyfile(weights, target)
    else:
        import torch
        from safetensors.torch import save_file

        from segview.inference.architectures import edgetam

        torch.manual_seed(3)
        save_file({k: v.contiguous() for k, v in edgetam(image_size=RANDOM_FRAME).state_dict().items()}, target)
        long_side = RANDOM_FRAME
    sha = hashlib.sha256(target.read_bytes()).hexdigest()
    (folder / "shot_sam.toml").write_text(
        'name = "shot_sam"\ntitle = "EdgeTAM (screenshot)"\ntask = "prompt"\n'
        'builder = "segview.inference.architectures.edgetam"\nlicence = "-"\ndescription = "-"\n'
        f'[builder_kwargs]\nimage_size = {long_side}\n'
        f'[weights]\nfile = "shot_sam.safetensors"\nsha256 = "{sha}"\n[input]\nlong_side = {long_side}\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--out", type=Path, default=DOCS / "prompt-tool.png")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="segview-shot-"))
    write_card(work / "data" / "models", args.weights)
    os.environ["SEGVIEW_DATA_DIR"] = str(work / "data")
    os.environ["SEGVIEW_CACHE_DIR"] = str(work / "cache")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QPointF, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from segview.ui.main_window import MainWindow
    from segview.ui.resources import DEMO_IMAGES

    shutil.copytree(DEMO_IMAGES, work / "demo", ignore=shutil.ignore_patterns(".segview"))
    _app = QApplication(sys.argv[:1])  # kept alive while the script runs
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("prompt/model", "shot_sam")
    window = MainWindow(settings, device="cpu")
    window.resize(1500, 920)
    window.show()
    window.open_path(work / "demo")

    def wait(condition, seconds: float = 300.0) -> None:
        wait_until(condition, seconds)

    wait(lambda: window._image is not None)
    canvas, tool = window.canvas, window.editor.tools["prompt"]
    window.editor.set_tool("prompt")
    height, width = window._image.shape[:2]
    for x, y, button in ((0.45, 0.55, Qt.MouseButton.LeftButton), (0.8, 0.25, Qt.MouseButton.RightButton)):
        token = tool.token + 1
        QTest.mouseClick(canvas.viewport(), button, Qt.KeyboardModifier.NoModifier,
                         canvas.mapFromScene(QPointF(x * width, y * height)))
        wait(lambda t=token: tool.token == t and bool(tool.candidates))
    window.statusBar().showMessage("Prompt tool: Enter keeps the mask as a new segment, Tab shows another "
                                   "candidate, Esc clears")
    wait(lambda: False, 1.0)
    save_grab(window, args.out)
    window.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
