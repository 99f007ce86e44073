"""The on-disk embedding cache: hit, miss, a changed file misses, least recently used out first."""

import os

import numpy as np
import pytest

from segview.core.prompts import ImageEmbedding
from segview.inference.embedding_cache import EmbeddingCache, embeddings_dir


def _embedding(value: float = 1.0, model: str = "sam_x") -> ImageEmbedding:
    return ImageEmbedding(np.full((4, 8, 8), value, np.float32), 30, 40, 1024, model)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"first image bytes")
    return path


def test_a_stored_embedding_is_found_again_by_content_and_model(tmp_path, image):
    cache = EmbeddingCache(tmp_path / "cache")
    assert cache.get(image, "sam_x") is None  # miss
    cache.put(image, _embedding(2.0))
    hit = cache.get(image, "sam_x")
    assert hit is not None and np.array_equal(hit.features, _embedding(2.0).features)
    assert (hit.height, hit.width, hit.long_side, hit.model) == (30, 40, 1024, "sam_x")
    assert cache.get(image, "sam_y") is None  # another model misses
    copy = tmp_path / "copy.png"
    copy.write_bytes(image.read_bytes())
    assert EmbeddingCache(tmp_path / "cache").get(copy, "sam_x") is not None  # same content, a new process


def test_a_changed_file_misses(tmp_path, image):
    cache = EmbeddingCache(tmp_path / "cache")
    cache.put(image, _embedding())
    image.write_bytes(b"the image was edited and saved again")
    os.utime(image, ns=(1, 1))  # even with another time than the first
    assert cache.get(image, "sam_x") is None


def test_the_least_recently_used_entries_go_first_beyond_the_cap(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache", cap_bytes=10**9)
    images = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        path.write_bytes(f"image {i}".encode())
        images.append(path)
        entry = cache.put(path, _embedding(float(i)))
        os.utime(entry, ns=(i * 10**9, i * 10**9))  # 0 oldest
    os.utime(cache.entry_path(images[0], "sam_x"), ns=(5 * 10**9, 5 * 10**9))  # 0 used last: 1 is oldest
    cache.cap_bytes = 2 * cache.entry_path(images[0], "sam_x").stat().st_size
    cache.trim()
    assert cache.get(images[1], "sam_x") is None
    assert cache.get(images[0], "sam_x") is not None and cache.get(images[2], "sam_x") is not None


def test_a_damaged_entry_is_a_miss_and_removed(tmp_path, image):
    cache = EmbeddingCache(tmp_path / "cache")
    entry = cache.put(image, _embedding())
    entry.write_bytes(b"not a zip")
    assert cache.get(image, "sam_x") is None
    assert not entry.exists()


def test_an_unwritable_cache_only_costs_time(tmp_path, image):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    assert EmbeddingCache(blocker / "cache").put(image, _embedding()) is None


def test_the_cache_follows_segview_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path))
    assert embeddings_dir() == tmp_path / "embeddings"
