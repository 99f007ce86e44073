"""Model weights: find them on disk, download them (with progress, hash check and cancel), load them safely.

A card's weights are looked for, in order: an explicit path, segview's cache folder
(``<user cache dir>/weights``; ``$SEGVIEW_CACHE_DIR/weights`` when that is set), torch hub's
``checkpoints`` folder. They are downloaded only when asked (``ensure_weights(..., allow_download=True)``).
Finding weights imports torch only for torchvision sources (their URL comes from torchvision);
loading them always does.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlparse

import platformdirs

from segview import __version__
from segview.core.wording import count
from segview.errors import SegviewError, WriteError
from segview.inference.cards import (
    CardError,
    ModelCard,
    ModelCategory,
    WeightsSource,
    file_cards,
    parse_categories,
    torchvision_weights,
)

CACHE_ENV = "SEGVIEW_CACHE_DIR"
# torch.hub's convention: "<name>-<first hex digits of the sha256>.<ext>" (torch.hub.HASH_REGEX).
HASH_REGEX = re.compile(r"-([a-f0-9]+)\.")
_CHUNK = 256 * 1024

Progress = Callable[[int, int | None], None]


class WeightsError(SegviewError):
    """Weights are missing, corrupt, unsafe to load, or do not fit the model."""


class DownloadError(WeightsError):
    """A download failed; nothing was left behind."""


class DownloadCancelled(DownloadError):
    """The user cancelled a download; nothing was left behind."""


@dataclass(frozen=True)
class RemoteWeights:
    """Where a card's weights can be downloaded from, the file name to store them under, and their hash."""

    url: str
    filename: str
    sha256: str | None = None
    hash_prefix: str | None = None
    sha256_from_hub: bool = False
    """The SHA-256 is the Hugging Face Hub's record of the file, asked for as the download starts."""

    @property
    def checkable(self) -> bool:
        """Whether a download of it can be checked (segview refuses to download what it cannot check)."""
        return bool(self.sha256 or self.hash_prefix or self.sha256_from_hub)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the state dict and, when the file stores them, the model's categories."""

    state_dict: dict[str, Any]
    categories: tuple[ModelCategory, ...] | None = None


def cache_dir() -> Path:
    """segview's folder for downloaded weights."""
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("segview")) / "weights"


def hub_checkpoints_dir() -> Path:
    """torch hub's ``checkpoints`` folder, computed like ``torch.hub.get_dir()`` without importing torch."""
    if "torch" in sys.modules:  # respects torch.hub.set_dir()
        import torch.hub

        return Path(torch.hub.get_dir()) / "checkpoints"
    home = os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch"))
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def hash_prefix_of(filename: str) -> str | None:
    """The sha256 prefix in a torchvision-style file name (``name-<hex>.pth``), or None."""
    match = HASH_REGEX.search(filename)
    return match.group(1) if match else None


def remote_weights(card: ModelCard) -> RemoteWeights | None:
    """The download location of a card's weights; None for a ``file`` source."""
    source = _source(card)
    if source.file is not None:
        return None
    url = torchvision_weights(card).url if source.torchvision else source.url
    assert url is not None
    filename = source.file_name or Path(urlparse(url).path).name
    if source.torchvision:
        return RemoteWeights(url, filename, hash_prefix=hash_prefix_of(filename))
    return RemoteWeights(url, filename, sha256=source.sha256, sha256_from_hub=source.sha256_from_hub)


def find_weights(card: ModelCard, path: str | os.PathLike | None = None) -> Path | None:
    """The weights file to use, without downloading or hashing: ``path`` (must exist), the card's
    ``file``, else the cache, else torch hub's folder. None when they still have to be downloaded."""
    source = _source(card)
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise WeightsError(f"Weights file {explicit} does not exist. Check the path.")
        return explicit
    if source.file is not None:
        return source.file if source.file.is_file() else None
    filename = source.file_name or remote_weights(card).filename
    for folder in (cache_dir(), hub_checkpoints_dir()):
        if (folder / filename).is_file():
            return folder / filename
    return None


def missing_files(card: ModelCard) -> list[tuple[str, Path]]:
    """(URL, where segview looks for it) of each file a model needs (its weights, a detector's tokenizer
    files) that is not on this computer and has a download location."""
    missing = []
    for member in file_cards(card):
        remote = remote_weights(member)
        if remote is not None and find_weights(member) is None:
            missing.append((remote.url, cache_dir() / remote.filename))
    return missing


