"""segview's mask decoder (image-only part once per image, the rest per prompt) gives what transformers'
own forward gives, for SAM and EdgeTAM, points, boxes, batches of prompts, one mask or three."""

import pytest
import torch

from segview.inference.architectures import edgetam, sam
from segview.inference.sam_decoder import PreparedImage
from tests.inference.tiny_sam import LONG_SIDE, TINY_VISION

PROMPTS = {
    "a point and a negative point": {"input_points": torch.tensor([[[[130.0, 90.0], [20.0, 200.0]]]]),
                                     "input_labels": torch.tensor([[[1, 0]]])},
    "a box": {"input_boxes": torch.tensor([[[10.0, 20.0, 240.0, 150.0]]])},
    "a point and a box": {"input_points": torch.tensor([[[[60.0, 70.0]]]]), "input_labels": torch.tensor([[[1]]]),
                          "input_boxes": torch.tensor([[[10.0, 20.0, 240.0, 150.0]]])},
    "five points at once": {"input_points": torch.rand(1, 5, 1, 2, generator=torch.Generator().manual_seed(1)) * 255,
                            "input_labels": torch.ones(1, 5, 1, dtype=torch.long)},
    "three boxes at once": {"input_boxes": torch.tensor([[[0.0, 0.0, 50.0, 50.0], [30.0, 60.0, 250.0, 90.0],
                                                          [100.0, 100.0, 101.0, 101.0]]])},
}


def _sam():
    torch.manual_seed(0)
    model = sam(**TINY_VISION)
    return model, [torch.randn(1, 256, 16, 16)]


def _edgetam():
    torch.manual_seed(0)
    model = edgetam(image_size=LONG_SIDE)
    with torch.inference_mode():
        levels = model.get_image_embeddings(torch.randn(1, 3, LONG_SIDE, LONG_SIDE))
    return model, [level.clone() for level in levels]


@pytest.fixture(scope="module", params=["sam", "edgetam"])
def model_and_embedding(request):
    model, levels = {"sam": _sam, "edgetam": _edgetam}[request.param]()
    with torch.inference_mode():  # weights off their near-zero initial values: logits of a real magnitude
        for parameter in model.mask_decoder.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return model, levels


@pytest.mark.parametrize("multimask", [True, False])
@pytest.mark.parametrize("prompt", list(PROMPTS))
def test_the_prepared_decoder_gives_transformers_masks_and_scores(model_and_embedding, prompt, multimask):
    model, levels = model_and_embedding
    inputs = PROMPTS[prompt]
    with torch.inference_mode():
        reference = model(image_embeddings=levels if len(levels) > 1 else levels[0], multimask_output=multimask,
                          **inputs)
        prepared = PreparedImage(model, levels[-1], levels[:-1])
        sparse, _dense = model.prompt_encoder(input_points=inputs.get("input_points"),
                                              input_labels=inputs.get("input_labels"),
                                              input_boxes=inputs.get("input_boxes"), input_masks=None)
        masks, scores = prepared.decode(sparse, multimask)
    expected = reference.pred_masks[0]
    assert masks.shape == expected.shape and scores.shape == reference.iou_scores[0].shape
    scale = expected.abs().max()
    assert scale > 1  # a test on masks of real magnitude, not of near-zero logits
    assert torch.allclose(masks, expected, atol=1e-5 * scale)
    assert torch.allclose(scores, reference.iou_scores[0], rtol=1e-4, atol=1e-5)
    assert (masks > 0).ne(expected > 0).float().mean() < 1e-4  # float rounding flips a pixel at most
