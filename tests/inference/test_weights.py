"""Weights: resolution order, downloads from a local HTTP server, safe loading, fitting a model."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import socket
import subprocess
import sys
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from segview.inference.cards import CardError, get_card, torchvision_weights, user_models_dir
from segview.inference.weights import (
    DownloadCancelled,
    DownloadError,
    WeightsError,
    cache_dir,
    check_fits,
    download,
    ensure_weights,
    find_weights,
    hash_prefix_of,
    hub_checkpoints_dir,
    load_checkpoint,
    load_state_dict,
    remote_weights,
    sha256_of,
)


def _tiny(out: int = 3) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, out))


def _payload() -> bytes:
    buffer = io.BytesIO()  # big enough for several download chunks
    torch.save(torch.nn.Sequential(torch.nn.Linear(400, 400), torch.nn.Linear(400, 10)).state_dict(), buffer)
    return buffer.getvalue()


PAYLOAD = _payload()
SHA = hashlib.sha256(PAYLOAD).hexdigest()
PREFIXED = f"tiny-{SHA[:8]}.pth"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


class _Handler(BaseHTTPRequestHandler):
    """/<mode>/<name> serves PAYLOAD with Content-Length; a mode containing "nolength" leaves the header out,
    "short" sends half the bytes, "stall" sends none; unknown names are 404."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.hits.append(self.path)
        mode, _, name = self.path.strip("/").rpartition("/")
        if name not in ("tiny.pth", PREFIXED, "tiny-deadbeef.pth"):
            self.send_error(404)
            return
        self.send_response(200)
        if "nolength" not in mode:
            self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if mode == "stall":
            self.server.release.wait(10)
            return
        self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2] if "short" in mode else PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.hits = []
    httpd.release = threading.Event()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def _files(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


# --- downloads -----------------------------------------------------------------------------------


def test_download_reports_progress_and_checks_sha256(server, tmp_path):
    calls = []
    dest = download(f"{server.url}/tiny.pth", tmp_path / "dl" / "tiny.pth", SHA,
                    progress=lambda done, total: calls.append((done, total)))
    assert dest.read_bytes() == PAYLOAD
    assert calls[0] == (0, len(PAYLOAD)) and calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert len(calls) >= 3 and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert _files(tmp_path / "dl") == ["tiny.pth"]


def test_download_without_content_length(server, tmp_path):
    calls = []
    dest = download(f"{server.url}/nolength/tiny.pth", tmp_path / "tiny.pth", SHA,
                    progress=lambda done, total: calls.append((done, total)))
    assert dest.read_bytes() == PAYLOAD
    assert {t for _, t in calls} == {None} and calls[-1][0] == len(PAYLOAD)


def test_download_checks_the_hash_prefix_of_the_file_name(server, tmp_path):
    assert hash_prefix_of(PREFIXED) == SHA[:8]
    assert hash_prefix_of("model_final.pth") is None
    dest = download(f"{server.url}/{PREFIXED}", tmp_path / PREFIXED, hash_prefix=hash_prefix_of(PREFIXED))
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="a hash starting with deadbeef"):
        download(f"{server.url}/tiny-deadbeef.pth", tmp_path / "bad" / "tiny-deadbeef.pth", hash_prefix="deadbeef")
    assert _files(tmp_path / "bad") == []


def test_sha256_mismatch_leaves_nothing(server, tmp_path):
    url = f"{server.url}/tiny.pth"
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "tiny.pth", "0" * 64)
    assert all(part in str(info.value) for part in (url, SHA, "0" * 64, "Nothing was saved"))
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    ("route", "sha", "message"),
    [
        ("short", None, f"cut short: {len(PAYLOAD) // 2} of {len(PAYLOAD)} bytes"),
        ("short", SHA, "cut short"),
        ("nolength-short", SHA, f"its sha256 is {hashlib.sha256(PAYLOAD[: len(PAYLOAD) // 2]).hexdigest()}"),
    ],
    ids=["short", "short-sha256", "no-length-short-sha256"],
)
def test_truncated_download_leaves_nothing(server, tmp_path, route, sha, message):
    with pytest.raises(DownloadError, match=message):
        download(f"{server.url}/{route}/tiny.pth", tmp_path / "tiny.pth", sha)
    assert _files(tmp_path) == []


def test_http_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{server.url}/missing.pth", tmp_path / "missing.pth")
    assert _files(tmp_path) == []


def test_timeout(server, tmp_path):
    with pytest.raises(DownloadError, match="timed out after 0.3 s"):
        download(f"{server.url}/stall/tiny.pth", tmp_path / "tiny.pth", timeout=0.3)
    assert _files(tmp_path) == []


def test_connection_refused(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="Check your internet connection"):
        download(f"http://127.0.0.1:{port}/tiny.pth", tmp_path / "tiny.pth")
    assert _files(tmp_path) == []


