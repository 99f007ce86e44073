"""Architectures torchvision has no builder for, assembled from torchvision's own parts.

``maskrcnn_mobilenet_v3_large_fpn``: torchvision ships Faster R-CNN on MobileNetV3-FPN but no Mask R-CNN
on it; the bundled demo model needs a small, CPU-friendly instance model, so this builds one the same
way torchvision builds ``fasterrcnn_mobilenet_v3_large_fpn`` and adds Mask R-CNN's mask head.
"""

from __future__ import annotations

import re
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


def owlv2(
    *,
    weights: None = None,
    weights_backbone: None = None,
    text_config: dict[str, Any] | None = None,
    vision_config: dict[str, Any] | None = None,
    **config: Any,
) -> nn.Module:
    """OWLv2, the open-vocabulary detector (transformers' ``Owlv2ForObjectDetection``): its ``Owlv2Config``
    from the card's ``builder_kwargs`` (``text_config`` and ``vision_config`` tables; ``image_size`` 960 and
    ``patch_size`` 16 for the base model). segview loads the weights itself."""
    if weights is not None or weights_backbone is not None:
        raise ValueError("segview builds this model with weights=None and loads its weights itself")
    from transformers import Owlv2Config, Owlv2ForObjectDetection

    return Owlv2ForObjectDetection(Owlv2Config(text_config=text_config, vision_config=vision_config, **config)).eval()


def sam(
    *,
    weights: None = None,
    weights_backbone: None = None,
    **vision: Any,
) -> nn.Module:
    """Segment Anything (transformers' ``SamModel``): the image encoder's ``SamVisionConfig`` fields come
    from the card (``hidden_size``, ``num_hidden_layers``, ...; ViT-B when none is given) or from the
    weights' own shapes (``segview.inference.sam.vision_config_of``); the prompt encoder and the mask decoder
    are SAM's (shared by ViT-B/L/H and SlimSAM)."""
    if weights is not None or weights_backbone is not None:
        raise ValueError("segview builds this model with weights=None and loads its weights itself")
    from transformers import SamConfig, SamModel

    config = SamConfig(vision_config=vision)
    grid = config.vision_config.image_size // config.vision_config.patch_size
    config.prompt_encoder_config.image_size = config.vision_config.image_size
    config.prompt_encoder_config.image_embedding_size = grid
    model = SamModel(config).eval()
    chunked = _chunked_attention_class()
    for layer in model.vision_encoder.layers:
        if layer.window_size == 0 and config.vision_config.use_rel_pos:
            layer.attn.__class__ = chunked  # same parameters, same results, in bands of query rows
    return model


ATTENTION_BAND_BYTES = 8 << 20  # the relative-position bias of one band of query rows (fits a CPU's cache)


