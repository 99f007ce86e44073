"""The first use of a model whose weights are not here: the window asks, downloads with progress, runs."""

from __future__ import annotations

import hashlib

import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from segview.ui.main_window import MainWindow
from tests.file_server import serving_files
from tests.inference.tiny_models import SEMANTIC_CATEGORIES, write_tiny_cards
from tests.ui.test_main_window import _predict


@pytest.fixture
def weights_server():
    with serving_files() as httpd:
        yield httpd


def _url_card(models, server, name: str, served: bytes, sha: str) -> None:
    models.mkdir(parents=True, exist_ok=True)
    server.files[f"{name}.pt"] = served
    (models / f"{name}.toml").write_text(
        f'name = "{name}"\ntitle = "{name}"\ntask = "semantic"\n'
        'builder = "torchvision.models.segmentation.lraspp_mobilenet_v3_large"\nlicence = "MIT"\n'
        f'description = "test"\n{SEMANTIC_CATEGORIES}\n[builder_kwargs]\nnum_classes = 3\n'
        f'[weights]\nurl = "{server.url}/{name}.pt"\nsha256 = "{sha}"\n[input]\nresize = 64\n'
    )


@pytest.fixture
def download_window(qtbot, tmp_path, monkeypatch, weights_server):
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    torch.manual_seed(0)
    path = tmp_path / "w.pt"
    torch.save({"model": lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3).state_dict()},
               path)
    data = path.read_bytes()
    models = tmp_path / "data" / "models"
    _url_card(models, weights_server, "remote_sem", data, hashlib.sha256(data).hexdigest())
    _url_card(models, weights_server, "bad_hash", data, "0" * 64)
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), device="cpu")
    qtbot.addWidget(win)
    win.show()
    yield win
    win.bridge.shutdown()


def _dialog(qtbot, window):
    """The weights dialog, once the window shows it."""
    qtbot.waitUntil(lambda: window.weights_offer.dialog is not None and window.weights_offer.dialog.isVisible(),
                    timeout=60000)
    return window.weights_offer.dialog


def _click(qtbot, dialog, choice):
    qtbot.mouseClick(dialog.buttons[choice], Qt.MouseButton.LeftButton)


def test_asks_downloads_with_progress_then_predicts(qtbot, download_window, scenes, tmp_path):
    window = download_window
    progress = []
    window.bridge.download_progress.connect(lambda done, total: progress.append((done, total)))
    window.open_path(scenes)
    window.set_model("remote_sem")
    dialog = _dialog(qtbot, window)
    assert "remote_sem" in dialog.text() and "remote_sem.pt" in dialog.detailedText()
    assert window.model_panel.weights_button.isVisibleTo(window.model_panel)
    with qtbot.waitSignal(window.bridge.download_finished, timeout=60000) as finished:
        _click(qtbot, dialog, "download")
    assert finished.args[1] is True, finished.args
    assert progress and progress[-1][0] == progress[-1][1] > 0  # the last report is the whole file
    assert (tmp_path / "cache" / "weights" / "remote_sem.pt").is_file()
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)
    assert "remote_sem on CPU" in window.device_label.text()
    assert not window.model_panel.weights_button.isVisibleTo(window.model_panel)
    window.weights_offer.dialog = None
    _predict(qtbot, window, "remote_sem")  # a second use finds the weights in the cache: no question
    assert window.weights_offer.dialog is None


def test_a_bad_download_is_reported_and_nothing_is_kept(qtbot, download_window, scenes, monkeypatch, tmp_path):
    window = download_window
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: warnings.append(args[2]))
    window.open_path(scenes)
    window.set_model("bad_hash")
    with qtbot.waitSignal(window.bridge.download_finished, timeout=60000) as finished:
        _click(qtbot, _dialog(qtbot, window), "download")
    assert finished.args[1] is False
    qtbot.waitUntil(lambda: bool(warnings))  # the window's own slot is a separate queued call
    assert "sha256" in warnings[0].lower() and warnings[0].endswith("Use a local file…")
    assert not list((tmp_path / "cache").rglob("*.pt"))


