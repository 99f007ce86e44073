"""Architectures torchvision has no builder for, assembled from torchvision's own parts.

``maskrcnn_mobilenet_v3_large_fpn``: torchvision ships Faster R-CNN on MobileNetV3-FPN but no Mask R-CNN
on it; the bundled demo model needs a small, CPU-friendly instance model, so this builds one the same
way torchvision builds ``fasterrcnn_mobilenet_v3_large_fpn`` and adds Mask R-CNN's mask head.
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torchvision.models import mobilenet_v3_large
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import _mobilenet_extractor
from torchvision.models.detection.mask_rcnn import MaskRCNN


def maskrcnn_mobilenet_v3_large_fpn(
    *,
    weights: None = None,
    weights_backbone: None = None,
    num_classes: int = 91,
    trainable_backbone_layers: int = 6,
    anchor_sizes: tuple[int, ...] = (16, 32, 64, 128, 256),
    **kwargs: Any,
) -> MaskRCNN:
    """Mask R-CNN with a MobileNetV3-Large FPN backbone (segview's weights only, loaded by the caller)."""
    if weights is not None or weights_backbone is not None:
        raise ValueError("segview builds this model with weights=None and loads its weights itself")
    backbone = mobilenet_v3_large(weights=None, norm_layer=nn.BatchNorm2d)
    backbone = _mobilenet_extractor(backbone, True, trainable_backbone_layers)
    sizes = (tuple(anchor_sizes),) * 3
    generator = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))
    return MaskRCNN(backbone, num_classes, rpn_anchor_generator=generator, **kwargs)
