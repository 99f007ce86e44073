"""Prompt-model embeddings on disk, per image content and model, so that going back to an image is instant.

An entry is ``<cache>/embeddings/<model>/<sha256 of the image file>.npz`` (``<cache>`` is
``$SEGVIEW_CACHE_DIR`` or the user's cache folder, as for weights). Keyed by content, an image whose file
changed misses (its old entry ages out); a renamed or copied image hits. The folder is capped in bytes:
a hit refreshes an entry's time, and a write removes the least recently used entries beyond the cap. The
content hash of a path is remembered while the file's size and modification time stay the same. No torch.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import zipfile
from pathlib import Path

import numpy as np
import platformdirs

from segview.core.prompts import ImageEmbedding
from segview.errors import WriteError
from segview.io.atomic import atomic_write_with

CACHE_ENV = "SEGVIEW_CACHE_DIR"
DEFAULT_CAP = 2 * 1024**3  # bytes: ~500 SAM embeddings (4 MB each), ~125 of EdgeTAM (16 MB)
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def embeddings_dir() -> Path:
    """segview's folder for cached embeddings."""
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("segview")) / "embeddings"


def content_hash(path: str | os.PathLike) -> str:
    """The hex sha256 of a file's bytes."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


class EmbeddingCache:
    """Embeddings by (image file content, model name), size-capped, least recently used out first."""

    def __init__(self, root: str | os.PathLike | None = None, cap_bytes: int = DEFAULT_CAP) -> None:
        self.root = Path(root) if root is not None else embeddings_dir()
        self.cap_bytes = cap_bytes
        self._hashes: dict[Path, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, sha256)
        self._lock = threading.Lock()

    def key(self, image_path: str | os.PathLike) -> str:
        """The content hash of an image file (recomputed only when its size or time changed)."""
        path = Path(image_path).resolve()
        stat = path.stat()
        with self._lock:
            known = self._hashes.get(path)
        if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
            return known[2]
        digest = content_hash(path)
        with self._lock:
            self._hashes[path] = (stat.st_size, stat.st_mtime_ns, digest)
        return digest

    def entry_path(self, image_path: str | os.PathLike, model: str) -> Path:
        return self.root / _SAFE.sub("_", model) / f"{self.key(image_path)}.npz"

    def get(self, image_path: str | os.PathLike, model: str) -> ImageEmbedding | None:
        """The cached embedding of this image's content by this model, or None (a damaged entry is
        removed and counts as a miss)."""
        try:
            entry = self.entry_path(image_path, model)
        except OSError:
            return None
        try:
            with np.load(entry, allow_pickle=False) as data:
                levels = sorted((k for k in data.files if k.startswith("high_res_")), key=lambda k: int(k[9:]))
                embedding = ImageEmbedding(data["features"], int(data["height"]), int(data["width"]),
                                           int(data["long_side"]), model, tuple(data[k] for k in levels),
                                           bool(data["stretch"]) if "stretch" in data.files else False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            entry.unlink(missing_ok=True)
            return None
        try:
            os.utime(entry)  # most recently used
        except OSError:
            pass
        return embedding

    def put(self, image_path: str | os.PathLike, embedding: ImageEmbedding) -> Path | None:
        """Store an embedding (atomically), then trim the cache to its cap. None when it cannot be written
        (a cache is an optimisation: a read-only or full disk only costs the next visit's time)."""
        try:
            entry = self.entry_path(image_path, embedding.model)
            entry.parent.mkdir(parents=True, exist_ok=True)
            levels = {f"high_res_{i}": level for i, level in enumerate(embedding.high_res)}
            atomic_write_with(entry, lambda handle: np.savez(
                handle, features=embedding.features, height=embedding.height, width=embedding.width,
                long_side=embedding.long_side, stretch=embedding.stretch, **levels))
        except (OSError, ValueError, WriteError):
            return None
        self.trim()
        return entry

    def trim(self) -> None:
        """Remove the least recently used entries until the cache fits its cap."""
        entries = []
        for path in self.root.glob("*/*.npz"):
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _time, size, _path in entries)
        for _time, size, path in sorted(entries):
            if total <= self.cap_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