def test_not_now_is_remembered_at_the_next_start(qtbot, download_window, scenes, tmp_path):
    window = download_window
    window.open_path(scenes)
    with qtbot.waitSignal(window.bridge.model_failed, timeout=60000) as failed:
        window.set_model("remote_sem")
    assert "not on this computer" in failed.args[1] and "Get weights" in failed.args[1]
    _click(qtbot, _dialog(qtbot, window), "later")
    qtbot.waitUntil(lambda: not window.weights_offer.dialog.isVisible())
    assert "Get weights" in window.statusBar().currentMessage()
    assert not (tmp_path / "cache" / "weights").exists() or not list((tmp_path / "cache" / "weights").iterdir())
    window.close()

    later = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), device="cpu")
    qtbot.addWidget(later)
    later.show()
    try:
        later.open_path(scenes)
        with qtbot.waitSignal(later.bridge.model_failed, timeout=60000):
            later.set_model("remote_sem")  # as a start with the last model does
        # needs_download was queued before model_failed, so it has been handled: without a dialog
        assert later.weights_offer.dialog is None
        button = later.model_panel.weights_button
        assert button.isVisibleTo(later.model_panel)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # asked for: the dialog comes back
        assert _dialog(qtbot, later).buttons["local"].text() == "Use a local file…"
    finally:
        later.bridge.shutdown()


def test_a_local_copy_is_checked_installed_and_used(qtbot, download_window, scenes, monkeypatch, tmp_path):
    window = download_window
    copy = tmp_path / "from a colleague.pth"
    copy.write_bytes((tmp_path / "w.pt").read_bytes())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kw: (str(copy), ""))
    window.open_path(scenes)
    window.set_model("remote_sem")
    with qtbot.waitSignal(window.bridge.download_finished, timeout=60000) as finished:
        _click(qtbot, _dialog(qtbot, window), "local")
    assert finished.args[1] is True, finished.args
    assert (tmp_path / "cache" / "weights" / "remote_sem.pt").read_bytes() == copy.read_bytes()
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)
    assert "remote_sem on CPU" in window.device_label.text()


@pytest.mark.parametrize("kind", ["other architecture", "other weights"])
def test_a_wrong_local_file_is_refused_with_a_clear_message(qtbot, download_window, scenes, monkeypatch, tmp_path,
                                                            kind):
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    window = download_window
    wrong = tmp_path / "wrong.pth"
    torch.manual_seed(1)
    classes = 5 if kind == "other architecture" else 3
    torch.save(lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=classes).state_dict(),
               wrong)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kw: (str(wrong), ""))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: warnings.append(args[2]))
    window.open_path(scenes)
    window.set_model("remote_sem")
    with qtbot.waitSignal(window.bridge.download_finished, timeout=60000) as finished:
        _click(qtbot, _dialog(qtbot, window), "local")
    assert finished.args[1] is False
    qtbot.waitUntil(lambda: bool(warnings))
    if kind == "other architecture":
        assert "does not fit the model" in warnings[0] and "shape mismatches" in warnings[0]
    else:
        assert "is not its published weights" in warnings[0] and "segview models import" in warnings[0]
    assert not list((tmp_path / "cache").rglob("*.pt"))


def test_the_failure_message_goes_when_another_model_works(qtbot, download_window, scenes, tmp_path):
    window = download_window
    write_tiny_cards(tmp_path / "data" / "models")
    window.open_path(scenes)
    with qtbot.waitSignal(window.bridge.model_failed, timeout=60000):
        window.set_model("remote_sem")
    _click(qtbot, _dialog(qtbot, window), "later")
    qtbot.waitUntil(lambda: "cannot be used" in window.statusBar().currentMessage())
    _predict(qtbot, window, "tiny_inst")
    qtbot.waitUntil(lambda: "tiny_inst on CPU" in window.device_label.text(), timeout=60000)
    assert window.statusBar().currentMessage() == ""
    assert not window.model_panel.weights_button.isVisibleTo(window.model_panel)


def test_the_demo_model_says_what_it_knows(qtbot, download_window):
    from segview.ui.model_control import available_models

    panel = download_window.model_panel
    panel.set_models(available_models(), "demo_panoptic")
    assert panel.hint.isVisibleTo(panel)
    assert "generated scenes" in panel.hint.text() and "COCO model" in panel.hint.text()
    panel.models.setCurrentIndex(panel.models.findData("remote_sem"))  # a model without a hint
    assert not panel.hint.isVisibleTo(panel)
