"""GUI fixtures: a main window over generated demo scenes, with tiny local models and private settings."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from segview.train.scenes import generate_scene
from tests.inference.tiny_models import write_tiny_cards


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("segview-data")
    write_tiny_cards(data_dir / "models")
    return data_dir


@pytest.fixture
def scenes(tmp_path):
    folder = tmp_path / "scenes"
    folder.mkdir()
    for seed in range(3):
        image, _ = generate_scene(seed, 96, 128)
        Image.fromarray(image).save(folder / f"scene_{seed}.png")
    return folder


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, tiny_models_dir):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tiny_models_dir))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    win = shown_window(qtbot, tmp_path)
    yield win
    win.bridge.shutdown()


def shown_window(qtbot, tmp_path):
    """A new main window, shown, with the test's settings file (``tmp_path/settings.ini``): a restart
    keeps them."""
    from segview.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings, device="cpu")
    qtbot.addWidget(win)
    win.resize(1100, 750)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture(scope="session", autouse=True)
def model_process():
    """One model process for every window of the session (a spawn with torch costs seconds): each window
    takes it over (a new generation, its own SEGVIEW_* environment, no model loaded)."""
    from segview.inference.model_process import ModelProcess
    from segview.ui.inference_bridge import InferenceBridge

    process = ModelProcess()
    InferenceBridge.shared_process = process
    yield process
    InferenceBridge.shared_process = None
    process.shutdown()


@pytest.fixture
def editor_window(window, scenes):
    """The window over the scenes, with the editing tests' classes (tests.ui.editing.test_editor.CATEGORIES)."""
    from tests.ui.editing.test_editor import CATEGORIES

    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    window.refresh_layers()
    return window
