import numpy as np
import pytest
import torch
from torchvision.models.detection import maskrcnn_resnet50_fpn
from torchvision.models.segmentation import lraspp_mobilenet_v3_large

from segview.inference.device import DeviceChoice
from segview.inference.predictors import InstancePredictor, SemanticPredictor, crop_mask_from_probs

CPU = DeviceChoice("cpu", "CPU")


def test_crop_mask_from_probs_fills_its_box():
    probs = np.zeros((28, 28), np.float32)
    probs[:, :14] = 1.0
    crop = crop_mask_from_probs(probs, np.array([10.0, 5.0, 50.0, 25.0]), 40, 60)
    assert (crop.x, crop.y) == (10, 5)
    assert crop.height == 20 and 19 <= crop.width <= 21 and crop.mask.all()


def test_crop_mask_clipped_to_image():
    crop = crop_mask_from_probs(np.ones((28, 28)), np.array([-5.0, -5.0, 500.0, 8.0]), 10, 12)
    assert (crop.x, crop.y, crop.width, crop.height) == (0, 0, 12, 8)


@pytest.fixture(scope="module")
def tiny_maskrcnn():
    torch.manual_seed(0)
    return maskrcnn_resnet50_fpn(
        weights=None,
        weights_backbone=None,
        num_classes=4,
        min_size=96,
        max_size=128,
        box_score_thresh=0.0,
        box_detections_per_img=20,
    )


def test_instance_predictor_returns_cropped_masks(tiny_maskrcnn):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)
    predictor = InstancePredictor(tiny_maskrcnn, {1: 11, 2: 12}, CPU)
    out = predictor(image)
    assert out, "random weights with threshold 0 must still give detections"
    for inst in out:
        assert inst.category_id in (11, 12)
        assert 0 <= inst.mask.x and inst.mask.x + inst.mask.width <= 120
        assert 0 <= inst.mask.y and inst.mask.y + inst.mask.height <= 90
        assert inst.mask.mask.dtype == bool and inst.mask.mask.any()
        assert inst.mask.mask.shape != (90, 120) or inst.mask.area > 0


def test_semantic_predictor_maps_labels_to_categories():
    torch.manual_seed(0)
    model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    predictor = SemanticPredictor(model, {0: 0, 1: 7, 2: 9}, CPU, resize_short_side=64)
    image = np.random.default_rng(1).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    labels, confidence = predictor(image)
    assert labels.shape == (50, 70) and confidence.shape == (50, 70)
    assert set(np.unique(labels)) <= {0, 7, 9}
    assert np.all((confidence >= 1 / 3 - 1e-3) & (confidence <= 1.0))