def test_cancel(server, tmp_path):
    cancel = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled, match="cancelled"):
        download(f"{server.url}/tiny.pth", tmp_path / "tiny.pth", SHA, progress=progress, cancel=cancel)
    assert 0 < calls[-1] < len(PAYLOAD)
    assert _files(tmp_path) == []


# --- resolving a card's weights ------------------------------------------------------------------


def _url_card(server_url: str, name: str = "served"):
    user_models_dir().mkdir(parents=True, exist_ok=True)
    (user_models_dir() / f"{name}.toml").write_text(f"""
name = "{name}"
title = "Served"
task = "semantic"
builder = "torchvision.models.segmentation.fcn_resnet50"
licence = "CC0"
description = "A card for tests."
categories = [{{ id = 0, name = "bg", isthing = false }}]
[weights]
url = "{server_url}/tiny.pth"
sha256 = "{SHA}"
[input]
resize = 64
""")
    return get_card(name)


def test_ensure_weights_downloads_only_when_asked(server):
    card = _url_card(server.url)
    assert find_weights(card) is None
    with pytest.raises(WeightsError, match="Run `segview models download served`"):
        ensure_weights(card)
    assert server.hits == []
    calls = []
    path = ensure_weights(card, allow_download=True, progress=lambda d, t: calls.append(d))
    assert path == cache_dir() / "tiny.pth" and path.read_bytes() == PAYLOAD
    assert calls[-1] == len(PAYLOAD) and len(server.hits) == 1
    assert ensure_weights(card, allow_download=True) == path and len(server.hits) == 1
    assert find_weights(card) == path


def test_resolution_order_explicit_then_cache_then_hub(tmp_path):
    card = _url_card("http://127.0.0.1:9")  # never contacted
    assert hub_checkpoints_dir() == tmp_path / "torch" / "hub" / "checkpoints"
    assert cache_dir() == tmp_path / "cache" / "weights"
    hub = hub_checkpoints_dir() / "tiny.pth"
    hub.parent.mkdir(parents=True)
    hub.write_bytes(b"hub")
    assert find_weights(card) == hub
    cached = cache_dir() / "tiny.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"cache")
    assert find_weights(card) == cached
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(b"mine")
    assert find_weights(card, explicit) == explicit == ensure_weights(card, explicit)
    with pytest.raises(WeightsError, match="does not exist"):
        find_weights(card, tmp_path / "nope.pth")


def test_torchvision_card_is_found_in_torch_hub_cache():
    card = get_card("maskrcnn_resnet50_fpn_v2")
    remote = remote_weights(card)
    assert remote.url == torchvision_weights(card).url and remote.sha256 is None
    assert remote.hash_prefix and remote.filename.endswith(f"-{remote.hash_prefix}.pth")
    assert find_weights(card) is None
    hub = hub_checkpoints_dir() / remote.filename
    hub.parent.mkdir(parents=True)
    hub.write_bytes(b"x")
    assert find_weights(card) == hub


def test_a_pair_has_no_weights_of_its_own():
    with pytest.raises(CardError, match="no weights of its own"):
        find_weights(get_card("coco_panoptic_pair"))


