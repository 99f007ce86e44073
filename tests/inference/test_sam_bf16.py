"""SamPredictor's image encoder under CPU bfloat16 autocast (on where the CPU computes bfloat16 natively): the
encoder runs in bfloat16, the embedding stays float32 and close to float32's, the masks the same."""

import numpy as np
import pytest
import torch

from segview.core.prompts import PromptSet
from segview.inference.architectures import sam
from segview.inference.sam import SamPredictor
from tests.inference.tiny_sam import LONG_SIDE, TINY_VISION


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return sam(**TINY_VISION)


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(1).integers(0, 255, (180, 240, 3), dtype=np.uint8)


def test_the_encoder_runs_in_bfloat16_and_the_embedding_is_float32(model, image):
    predictor = SamPredictor(model, "tiny", LONG_SIDE, bf16=True)
    seen = []
    hook = predictor.model.vision_encoder.layers[0].attn.qkv.register_forward_hook(
        lambda _module, _args, output: seen.append(output.dtype))
    try:
        embedding = predictor.embed(image)
    finally:
        hook.remove()
    assert seen == [torch.bfloat16]
    assert embedding.features.dtype == np.float32 and embedding.features.shape == (256, 16, 16)


def test_bfloat16_embeddings_and_masks_match_float32s(model, image):
    full = SamPredictor(model, "tiny", LONG_SIDE, bf16=False)
    half = SamPredictor(model, "tiny", LONG_SIDE, bf16=True)
    a, b = full.embed(image), half.embed(image)
    assert np.linalg.norm(a.features - b.features) / np.linalg.norm(a.features) < 0.02
    ious = []
    for x, y in [(30, 40), (120, 90), (200, 150), (60, 160)]:
        prompt = PromptSet().with_point(x, y)
        for (mask_a, _), (mask_b, _) in zip(full.decode(a, prompt), half.decode(b, prompt), strict=True):
            union = np.logical_or(mask_a, mask_b).sum()
            ious.append(np.logical_and(mask_a, mask_b).sum() / union if union else 1.0)
    assert np.mean(ious) > 0.95


@pytest.mark.parametrize("native", [False, True])
def test_bfloat16_is_chosen_on_a_cpu_only_where_it_is_native(model, monkeypatch, native):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert SamPredictor(model, "tiny", LONG_SIDE).bf16 is native
    assert SamPredictor(model, "tiny", LONG_SIDE, bf16=False).bf16 is False
