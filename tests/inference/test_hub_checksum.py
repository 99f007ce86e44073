"""Cards whose files' authors publish no hash (EdgeTAM, SlimSAM, OWLv2) are downloaded checked against what
the Hugging Face Hub records of each file: a large file's SHA-256 (the ``X-Linked-Etag`` of its redirect), a
small file's git object id (its ``ETag``). A local server plays the Hub; nothing reaches the internet."""

import hashlib
import shutil
import subprocess

import pytest

from segview.inference.cards import CardError, get_card, load_card
from segview.inference.weights import (
    DownloadError,
    ensure_weights,
    git_blob_sha1,
    hub_checksum,
    remote_weights,
)
from tests.file_server import serving_files
from tests.user_dirs import use_user_dirs

WEIGHTS = b"safetensors bytes " * 1000
VOCAB = b'{"a": 0, "b": 1}'


def _card(folder, url: str, extra: str = 'sha256_from = "huggingface"', file_name: str = "hub_model.safetensors"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hub_model.toml").write_text(
        'name = "hub_model"\ntitle = "t"\ntask = "prompt"\nbuilder = "segview.inference.architectures.edgetam"\n'
        f'licence = "MIT"\ndescription = "d"\n[weights]\nurl = "{url}"\nfile_name = "{file_name}"\n{extra}\n')
    return load_card(folder / "hub_model.toml")


def _as_the_hub_serves_a_large_file(httpd, name: str, content: bytes, linked: bytes | None = None) -> str:
    """``name`` redirects to its storage with the SHA-256 of ``linked`` (of ``content`` when None)."""
    httpd.files[f"cdn/{name}"] = content
    sha = hashlib.sha256(content if linked is None else linked).hexdigest()
    httpd.redirects[name] = (302, f"{httpd.url}/cdn/{name}", {"X-Linked-Etag": f'"{sha}"', "X-Linked-Size": "1"})
    return f"{httpd.url}/{name}"


def test_a_large_file_is_downloaded_checked_against_the_hubs_sha256(tmp_path, monkeypatch):
    use_user_dirs(monkeypatch, tmp_path)
    with serving_files() as httpd:
        url = _as_the_hub_serves_a_large_file(httpd, "org/repo/resolve/main/model.safetensors", WEIGHTS)
        card = _card(tmp_path / "cards", url)
        assert hub_checksum(url, tmp_path / "x") == ("sha256", hashlib.sha256(WEIGHTS).hexdigest())
        path = ensure_weights(card, allow_download=True)
    assert path.read_bytes() == WEIGHTS and path.name == "hub_model.safetensors"


def test_a_file_that_is_not_the_one_the_hub_records_is_refused_and_nothing_is_saved(tmp_path, monkeypatch):
    use_user_dirs(monkeypatch, tmp_path)
    with serving_files() as httpd:
        url = _as_the_hub_serves_a_large_file(httpd, "r/model.safetensors", WEIGHTS, linked=b"other bytes")
        with pytest.raises(DownloadError, match="not the expected one"):
            ensure_weights(_card(tmp_path / "cards", url), allow_download=True)
    assert not list((tmp_path / "cache" / "weights").glob("*"))


def test_the_hubs_own_relative_redirect_is_followed_to_the_checksum(tmp_path):
    with serving_files() as httpd:  # a renamed repository: /w/old/... -> /w/new/...
        _as_the_hub_serves_a_large_file(httpd, "new/model.safetensors", WEIGHTS)
        httpd.redirects["old/model.safetensors"] = (307, "/w/new/model.safetensors", {})
        assert hub_checksum(f"{httpd.url}/old/model.safetensors", tmp_path / "x") == (
            "sha256", hashlib.sha256(WEIGHTS).hexdigest())


def test_a_small_file_is_checked_against_its_git_object_id(tmp_path, monkeypatch):
    use_user_dirs(monkeypatch, tmp_path)
    source = tmp_path / "vocab.json"
    source.write_bytes(VOCAB)
    with serving_files() as httpd:
        httpd.files["r/vocab.json"] = VOCAB
        httpd.headers["r/vocab.json"] = {"ETag": f'"{git_blob_sha1(source)}"'}
        card = _card(tmp_path / "cards", f"{httpd.url}/r/vocab.json", file_name="vocab.json")
        assert ensure_weights(card, allow_download=True).read_bytes() == VOCAB
        httpd.headers["r/vocab.json"] = {"ETag": '"' + "0" * 40 + '"'}
        (tmp_path / "cache" / "weights" / "vocab.json").unlink()
        with pytest.raises(DownloadError, match="git object"):
            ensure_weights(card, allow_download=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git computes the reference object id")
def test_the_git_object_id_is_gits(tmp_path):
    path = tmp_path / "merges.txt"
    path.write_bytes(b"#version: 0.2\ni n\n" * 50)
    expected = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout
    assert git_blob_sha1(path) == expected.strip()


def test_a_server_that_gives_no_checksum_is_not_downloaded_from(tmp_path, monkeypatch):
    use_user_dirs(monkeypatch, tmp_path)
    with serving_files() as httpd:
        httpd.files["plain/model.safetensors"] = WEIGHTS  # 200, no ETag: not the Hub
        with pytest.raises(DownloadError, match="did not give a checksum.*save it as .*hub_model.safetensors"):
            ensure_weights(_card(tmp_path / "cards", f"{httpd.url}/plain/model.safetensors"), allow_download=True)
    assert not (tmp_path / "cache" / "weights" / "hub_model.safetensors").exists()


@pytest.mark.parametrize(("extra", "file_name", "complaint"), [
    ('sha256_from = "github"', "hub_model.safetensors", "the only source"),
    ('sha256_from = "huggingface"\nsha256 = "' + "a" * 64 + '"', "hub_model.safetensors", "only for url weights"),
    ('sha256_from = "huggingface"', "hub_model.pth", "can carry code"),
])
def test_cards_use_the_hubs_record_only_for_files_that_cannot_carry_code(tmp_path, extra, file_name, complaint):
    with pytest.raises(CardError, match=complaint):
        _card(tmp_path, "https://huggingface.co/o/r/resolve/main/x", extra=extra, file_name=file_name)


@pytest.mark.parametrize("name", ["edgetam", "slimsam_77", "owlv2_base", "owlv2_large"])
def test_the_bundled_cards_without_a_published_hash_use_the_hubs_record(name):
    assert remote_weights(get_card(name)).checkable