def _chunked_attention_class() -> type:
    """SAM's global attention computed a band of query rows at a time.

    transformers adds the decomposed relative-position bias as one (heads, N, N) tensor: 800 MB for a 64 × 64
    grid and 12 heads, so the 4 global layers, ~3/4 of the encoder's time, wait on memory. Per band the bias
    stays in cache; the sums are the same (bit-identical here: tests/inference/test_sam.py), ~2x faster on
    a CPU."""
    import torch
    from torch.nn import functional
    from transformers.models.sam.modeling_sam import SamVisionSdpaAttention

    class ChunkedSamAttention(SamVisionSdpaAttention):
        def forward(self, hidden_states: torch.Tensor, output_attentions: bool = False):  # noqa: ARG002
            batch, height, width, _ = hidden_states.shape
            heads, tokens = self.num_attention_heads, height * width
            qkv = self.qkv(hidden_states).reshape(batch, tokens, 3, heads, -1).permute(2, 0, 3, 1, 4)
            query, key, value = qkv.reshape(3, batch * heads, tokens, -1).unbind(0)
            grid = query.reshape(batch * heads, height, width, -1)
            rel_h = torch.einsum("bhwc,hkc->bhwk", grid, self.get_rel_pos(height, height, self.rel_pos_h))
            rel_w = torch.einsum("bhwc,wkc->bhwk", grid, self.get_rel_pos(width, width, self.rel_pos_w))
            out = torch.empty_like(query)
            rows = max(1, ATTENTION_BAND_BYTES // (batch * heads * width * tokens * 4))
            for top in range(0, height, rows):
                bottom = min(top + rows, height)
                band = slice(top * width, bottom * width)
                bias = (rel_h[:, top:bottom, :, :, None] + rel_w[:, top:bottom, :, None, :]).reshape(
                    batch * heads, (bottom - top) * width, tokens)
                out[:, band] = functional.scaled_dot_product_attention(query[:, band], key, value, attn_mask=bias)
            out = out.view(batch, heads, height, width, -1).permute(0, 2, 3, 1, 4).reshape(batch, height, width, -1)
            return self.proj(out), None

    return ChunkedSamAttention


def edgetam(
    *,
    weights: None = None,
    weights_backbone: None = None,
    image_size: int = 1024,
) -> nn.Module:
    """EdgeTAM (transformers' ``EdgeTamModel``): SAM 2's prompt encoder and mask decoder over a RepViT-M1
    image encoder (timm) and its feature pyramid, for ``image_size``-pixel square frames (1024 for the
    published weights; tests build smaller ones). The RepViT backbone is named here in full: transformers'
    default configuration misspells its architecture key (``archirecture``)."""
    if weights is not None or weights_backbone is not None:
        raise ValueError("segview builds this model with weights=None and loads its weights itself")
    from transformers import EdgeTamConfig, EdgeTamModel, EdgeTamVisionConfig, TimmWrapperConfig

    backbone = TimmWrapperConfig(architecture="repvit_m1.dist_in1k", model_args={
        "in_chans": 3, "features_only": True, "out_indices": [0, 1, 2, 3]})
    vision = EdgeTamVisionConfig(backbone_config=backbone,
                                 backbone_feature_sizes=[[image_size // s] * 2 for s in (4, 8, 16)])
    config = EdgeTamConfig(vision_config=vision, prompt_encoder_config={"image_size": image_size})
    return EdgeTamModel(config).eval()


def unused_keys_of(model: nn.Module, state_dict: dict[str, Any]) -> list[str]:
    """The keys of ``state_dict`` the model's own class says to ignore when they come unexpected (for
    EdgeTAM: the video model's memory modules, which the image model leaves out), as transformers' loader
    ignores them."""
    patterns = [re.compile(p) for p in getattr(model, "_keys_to_ignore_on_load_unexpected", None) or ()]
    own = set(model.state_dict())
    return [k for k in state_dict if k not in own and any(p.search(k) for p in patterns)]


def add_timm_prefix(model: nn.Module, state_dict: dict[str, Any]) -> None:
    """Rename in place the keys of a timm backbone saved without the ``timm_model.`` level that transformers'
    ``TimmWrapperModel`` puts around it (its loader adds it as ``PrefixChange("timm_model")``): a key
    ``…backbone.X`` becomes ``…backbone.timm_model.X`` when the model has that and not the other."""
    own = set(model.state_dict())
    for key in [k for k in state_dict if k not in own and ".backbone." in k]:
        head, _, tail = key.partition(".backbone.")
        prefixed = f"{head}.backbone.timm_model.{tail}"
        if prefixed in own and prefixed not in state_dict:
            state_dict[prefixed] = state_dict.pop(key)


SAM_TIED = {"prompt_encoder.shared_embedding.positional_embedding": "shared_image_embedding.positional_embedding"}
"""SamModel's tied tensors (target: source): a saved file holds one of each pair."""


def tie_sam_weights(state_dict: dict[str, Any]) -> None:
    """Complete a SAM state dict in place with the tied tensor its file left out."""
    for target, source in SAM_TIED.items():
        if target not in state_dict and source in state_dict:
            state_dict[target] = state_dict[source]
        elif source not in state_dict and target in state_dict:
            state_dict[source] = state_dict[target]


def sam_vision_config_of(state_dict: dict[str, Any]) -> dict[str, Any]:
    """The ``SamVisionConfig`` fields a SAM state dict's shapes fix: width, depth, heads (from the relative
    position tables' width), MLP width, which layers attend globally (their tables span the whole grid),
    the window size, the patch size, the input size and the neck's channels. Pruned models (SlimSAM) and
    ViT-B/L/H are told apart this way, without a config file."""
    prefix = "vision_encoder."
    if prefix + "patch_embed.projection.weight" not in state_dict or prefix + "layers.0.attn.rel_pos_h" not in state_dict:
        return {}  # not SAM's: the strict load that follows names the keys that do not fit
    patch = state_dict[prefix + "patch_embed.projection.weight"].shape  # (hidden, 3, p, p)
    hidden, patch_size = int(patch[0]), int(patch[-1])
    grid = int(state_dict[prefix + "pos_embed"].shape[1])
    depth = 1 + max(int(k.split(".")[2]) for k in state_dict if k.startswith(prefix + "layers."))
    tables = [state_dict[f"{prefix}layers.{i}.attn.rel_pos_h"].shape for i in range(depth)]
    head_dim = int(tables[0][1])
    global_layers = [i for i, shape in enumerate(tables) if shape[0] == 2 * grid - 1]
    windowed = [shape[0] for shape in tables if shape[0] != 2 * grid - 1]
    config = {
        "hidden_size": hidden,
        "patch_size": patch_size,
        "image_size": grid * patch_size,
        "num_hidden_layers": depth,
        "num_attention_heads": max(1, hidden // head_dim),
        "mlp_dim": int(state_dict[f"{prefix}layers.0.mlp.lin1.weight"].shape[0]),
        "global_attn_indexes": global_layers,
        "output_channels": int(state_dict[prefix + "neck.conv1.weight"].shape[0]),
    }
    if windowed:
        config["window_size"] = (int(windowed[0]) + 1) // 2
    return config
