"""EdgeTAM, the SAM 2 family's small model, through SamPredictor: its card loads the published file's
image half, the image is stretched to the square frame, clicks land where they are, masks come back at
the image's size, and its multi-scale embedding survives the cache and a pickle."""

import pickle

import numpy as np
import pytest

from segview.core.prompts import PromptSet
from segview.inference.embedding_cache import EmbeddingCache
from segview.inference.sam import SamPredictor
from segview.inference.weights import WeightsError
from tests.inference.tiny_sam import LONG_SIDE, where_a_click_arrives, write_edgetam_card


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return write_edgetam_card(tmp_path_factory.mktemp("edgetam"))


@pytest.fixture(scope="module")
def predictor(card):
    return SamPredictor.from_card(card, device="cpu")


@pytest.fixture(scope="module")
def embedding(predictor):
    rng = np.random.default_rng(0)
    return predictor.embed(rng.integers(0, 255, (90, 200, 3), dtype=np.uint8))


def test_the_published_files_video_memory_is_left_out_and_the_image_model_loads(predictor):
    assert type(predictor.model).__name__ == "EdgeTamModel" and predictor.stretch


def test_backbone_keys_saved_without_transformers_timm_level_load_the_same(tmp_path, predictor, embedding):
    plain = SamPredictor.from_card(write_edgetam_card(tmp_path, "plain", timm_level=False), device="cpu")
    prompt = PromptSet().with_point(100, 45)
    for (a, sa), (b, sb) in zip(predictor.decode(embedding, prompt), plain.decode(embedding, prompt), strict=True):
        assert np.array_equal(a, b) and sa == pytest.approx(sb)
    rng = np.random.default_rng(0)
    again = plain.embed(rng.integers(0, 255, (90, 200, 3), dtype=np.uint8))
    assert np.allclose(again.features, embedding.features)


def test_an_unknown_key_is_still_refused(tmp_path):
    from segview.inference.pipeline import load_weights_into_model

    card = write_edgetam_card(tmp_path, "odd", extra_keys=("vision_encoder.extra.weight",))
    with pytest.raises(WeightsError, match="extra"):
        load_weights_into_model(card)


def test_the_embedding_has_the_finer_maps_and_pickles(embedding, predictor):
    grid = LONG_SIDE // 16
    assert embedding.features.shape == (256, grid, grid)
    assert [level.shape for level in embedding.high_res] == [(32, 4 * grid, 4 * grid), (64, 2 * grid, 2 * grid)]
    assert embedding.stretch and (embedding.height, embedding.width) == (90, 200)
    again = pickle.loads(pickle.dumps(embedding))
    assert all(np.array_equal(a, b) for a, b in zip(again.high_res, embedding.high_res, strict=True))


def test_the_cache_keeps_the_finer_maps_and_the_stretch(tmp_path, embedding):
    image = tmp_path / "a.png"
    image.write_bytes(b"an image's bytes")
    cache = EmbeddingCache(tmp_path / "cache")
    cache.put(image, embedding)
    hit = cache.get(image, embedding.model)
    assert hit.stretch and len(hit.high_res) == 2
    assert all(np.array_equal(a, b) for a, b in zip(hit.high_res, embedding.high_res, strict=True))


def test_masks_come_back_at_the_images_size(predictor, embedding):
    candidates = predictor.decode(embedding, PromptSet().with_point(100, 45).with_point(20, 20, positive=False))
    assert len(candidates) == 3 and all(mask.shape == (90, 200) for mask, _ in candidates)
    boxes = predictor.decode_boxes(embedding, [(0, 0, 50, 50), (60, 10, 190, 80)])
    assert [mask.shape for mask, _ in boxes] == [(90, 200)] * 2


@pytest.mark.parametrize("shape", [(90, 200), (200, 90), (64, 64)])
def test_a_click_reaches_the_decoder_as_the_same_fraction_of_the_stretched_frame(predictor, shape):
    height, width = shape
    x, y = width * 0.3, height * 0.8
    arrived = where_a_click_arrives(predictor, height, width, x, y)
    assert arrived == pytest.approx([x / width, y / height], abs=1e-5)  # each axis fills the frame
