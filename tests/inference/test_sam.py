"""SamPredictor on a real SamModel with random weights: embeddings, decoding, where prompts land, loading
the card's safetensors weights."""

import pickle

import numpy as np
import pytest

from segview.core.prompts import PromptSet, resized_shape
from segview.inference.sam import SamPredictor
from segview.inference.weights import WeightsError
from tests.inference.tiny_sam import LONG_SIDE, where_a_click_arrives, write_sam_card


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return write_sam_card(tmp_path_factory.mktemp("sam"))


@pytest.fixture(scope="module")
def predictor(card):
    return SamPredictor.from_card(card, device="cpu")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (120, 300, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def embedding(predictor, image):
    return predictor.embed(image)


def test_the_embedding_is_numpy_of_the_image_size_and_pickles(embedding):
    assert embedding.features.shape == (256, 16, 16) and embedding.features.dtype == np.float32
    assert (embedding.height, embedding.width, embedding.long_side) == (120, 300, LONG_SIDE)
    assert embedding.model.startswith("tiny_sam@")  # the name and the weights file's size and time
    again = pickle.loads(pickle.dumps(embedding))
    assert np.array_equal(again.features, embedding.features)


def test_decode_gives_image_sized_masks_best_first(predictor, embedding):
    candidates = predictor.decode(embedding, PromptSet().with_point(150, 60))
    assert len(candidates) == 3
    scores = [score for _mask, score in candidates]
    assert scores == sorted(scores, reverse=True)
    for mask, _score in candidates:
        assert mask.shape == (120, 300) and mask.dtype == bool
    single = predictor.decode(embedding, PromptSet().with_point(150, 60).with_box(10, 10, 200, 100), multimask=False)
    assert len(single) == 1
    assert predictor.decode(embedding, PromptSet()) == []


def test_decode_boxes_gives_one_mask_per_box(predictor, embedding):
    results = predictor.decode_boxes(embedding, [(0, 0, 50, 50), (100, 20, 290, 110), (5, 5, 6, 6)])
    assert len(results) == 3
    assert all(mask.shape == (120, 300) for mask, _ in results)
    assert predictor.decode_boxes(embedding, []) == []


@pytest.mark.parametrize("shape", [(120, 300), (300, 120), (77, 77)])
def test_a_click_reaches_the_decoder_where_it_is_on_the_image(predictor, shape):
    """The prompt encoder normalises (coordinate + 0.5) by the frame: a click on image point (x, y)
    must arrive as the same fraction of the image's part of the frame."""
    height, width = shape
    x, y = width * 0.3, height * 0.8
    new_h, new_w = resized_shape(height, width, LONG_SIDE)
    assert where_a_click_arrives(predictor, height, width, x, y) == pytest.approx(
        [x / width * new_w / LONG_SIDE, y / height * new_h / LONG_SIDE], abs=1e-5)


def test_the_same_weights_give_the_same_masks_and_sizes_come_from_the_weights(tmp_path, card, predictor, embedding):
    bare = write_sam_card(tmp_path, "bare_sam", list_sizes=False)  # same seed, no sizes on the card
    other = SamPredictor.from_card(bare, device="cpu")
    prompt = PromptSet().with_point(40, 30).with_point(200, 90, positive=False)
    mine = predictor.decode(embedding, prompt)
    theirs = other.decode(embedding, prompt)
    for (a, sa), (b, sb) in zip(mine, theirs, strict=True):
        assert np.array_equal(a, b) and sa == pytest.approx(sb)


def test_weights_of_another_size_are_refused_with_the_keys(tmp_path, card):
    from segview.inference.pipeline import load_weights_into_model
    from tests.inference.tiny_models import write_tiny_cards

    instance, _semantic = write_tiny_cards(tmp_path)
    with pytest.raises(WeightsError, match="does not fit|is not"):
        load_weights_into_model(card, weights_path=instance.weights.file)


def test_other_weights_under_the_same_name_get_other_cache_entries(tmp_path):
    import os

    card = write_sam_card(tmp_path, "renamed")
    first = SamPredictor.from_card(card, device="cpu").cache_name
    weights = card.weights.file
    os.utime(weights, ns=(1, 1))  # as if a different file had been given under this card
    assert SamPredictor.from_card(card, device="cpu").cache_name not in (first, "renamed")


def test_the_banded_global_attention_gives_transformers_results(monkeypatch):
    """segview computes SAM's global attention a band of query rows at a time (architectures.sam): the
    embedding must be the one transformers' own attention gives."""
    import torch
    from transformers.models.sam.modeling_sam import SamVisionSdpaAttention

    from segview.inference import architectures
    from segview.inference.architectures import sam

    monkeypatch.setattr(architectures, "ATTENTION_BAND_BYTES", 3 * 2 * 16 * 256 * 4)  # bands of 3 rows (and a 1)
    torch.manual_seed(3)
    model = sam(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_dim=64, global_attn_indexes=[1],
                image_size=256)
    banded = model.vision_encoder.layers[1].attn
    assert type(banded).__name__ == "ChunkedSamAttention"
    pixels = torch.randn(1, 3, 256, 256)
    with torch.inference_mode():
        ours = model.get_image_embeddings(pixels)
        banded.__class__ = SamVisionSdpaAttention
        theirs = model.get_image_embeddings(pixels)
    assert torch.allclose(ours, theirs, atol=1e-5)