def unchecked_missing(card: ModelCard) -> list[RemoteWeights]:
    """The files a model needs, not on this computer, that segview cannot check a download of (no hash)."""
    return [remote for member in file_cards(card) if (remote := remote_weights(member)) is not None
            and not remote.checkable and find_weights(member) is None]


def missing_files_message(model: str, missing: list[tuple[str, Path]], downloadable: Sequence[str] = ()) -> str:
    """What ``model`` says when it lacks the files ``missing`` (:func:`missing_files`'s): each URL and path,
    and the download commands of the cards in ``downloadable`` (those whose files segview can check)."""
    files = "; ".join(f"{url} as {path}" for url, path in missing)
    commands = " and ".join(f"`segview models download {name}`" for name in downloadable)
    return (f"{model} needs {count(len(missing), 'file')} not on this computer yet. Save {files}"
            + (f", or run {commands}." if commands else "."))


def ensure_weights(
    card: ModelCard,
    path: str | os.PathLike | None = None,
    *,
    allow_download: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 30.0,
) -> Path:
    """Like ``find_weights``, but a ``file`` source is checked against its sha256, and missing weights are
    downloaded into the cache when ``allow_download`` is true (else an error says how to get them)."""
    found = find_weights(card, path)
    source = _source(card)
    if found is not None:
        if path is None and source.file is not None:
            got = sha256_of(found)
            if got != source.sha256:
                advice = _lfs_hint(found) or "Restore the original file or fix the card."
                raise WeightsError(f"{found} is not the file model {card.name!r} expects: sha256 {got}, "
                                   f"expected {source.sha256} (from {card.path}). {advice}")
        return found
    if source.file is not None:
        raise WeightsError(f"The weights of model {card.name!r}, {source.file} (named in {card.path}), are "
                           "missing. Put the file there, pass its path, or reinstall segview.")
    remote = remote_weights(card)
    assert remote is not None
    if not remote.checkable:  # `segview models download` would refuse it too
        raise WeightsError(
            f"Model {card.name!r} cannot be downloaded: its card ({card.path}) has no published SHA-256 to check "
            f"the file against. Download {remote.url} yourself and give segview that file (in the window: Use "
            "a local file…), or add the file's sha256 to the card.")
    if not allow_download:
        raise WeightsError(
            f"The weights of model {card.name!r} are not downloaded yet (looked for {remote.filename} in "
            f"{cache_dir()} and {hub_checkpoints_dir()}). Run `segview models download {card.name}` "
            f"or pass the path of a copy of {remote.url}."
        )
    sha256, blob = remote.sha256, None
    if remote.sha256_from_hub:
        kind, digest = hub_checksum(remote.url, cache_dir() / remote.filename, timeout)
        sha256, blob = (digest, None) if kind == "sha256" else (None, digest)
    return download(remote.url, cache_dir() / remote.filename, sha256, remote.hash_prefix, git_blob=blob,
                    progress=progress, cancel=cancel, timeout=timeout)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ARG002 - a redirect becomes an HTTPError to read
        return None


def hub_checksum(url: str, dest: Path, timeout: float = 30.0) -> tuple[str, str]:
    """What the Hugging Face Hub records of a file's content, as ``("sha256", hex)`` for a file it keeps
    with Git LFS (the ``X-Linked-Etag`` of the ``resolve`` URL, which redirects to the file's storage: the
    redirect is not followed, the Hub's own relative ones, for a renamed repository, are) or
    ``("git-blob", hex)`` for a small file kept in git (its ``ETag``: the git object id, a SHA-1 of
    ``blob <size>\\0`` and the bytes). huggingface_hub reads the same headers. ``dest``: where the
    download goes (the errors say to save a copy there)."""
    opener = urllib.request.build_opener(_NoRedirect)
    target = url
    for _ in range(5):
        request = urllib.request.Request(target, method="HEAD", headers={
            "User-Agent": f"segview/{__version__}", "Accept-Encoding": "identity"})
        try:
            with opener.open(request, timeout=timeout) as response:
                headers, redirected = response.headers, False
        except urllib.error.HTTPError as exc:
            if exc.code not in (301, 302, 303, 307, 308):
                raise _refused(url, dest, exc) from exc
            headers, redirected = exc.headers, True
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise DownloadError(f"Cannot reach {urlparse(url).hostname} to download {url} ({reason}). Check your "
                                f"internet connection and proxy settings, then try again, or {_own_copy(dest)}") from exc
        linked = headers.get("X-Linked-Etag")
        location = headers.get("Location") or ""
        if redirected and linked is None and location.startswith("/"):
            target = urljoin(target, location)
            continue
        etag = (linked if redirected else headers.get("ETag") or "").removeprefix("W/").strip('"').lower()
        if redirected and re.fullmatch(r"[0-9a-f]{64}", etag):
            return "sha256", etag
        if not redirected and re.fullmatch(r"[0-9a-f]{40}", etag):
            return "git-blob", etag
        break
    raise DownloadError(f"{url} did not give a checksum as the Hugging Face Hub does, so segview cannot check a "
                        f"download of it: {_own_copy(dest)}")


