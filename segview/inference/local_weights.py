"""A copy of a model's published weights found on this computer (offline, from a colleague, another
machine's cache): checked like a download, then put where segview looks, so every later start finds it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from segview.inference.cards import ModelCard
from segview.inference.pipeline import load_weights_into_model
from segview.inference.weights import WeightsError, cache_dir, remote_weights, sha256_of
from segview.io.atomic import atomic_open


def install_local_weights(card: ModelCard, path: str | os.PathLike) -> Path:
    """Check that ``path`` holds ``card``'s weights and copy it into segview's weights cache. It must load
    into the card's architecture (another model's file is refused with the keys that do not fit) and have
    the published hash (a fine-tuned checkpoint is pointed to `segview models import`). Returns the copy."""
    path = Path(path).expanduser()
    remote = remote_weights(card)
    if remote is None:
        assert card.weights is not None and card.weights.file is not None
        raise WeightsError(f"Model {card.name!r} takes its weights from {card.weights.file} (named in {card.path}): "
                           "put the file there instead.")
    load_weights_into_model(card, weights_path=path)  # a state dict, and one that fits this model
    digest = sha256_of(path)
    expected = (remote.sha256 or "").lower() or None
    prefix = (remote.hash_prefix or "").lower()
    if (expected and digest != expected) or not digest.startswith(prefix):
        raise WeightsError(
            f"{path.name} fits {card.name} but is not its published weights {remote.filename} (sha256 "
            f"{expected or prefix + '…'}; this file has {digest}). To use your own checkpoint, register it as a "
            f"model of its own: segview models import NAME {path} --base {card.name}")
    target = cache_dir() / remote.filename
    with open(path, "rb") as source, atomic_open(target) as copy:
        shutil.copyfileobj(source, copy, 1 << 20)
    return target
