"""Meta's original Segment Anything checkpoints (``sam_vit_b_01ec64.pth`` ...) in transformers' names.

The official files are a plain ``torch.save`` of the ``segment_anything`` ``Sam`` module's state dict
(``image_encoder.blocks.0.attn.qkv.weight``, ``prompt_encoder.pe_layer.positional_encoding_gaussian_matrix``,
``mask_decoder.output_hypernetworks_mlps.0.layers.0.weight``, ``pixel_mean`` ...); segview runs SAM through
transformers' ``SamModel``, whose modules are the same but named differently. transformers 5.x no longer
ships its ``convert_sam_to_hf.py`` script and the ``segment-anything`` package is not a dependency, so the
renaming is this short table, written by hand after that script and checked key by key and shape by shape
against ``segment_anything.sam_model_registry["vit_b"]()`` (tests/inference/test_sam_keys.py keeps those
names as a fixture).
"""

from __future__ import annotations

import re
from typing import Any

# (pattern, replacement), applied in order to each original name; the MLPs' ``layers.0/1/2`` become
# ``proj_in`` / ``layers.0`` / ``proj_out`` (transformers' SamFeedForward), the Sequentials get names.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^image_encoder\.", "vision_encoder."),
    (r"^vision_encoder\.blocks\.", "vision_encoder.layers."),
    (r"^vision_encoder\.patch_embed\.proj\.", "vision_encoder.patch_embed.projection."),
    (r"^vision_encoder\.neck\.0\.", "vision_encoder.neck.conv1."),
    (r"^vision_encoder\.neck\.1\.", "vision_encoder.neck.layer_norm1."),
    (r"^vision_encoder\.neck\.2\.", "vision_encoder.neck.conv2."),
    (r"^vision_encoder\.neck\.3\.", "vision_encoder.neck.layer_norm2."),
    (r"\.norm(\d|_final_attn)", r".layer_norm\1"),  # encoder blocks' norm1/2, decoder's norm1-4, final
    (r"^prompt_encoder\.point_embeddings\.", "prompt_encoder.point_embed."),
    (r"^prompt_encoder\.mask_downscaling\.0\.", "prompt_encoder.mask_embed.conv1."),
    (r"^prompt_encoder\.mask_downscaling\.1\.", "prompt_encoder.mask_embed.layer_norm1."),
    (r"^prompt_encoder\.mask_downscaling\.3\.", "prompt_encoder.mask_embed.conv2."),
    (r"^prompt_encoder\.mask_downscaling\.4\.", "prompt_encoder.mask_embed.layer_norm2."),
    (r"^prompt_encoder\.mask_downscaling\.6\.", "prompt_encoder.mask_embed.conv3."),
    (r"^prompt_encoder\.pe_layer\.positional_encoding_gaussian_matrix$",
     "shared_image_embedding.positional_embedding"),
    (r"^mask_decoder\.output_upscaling\.0\.", "mask_decoder.upscale_conv1."),
    (r"^mask_decoder\.output_upscaling\.1\.", "mask_decoder.upscale_layer_norm."),
    (r"^mask_decoder\.output_upscaling\.3\.", "mask_decoder.upscale_conv2."),
    (r"^(mask_decoder\.(?:iou_prediction_head|output_hypernetworks_mlps\.\d+))\.layers\.0\.", r"\1.proj_in."),
    (r"^(mask_decoder\.(?:iou_prediction_head|output_hypernetworks_mlps\.\d+))\.layers\.1\.", r"\1.layers.0."),
    (r"^(mask_decoder\.(?:iou_prediction_head|output_hypernetworks_mlps\.\d+))\.layers\.2\.", r"\1.proj_out."),
))
# SAM's input normalisation, saved in the files as buffers; segview normalises before the model
# (segview.inference.sam.PIXEL_MEAN/PIXEL_STD, the same values), SamModel has no such tensors.
_DROPPED = frozenset({"pixel_mean", "pixel_std"})


def is_original_sam(state_dict: dict[str, Any]) -> bool:
    """Whether a state dict is in the original ``segment_anything`` naming (its image encoder is
    ``image_encoder.*``, transformers' ``vision_encoder.*``)."""
    return any(key.startswith("image_encoder.") for key in state_dict)


def hf_key(key: str) -> str:
    """transformers' ``SamModel`` name of an original SAM state-dict key."""
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    return key


def to_transformers(state_dict: dict[str, Any]) -> dict[str, Any]:
    """An original SAM state dict renamed for ``SamModel`` (the same tensors, not copied); the tied
    positional embedding (``prompt_encoder.shared_embedding``) is left to
    ``segview.inference.architectures.tie_sam_weights``, as for transformers' own files."""
    return {hf_key(key): value for key, value in state_dict.items() if key not in _DROPPED}


def rename_in_place(state_dict: dict[str, Any]) -> None:
    """Rename an original SAM state dict for ``SamModel`` in place (the loader keeps using the same
    dict); a state dict already in transformers' names is left as it is."""
    if is_original_sam(state_dict):
        renamed = to_transformers(state_dict)
        state_dict.clear()
        state_dict.update(renamed)