def git_blob_sha1(path: str | os.PathLike) -> str:
    """A file's git object id (the SHA-1 of ``blob <size>\\0`` and its bytes)."""
    data = Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def download(
    url: str,
    dest: str | os.PathLike,
    expected_sha256: str | None = None,
    hash_prefix: str | None = None,
    *,
    git_blob: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` through a temporary file beside it, calling ``progress(done, total)``
    (total None when the server does not say); check the full sha256, the hash prefix and/or the git object
    id, then rename into place. Setting ``cancel`` stops the download. On any failure nothing is left behind."""
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise WriteError(f"Cannot write to {dest.parent}: {exc.strerror or exc}. Set {CACHE_ENV} to a "
                         "folder you can write to.") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _fetch(url, out, dest, progress, cancel, timeout)
        if expected_sha256 and digest != expected_sha256.lower():
            raise _mismatch(url, digest, expected_sha256.lower())
        if hash_prefix and not digest.startswith(hash_prefix.lower()):
            raise _mismatch(url, digest, f"a hash starting with {hash_prefix.lower()}")
        if git_blob and (blob := git_blob_sha1(tmp)) != git_blob.lower():
            raise _mismatch(url, f"git object {blob}", f"git object {git_blob.lower()}")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def sha256_of(path: str | os.PathLike) -> str:
    """The hex sha256 of a file."""
    hasher = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
    except OSError as exc:
        raise WeightsError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return hasher.hexdigest()


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load a checkpoint safely (``weights_only``): a plain state dict, or a dict with ``model`` or
    ``state_dict`` and optional ``categories`` (a list of {id, name, isthing})."""
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weights file {path} does not exist. Check the path.")
    lfs = _lfs_hint(path)
    if lfs:
        raise WeightsError(f"{path} is not a weights file. {lfs}")
    if path.suffix == ".safetensors":
        return Checkpoint(_load_safetensors(path))
    try:
        with warnings.catch_warnings():  # torch's own warnings about the file would precede segview's message
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.")
            # mmap: a 2.5 GB checkpoint (SAM ViT-H) is not copied into memory first (zip-format files only)
            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as exc:
        if "weights only load failed" not in str(exc).lower():
            raise _corrupt(path, exc) from exc
        culprit = re.search(r"GLOBAL (\S+)", str(exc))
        if culprit is None:  # refused for an opcode, not for an object: random bytes, a plain pickle
            raise WeightsError(
                f"{path} is not a PyTorch checkpoint (a file written by torch.save) and cannot be loaded. "
                "Give the .pt or .pth file the model was saved to, or download or copy it again."
            ) from exc
        raise WeightsError(
            f"Refused to load {path}: it contains Python objects ({culprit.group(1)}) that could run code when "
            "loaded, and segview loads only tensors. Use checkpoints you trust, saved with torch.save(model.state_dict(), path) "
            "or torch.save({'model': model.state_dict(), 'categories': [...]}, path)."
        ) from exc
    except Exception as exc:  # on a bad file torch.load raises RuntimeError, EOFError, KeyError, ...
        raise _corrupt(path, exc) from exc
    if not isinstance(loaded, Mapping):
        raise WeightsError(f"{path} holds a {type(loaded).__name__}, not a state dict. Save the model with "
                           "torch.save(model.state_dict(), path).")
    wrapper = next((key for key in ("model", "state_dict") if isinstance(loaded.get(key), Mapping)), None)
    state = loaded[wrapper] if wrapper else loaded
    bad = next((k for k, v in state.items() if not isinstance(k, str) or not torch.is_tensor(v)), None)
    if not state or bad is not None:
        detail = f"entry {bad!r} is a {type(state[bad]).__name__}" if bad is not None else "it is empty"
        raise WeightsError(f"{path} is not a model state dict: {detail}. Save the model with "
                           "torch.save(model.state_dict(), path).")
    categories = loaded.get("categories") if wrapper else None
    try:
        parsed = parse_categories(categories, str(path)) if categories is not None else None
    except CardError as exc:
        raise WeightsError(str(exc)) from exc
    return Checkpoint(dict(state), parsed)


def _load_safetensors(path: Path) -> dict[str, Any]:
    """A .safetensors file's tensors (the format holds nothing else, so nothing runs on load)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise _corrupt(path, exc) from exc
    if not state:
        raise WeightsError(f"{path} holds no tensors. Download or copy it again.")
    return state


def load_state_dict(path: str | os.PathLike) -> dict[str, Any]:
    """The state dict of a checkpoint (see ``load_checkpoint``)."""
    return load_checkpoint(path).state_dict


def check_fits(model: Any, state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Load ``state_dict`` into ``model`` strictly; missing or unexpected keys and shape mismatches raise
    an error naming the file, the model and the first offending keys."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        f"{k} (file {tuple(v.shape)}, model {tuple(expected[k].shape)})"
        for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape
    ]
    problems = [f"{len(keys)} {what}: {_first(keys)}" for what, keys in
                (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mismatched))
                if keys]
    model_name = type(model).__name__
    if problems:
        raise WeightsError(
            f"{path} does not fit the model {model_name}: {'; '.join(problems)}. It is a checkpoint for a "
            "different model or a different number of classes: check the card's builder, builder_kwargs "
            "(num_classes) and categories."
        )
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{path} could not be loaded into the model {model_name}: {exc}") from exc


# --- helpers -------------------------------------------------------------------------------------


def _source(card: ModelCard) -> WeightsSource:
    if card.weights is None:
        raise CardError(f"{card.path}: {card.name!r} is a panoptic pair and has no weights of its own; "
                        "use the weights of its instance and semantic cards.")
    return card.weights


def _fetch(url: str, out: IO[bytes], dest: Path, progress: Progress | None, cancel: threading.Event | None,
           timeout: float) -> str:
    """Stream ``url`` into ``out``; return the hex sha256 of what was received."""
    hasher = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": f"segview/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            if progress:
                progress(done, total)
            while True:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"The download of {url} was cancelled; nothing was saved.")
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise WriteError(f"Cannot save the download of {url}: {exc.strerror or exc}. Free some "
                                     f"space or set {CACHE_ENV} to another folder.") from exc
                hasher.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        raise _refused(url, dest, exc) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        what = f"timed out after {timeout:g} s" if isinstance(reason, TimeoutError) else f"failed ({reason})"
        raise DownloadError(f"Downloading {url} {what}. Check your internet connection and proxy settings, "
                            f"then try again, or {_own_copy(dest)}") from exc
    if total is not None and done != total:
        raise DownloadError(f"The download of {url} was cut short: {done} of {total} bytes arrived. Nothing "
                            "was saved; try again.")
    return hasher.hexdigest()


def _refused(url: str, dest: Path, exc: urllib.error.HTTPError) -> DownloadError:
    return DownloadError(f"Downloading {url} failed: the server answered HTTP {exc.code} {exc.reason}. "
                         f"Check the URL in the model card, or {_own_copy(dest)}")


def _own_copy(dest: Path) -> str:
    """How to use a copy downloaded by other means: where segview looks for it."""
    return f"download it by other means and save it as {dest}."


def _mismatch(url: str, got: str, expected: str) -> DownloadError:
    return DownloadError(f"The file downloaded from {url} is not the expected one: its sha256 is {got}, "
                         f"expected {expected}. Nothing was saved. Try again; if it happens again, the file "
                         "on the server has changed or the model card is wrong.")


def _corrupt(path: Path, exc: Exception) -> WeightsError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if not any(c.isalpha() for c in first_line):  # pickle's bare numbers ("174812789") tell a user nothing
        first_line = f"{type(exc).__name__}: not a checkpoint torch can read"
    return WeightsError(f"{path} is truncated or corrupt and cannot be loaded ({first_line}). Download or "
                        "copy it again.")


def _lfs_hint(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return ""
    if head.startswith(b"version https://git-lfs"):
        return "It is a Git LFS pointer, not the weights: run `git lfs pull` in the segview checkout."
    return ""


def _first(items: list[str], count: int = 5) -> str:
    return ", ".join(items[:count]) + (f", ... ({len(items) - count} more)" if len(items) > count else "")