def _file_card(folder: Path, content: bytes, sha: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo.pth").write_bytes(content)
    (folder / "demo.toml").write_text(f"""
name = "demo"
title = "Demo"
task = "instance"
builder = "torchvision.models.detection.maskrcnn_resnet50_fpn"
licence = "CC0"
description = "A bundled-style demo card."
categories = [{{ id = 1, name = "cell", isthing = true }}]
[weights]
file = "demo.pth"
sha256 = "{sha}"
[input]
min_size = 256
max_size = 512
""")
    from segview.inference.cards import load_card

    return load_card(folder / "demo.toml")


def test_file_source_is_verified(tmp_path):
    card = _file_card(tmp_path / "ok", PAYLOAD, SHA)
    assert ensure_weights(card) == tmp_path / "ok" / "demo.pth"
    card = _file_card(tmp_path / "changed", b"other bytes", SHA)
    with pytest.raises(WeightsError, match=f"expected {SHA}"):
        ensure_weights(card)
    card = _file_card(tmp_path / "lfs", b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\n", SHA)
    with pytest.raises(WeightsError, match="git lfs pull"):
        ensure_weights(card)
    card = _file_card(tmp_path / "gone", PAYLOAD, SHA)
    (tmp_path / "gone" / "demo.pth").unlink()
    with pytest.raises(WeightsError, match="are missing"):
        ensure_weights(card, allow_download=True)


def test_finding_url_weights_does_not_import_torch(tmp_path):
    _url_card("http://127.0.0.1:9")
    code = ("import sys; from segview.inference.weights import find_weights, hub_checkpoints_dir; "
            "from segview.inference.cards import get_card; find_weights(get_card('served')); "
            "print(hub_checkpoints_dir()); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ)).stdout.split()
    assert out == [str(hub_checkpoints_dir()), "False"]  # same folder as torch.hub.get_dir() computes


# --- loading checkpoints -------------------------------------------------------------------------


def test_load_plain_and_wrapped_state_dicts(tmp_path):
    state = _tiny().state_dict()
    torch.save(state, tmp_path / "plain.pth")
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "wrapped.pth")
    categories = [{"id": 1, "name": "cell", "isthing": True}, {"id": 2, "name": "gel", "isthing": False}]
    torch.save({"model": state, "categories": categories}, tmp_path / "ours.pth")
    for name in ("plain", "wrapped", "ours"):
        loaded = load_state_dict(tmp_path / f"{name}.pth")
        assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    assert load_checkpoint(tmp_path / "plain.pth").categories is None
    assert [(c.id, c.name, c.isthing) for c in load_checkpoint(tmp_path / "ours.pth").categories] == [
        (1, "cell", True), (2, "gel", False)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda: torch.zeros(3), "holds a Tensor, not a state dict"),
        (lambda: {"weight": torch.zeros(1), "note": "x"}, "entry 'note' is a str"),
        (lambda: {}, "it is empty"),
        (lambda: {"model": {"w": torch.zeros(1)}, "categories": [{"id": 1}]}, "categories[0].name"),
    ],
)
def test_not_a_state_dict(tmp_path, content, message):
    path = tmp_path / "odd.pth"
    torch.save(content(), path)
    with pytest.raises(WeightsError, match=re.escape(message)) as info:
        load_state_dict(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("cut", [0, 10, 0.5])
def test_truncated_or_corrupt_file(tmp_path, cut):
    path = tmp_path / "cut.pth"
    path.write_bytes(PAYLOAD[: int(cut * len(PAYLOAD)) if isinstance(cut, float) else cut])
    with pytest.raises(WeightsError, match="truncated or corrupt") as info:
        load_state_dict(path)
    assert str(path) in str(info.value)


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def test_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(1), "payload": _RunsCode(marker)}, path)
    with pytest.raises(WeightsError, match="Refused to load") as info:
        load_state_dict(path)
    assert str(path) in str(info.value) and "could run code" in str(info.value)
    assert "system" in str(info.value)  # names the culprit
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file really is malicious: an unsafe load runs it
    assert marker.exists()


@pytest.mark.parametrize(
    "content",
    [np.random.default_rng(seed).bytes(4096) for seed in range(3)] + [pickle.dumps({"weight": [1.0]}, protocol=4)],
    ids=["random0", "random1", "random2", "raw_pickle"],
)
def test_a_file_that_is_no_checkpoint_says_so_without_torchs_warnings(tmp_path, content):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(WeightsError, match="is not a PyTorch checkpoint") as info:
            load_state_dict(path)
    assert str(path) in str(info.value) and "could run code" not in str(info.value)
    assert caught == []  # torch warns about a raw pickle's protocol: that would print before segview's message


# --- fitting a model -----------------------------------------------------------------------------


def test_check_fits_loads_a_matching_state_dict():
    source, model = _tiny(), _tiny()
    check_fits(model, source.state_dict(), "same.pth")
    assert all(torch.equal(a, b) for a, b in zip(source.parameters(), model.parameters(), strict=True))


def test_check_fits_wrong_number_of_classes():
    with pytest.raises(WeightsError) as info:
        check_fits(_tiny(3), _tiny(5).state_dict(), "five.pth")
    message = str(info.value)
    assert "five.pth does not fit the model Sequential" in message
    assert "2 shape mismatches: 2.weight (file (5, 8), model (3, 8)), 2.bias (file (5,), model (3,))" in message
    assert "different number of classes" in message


def test_check_fits_wrong_architecture(tmp_path):
    other = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with pytest.raises(WeightsError) as info:
        check_fits(_tiny(), other.state_dict(), tmp_path / "other.pth")
    message = str(info.value)
    assert "2 missing keys: 2.weight, 2.bias" in message and "2 unexpected keys: 3.weight, 3.bias" in message


def test_sha256_of(tmp_path):
    (tmp_path / "p").write_bytes(PAYLOAD)
    assert sha256_of(tmp_path / "p") == SHA
    with pytest.raises(WeightsError, match="Cannot read"):
        sha256_of(tmp_path / "missing")


def test_a_load_error_that_is_only_a_number_is_not_shown_as_one():
    """torch's legacy loader raised KeyError(174812789) on a damaged file: the message says what it means."""
    from segview.inference import weights

    message = str(weights._corrupt(Path("w.pt"), KeyError(174812789)))
    assert "174812789" not in message and "not a checkpoint torch can read" in message
    assert "(unexpected EOF" in str(weights._corrupt(Path("w.pt"), RuntimeError("unexpected EOF")))
