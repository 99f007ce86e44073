"""Class-head surgery: kept classes keep their weights exactly, new ones are fresh, the rest is the base."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.segmentation import fcn_resnet50, lraspp_mobilenet_v3_large

from segview.inference.architectures import maskrcnn_mobilenet_v3_lite_fpn
from segview.train.heads import label_pairs, transplant
from segview.train.plan import TrainingError

SMALL = dict(fpn_channels=16, min_size=64, max_size=64)


def _rows(tensor: torch.Tensor, label: int, per_class: int = 1) -> torch.Tensor:
    return tensor[per_class * label: per_class * (label + 1)]


def test_detector_keeps_known_classes_and_background_and_starts_new_ones_fresh():
    torch.manual_seed(0)
    base = maskrcnn_mobilenet_v3_lite_fpn(num_classes=3, **SMALL)  # 1 ball, 2 crate
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    model = maskrcnn_mobilenet_v3_lite_fpn(num_classes=4, **SMALL)  # 1 Crate, 2 cell, 3 ball
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    pairs = label_pairs({1: "Crate", 2: "cell", 3: "ball"}, {1: "ball", 2: "crate"}, background=True)
    assert pairs == {0: 0, 1: 2, 3: 1}
    surgery = transplant(base_state, model, 4, pairs)
    assert surgery.fresh == (2,) and set(surgery.layers) == {"roi_heads.box_predictor.cls_score",
                                                             "roi_heads.box_predictor.bbox_pred",
                                                             "roi_heads.mask_predictor.mask_fcn_logits"}
    state = model.state_dict()
    for layer, per_class in (("roi_heads.box_predictor.cls_score", 1), ("roi_heads.box_predictor.bbox_pred", 4),
                             ("roi_heads.mask_predictor.mask_fcn_logits", 1)):
        for kind in ("weight", "bias"):
            key = f"{layer}.{kind}"
            for new, old in pairs.items():
                assert torch.equal(_rows(state[key], new, per_class), _rows(base_state[key], old, per_class)), key
            assert torch.equal(_rows(state[key], 2, per_class), _rows(fresh[key], 2, per_class)), key
            assert not torch.equal(_rows(state[key], 2, per_class), _rows(base_state[key], 2, per_class)), key
    for key, value in state.items():  # backbone, FPN, RPN, box and mask heads: the base's
        if not key.startswith(("roi_heads.box_predictor.", "roi_heads.mask_predictor.mask_fcn_logits")):
            assert torch.equal(value, base_state[key]), key


def test_semantic_classifiers_keep_known_classes():
    torch.manual_seed(0)
    base = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)  # sky, ball, grass
    model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=2)  # grass, road
    fresh = model.state_dict()["classifier.high_classifier.weight"].clone()
    pairs = label_pairs({0: "grass", 1: "road"}, {0: "sky", 1: "ball", 2: "grass"}, background=False)
    assert pairs == {0: 2}
    transplant(base.state_dict(), model, 2, pairs)
    for key in ("classifier.low_classifier.weight", "classifier.high_classifier.bias"):
        assert torch.equal(model.state_dict()[key][0], base.state_dict()[key][2])
    assert torch.equal(model.state_dict()["classifier.high_classifier.weight"][1], fresh[1])
    assert torch.equal(model.state_dict()["backbone.0.0.weight"], base.state_dict()["backbone.0.0.weight"])


def test_fcn_with_aux_classifier():
    base = fcn_resnet50(weights=None, weights_backbone=None, num_classes=2, aux_loss=True)
    model = fcn_resnet50(weights=None, weights_backbone=None, num_classes=3, aux_loss=True)
    surgery = transplant(base.state_dict(), model, 3, {1: 1})
    assert surgery.layers == ("classifier.4", "aux_classifier.4") and surgery.fresh == (0, 2)
    assert torch.equal(model.state_dict()["aux_classifier.4.weight"][1], base.state_dict()["aux_classifier.4.weight"][1])


def test_an_unknown_architecture_or_misfit_weights_cannot_train():
    with pytest.raises(TrainingError, match="does not know the class layers"):
        transplant({}, torch.nn.Linear(2, 2), 2, {})
    base = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3).state_dict()
    del base["backbone.0.0.weight"]
    with pytest.raises(TrainingError, match="do not fit"):
        transplant(base, lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=2), 2, {})
