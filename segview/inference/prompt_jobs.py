"""The prompt model's jobs in the model process (registered in ``model_server.JOB_HANDLERS``).

- ``("prompt_embed", image path)``, payload ``(model, device, max_pixels)``: make sure the image's
  embedding is at hand (memory, else the disk cache, else computed and cached). The window sends it at
  ``Priority.VISIBLE`` for the image on screen and ``Priority.NEIGHBOUR`` for the next one. Its result is
  small: ``(height, width, where)`` with ``where`` one of ``"memory"``, ``"disk"``, ``"computed"``.
- ``("prompt_decode", image path)``, payload ``(model, device, max_pixels, PromptSet, multimask, token)``
  at ``Priority.INTERACTIVE``: the masks of a prompt. Only the prompt crosses the pipe; the embedding stays
  here (the last few in memory) and the masks go back cropped to their boxes through shared memory, as a
  ``SharedResult`` with meta ``{"token", "height", "width", "masks": [(x, y, score), ...]}``, best first.

When the prompt model's weights are not on this computer, either job answers ``("missing", model, message,
[(card, file name)])`` (not an error: the window offers to get them, as for a prediction model's); other
jobs that use the prompt model (Segment Everything) catch :class:`PromptWeightsMissing` to answer the same.

The loaded predictor and the embeddings live in this module (one worker thread uses them).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from segview.core.prompts import ImageEmbedding
from segview.inference.embedding_cache import EmbeddingCache, embeddings_dir
from segview.inference.jobs import JobContext
from segview.inference.shared_arrays import SharedResult, share_result

KEEP_IN_MEMORY = 4  # embeddings (4 MB each for SAM): the image on screen, the next, the last ones


class _PromptModels:
    """The prompt predictor in use and the embeddings of the last images."""

    def __init__(self) -> None:
        self.predictor = None
        self.loaded: tuple[str, str] | None = None
        self.embeddings: OrderedDict[tuple[Path, str], ImageEmbedding] = OrderedDict()
        self.caches: dict[Path, EmbeddingCache] = {}

    def get_predictor(self, name: str, device: str):
        if self.loaded != (name, device):
            from segview.inference.sam import SamPredictor
            from segview.inference.weights import WeightsError

            self.predictor, self.loaded = None, None
            try:
                self.predictor = SamPredictor.from_card(name, device=device)
            except WeightsError as exc:
                files = _missing_files(name)
                if files:
                    raise PromptWeightsMissing(("missing", name, str(exc), files)) from exc
                raise
            self.loaded = (name, device)
        return self.predictor

    def cache(self) -> EmbeddingCache:
        root = embeddings_dir()  # follows SEGVIEW_CACHE_DIR as the window sets it
        if root not in self.caches:
            self.caches[root] = EmbeddingCache(root)
        return self.caches[root]

    def embedding(self, path: Path, name: str, device: str, max_pixels: int | None,
                  stale=lambda: False) -> tuple[ImageEmbedding | None, str]:
        predictor = self.get_predictor(name, device)
        key = (Path(path), predictor.cache_name)
        if key in self.embeddings:
            self.embeddings.move_to_end(key)
            return self.embeddings[key], "memory"
        cache = self.cache()
        found = cache.get(path, predictor.cache_name)
        where = "disk"
        if found is None:
            image = _read(path, max_pixels)
            if stale():
                return None, "stale"
            found = predictor.embed(image)
            cache.put(path, found)
            where = "computed"
        self.embeddings[key] = found
        while len(self.embeddings) > KEEP_IN_MEMORY:
            self.embeddings.popitem(last=False)
        return found, where


class PromptWeightsMissing(Exception):
    """The prompt model's weights are not here: ``answer`` is the job's answer that says so."""

    @property
    def answer(self) -> tuple:
        return self.args[0]


_MODELS = _PromptModels()


def embed(context: JobContext) -> tuple | None:
    """Handler of ``prompt_embed``."""
    name, device, max_pixels = context.payload
    try:
        embedding, where = _MODELS.embedding(Path(context.key[1]), name, device, max_pixels, context.is_stale)
    except PromptWeightsMissing as missing:
        return missing.answer
    return None if embedding is None else (embedding.height, embedding.width, where)


def decode(context: JobContext) -> SharedResult | tuple | None:
    """Handler of ``prompt_decode``."""
    name, device, max_pixels, prompts, multimask, token = context.payload
    try:
        embedding, _where = _MODELS.embedding(Path(context.key[1]), name, device, max_pixels, context.is_stale)
    except PromptWeightsMissing as missing:
        return missing.answer
    if embedding is None or context.is_stale():
        return None
    candidates = _MODELS.get_predictor(name, device).decode_cropped(embedding, prompts, multimask)
    meta = {"token": token, "height": embedding.height, "width": embedding.width,
            "masks": [(crop.x, crop.y, score) for crop, score in candidates]}
    return share_result(meta, [np.ascontiguousarray(crop.mask) for crop, _score in candidates])


def _missing_files(name: str) -> list[tuple[str, str]]:
    """(card, file name) of the prompt model's weights when they are missing and can be fetched or given."""
    from segview.inference.cards import get_card
    from segview.inference.weights import find_weights, remote_weights

    card = get_card(name)
    remote = remote_weights(card)
    return [(name, remote.filename)] if remote is not None and find_weights(card) is None else []


def _read(path: Path, max_pixels: int | None) -> np.ndarray:
    from segview.io.images import read_image
    from segview.io.pixel_budget import set_max_pixels

    if max_pixels:
        set_max_pixels(max_pixels)
    return read_image(path)


def predictor_and_embedding(path: Path, name: str, device: str, max_pixels: int | None,
                            stale=lambda: False) -> tuple[object, ImageEmbedding | None]:
    """The prompt model ``name`` and an image's embedding (None when the request went stale), shared with
    other jobs: Find by name segments its boxes with them (``segview.inference.grounded``). Raises
    :class:`PromptWeightsMissing` when the model's weights are not here."""
    embedding, _where = _MODELS.embedding(Path(path), name, device, max_pixels, stale)
    return _MODELS.get_predictor(name, device), embedding
