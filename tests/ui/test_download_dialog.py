"""The first use of a model whose weights are not here: the window asks, downloads with progress, runs."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from tests.inference.tiny_models import SEMANTIC_CATEGORIES
from tests.ui.test_main_window import _predict


@pytest.fixture
def weights_server():
    """Serves /w/<name> from ``httpd.files`` on 127.0.0.1 (never the internet)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            data = httpd.files.get(self.path.rsplit("/", 1)[-1])
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.files = {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/w"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


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
    from segview.ui.main_window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), device="cpu")
    qtbot.addWidget(win)
    win.show()
    yield win
    win.bridge.shutdown()


def test_asks_downloads_with_progress_then_predicts(qtbot, download_window, scenes, monkeypatch, tmp_path):
    window = download_window
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Yes)
    progress = []
    window.bridge.download_progress.connect(lambda done, total: progress.append((done, total)))
    window.open_path(scenes)
    with qtbot.waitSignal(window.bridge.download_finished, timeout=60000) as finished:
        window.set_model("remote_sem")
    assert finished.args[1] is True, finished.args
    assert len(asked) == 1 and "remote_sem" in asked[0]
    assert progress and progress[-1][0] == progress[-1][1] > 0  # the last report is the whole file
    assert (tmp_path / "cache" / "weights" / "remote_sem.pt").is_file()
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)
    assert "remote_sem on CPU" in window.device_label.text()
    _predict(qtbot, window, "remote_sem")  # a second use finds the weights in the cache: no question
    assert len(asked) == 1


def test_a_bad_download_is_reported_and_nothing_is_kept(qtbot, download_window, scenes, monkeypatch, tmp_path):
    window = download_window
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: QMessageBox.StandardButton.Yes)
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: warnings.append(args[2]))
    window.open_path(scenes)
    with qtbot.waitSignal(window.bridge.download_finished, timeout=60000) as finished:
        window.set_model("bad_hash")
    assert finished.args[1] is False
    qtbot.waitUntil(lambda: bool(warnings))  # the window's own slot is a separate queued call
    assert "sha256" in warnings[0].lower()
    assert not list((tmp_path / "cache").rglob("*.pt"))


def test_declining_downloads_nothing(qtbot, download_window, scenes, monkeypatch, tmp_path, weights_server):
    window = download_window
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: QMessageBox.StandardButton.No)
    window.open_path(scenes)
    with qtbot.waitSignal(window.bridge.failed, timeout=60000) as failed:
        window.set_model("remote_sem")
    assert "not downloaded" in failed.args[1]
    assert not (tmp_path / "cache" / "weights").exists() or not list((tmp_path / "cache" / "weights").iterdir())
