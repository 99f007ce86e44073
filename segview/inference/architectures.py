"""Architectures torchvision has no builder for, assembled from torchvision's own parts.

``maskrcnn_mobilenet_v3_large_fpn``: torchvision ships Faster R-CNN on MobileNetV3-FPN but no Mask R-CNN
on it; the bundled demo model needs a small, CPU-friendly instance model, so this builds one the same
way torchvision builds ``fasterrcnn_mobilenet_v3_large_fpn`` and adds Mask R-CNN's mask head.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from torch import nn
from torchvision.models import mobilenet_v3_large
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN, _mobilenet_extractor
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNN, MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


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


def maskrcnn_mobilenet_v3_lite_fpn(
    *,
    weights: None = None,
    weights_backbone: None = None,
    num_classes: int = 91,
    fpn_channels: int = 64,
    returned_layers: Sequence[int] = (1, 2, 3, 5),
    anchor_sizes: Sequence[int] = (16, 32, 64, 128, 256),
    **kwargs: Any,
) -> MaskRCNN:
    """A light Mask R-CNN that trains from scratch on a CPU (the bundled demo model's architecture).

    Unlike ``maskrcnn_mobilenet_v3_large_fpn``, whose FPN sees only stride 32, the FPN here takes
    MobileNetV3-Large's stages ``returned_layers`` (default strides 4, 8, 16, 32, plus a max-pooled level)
    with ``fpn_channels`` channels, so small things get fine features and masks; GroupNorm in the FPN and
    the mask head (no pretrained statistics to rely on); a two-layer 256-wide box head. One anchor size
    per level, three aspect ratios.
    """
    if weights is not None or weights_backbone is not None:
        raise ValueError("segview builds this model with weights=None and loads its weights itself")
    if len(anchor_sizes) != len(returned_layers) + 1:
        raise ValueError(f"give one anchor size per FPN level: {len(returned_layers) + 1}, not {len(anchor_sizes)}")
    features = mobilenet_v3_large(weights=None, norm_layer=nn.BatchNorm2d).features
    stages = [0] + [i for i, block in enumerate(features) if getattr(block, "_is_cn", False)] + [len(features) - 1]
    return_layers = {str(stages[k]): str(v) for v, k in enumerate(returned_layers)}
    in_channels = [features[stages[k]].out_channels for k in returned_layers]
    group_norm = partial(nn.GroupNorm, min(16, fpn_channels))
    backbone = BackboneWithFPN(
        features, return_layers, in_channels, fpn_channels, extra_blocks=LastLevelMaxPool(), norm_layer=group_norm
    )
    generator = AnchorGenerator(tuple((s,) for s in anchor_sizes), ((0.5, 1.0, 2.0),) * len(anchor_sizes))
    levels = [str(v) for v in range(len(returned_layers))]
    return MaskRCNN(
        backbone,
        rpn_anchor_generator=generator,
        box_roi_pool=MultiScaleRoIAlign(levels, output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(fpn_channels * 7 * 7, 256),
        box_predictor=FastRCNNPredictor(256, num_classes),
        mask_roi_pool=MultiScaleRoIAlign(levels, output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(fpn_channels, (fpn_channels,) * 4, 1, norm_layer=group_norm),
        mask_predictor=MaskRCNNPredictor(fpn_channels, fpn_channels, num_classes),
        **kwargs,
    )
