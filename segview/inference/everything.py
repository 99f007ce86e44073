"""Segment everything: masks for a whole image from a grid of point prompts, as unlabeled candidates.

As Segment Anything's automatic mask generator does (Kirillov et al., 2023, section 7.1 and appendix): one
positive point per grid cell, three masks per point; a mask is kept when the model's predicted IoU and its
stability (the IoU of the mask thresholded at +1 and at -1 logits) are high; overlapping masks are
suppressed by box NMS, best first. Everything is filtered at the decoder's resolution; only the masks kept
are upsampled to the image. The image's embedding is the prompt tool's (computed once, cached).
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.ops import masks_to_boxes, nms

from segview.core.candidates import Candidates, EverythingParams
from segview.core.masks import CroppedMask
from segview.core.prompts import ImageEmbedding, logits_to_image
from segview.inference.jobs import JobContext


def point_grid(height: int, width: int, per_side: int) -> np.ndarray:
    """Cell centres of a ``per_side`` × ``per_side`` grid over the image (N × 2, x then y)."""
    steps = (np.arange(per_side) + 0.5) / per_side
    xs, ys = np.meshgrid(steps * width, steps * height)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def segment_everything(predictor, embedding: ImageEmbedding, params: EverythingParams | None = None,
                       stale=lambda: False) -> Candidates | None:
    """The image's candidates (None when ``stale`` says the request is obsolete), best first."""
    params = params or EverythingParams()
    grid = point_grid(embedding.height, embedding.width, params.points_per_side)
    kept_logits, kept_scores = [], []
    for start in range(0, len(grid), params.points_per_batch):
        if stale():
            return None
        logits, scores = predictor.decode_points(embedding, grid[start:start + params.points_per_batch])
        logits = torch.from_numpy(logits).flatten(0, 1)  # (points × 3, S, S)
        scores = torch.from_numpy(scores).flatten()
        inner = (logits > params.stability_offset).sum((1, 2))
        outer = (logits > -params.stability_offset).sum((1, 2))
        stability = inner / outer.clamp(min=1)
        keep = (scores >= params.iou_threshold) & (stability >= params.stability_threshold) & (inner > 0)
        kept_logits.append(logits[keep])
        kept_scores.append(scores[keep])
    logits, scores = torch.cat(kept_logits), torch.cat(kept_scores)
    crops, kept = [], []
    if len(logits):
        boxes = masks_to_boxes(logits > 0).float()
        for index in nms(boxes, scores, params.nms_iou).tolist():  # best first
            mask = logits_to_image(logits[index].numpy(), embedding.height, embedding.width, embedding.long_side)
            crop = CroppedMask.from_full(mask > 0)
            if crop.area >= params.min_area:
                crops.append(crop)
                kept.append(float(scores[index]))
    return Candidates(embedding.height, embedding.width, tuple(crops), tuple(kept))


def everything_job(context: JobContext) -> Candidates | None:
    """The model process's ``everything`` job: key ``("everything", image path)``, payload ``(prompt model,
    device, max_pixels, EverythingParams or None)``; the prompt model and the embedding are the prompt tool's
    (``prompt_jobs``)."""
    from segview.inference.prompt_jobs import predictor_and_embedding

    name, device, max_pixels, params = context.payload
    predictor, embedding = predictor_and_embedding(context.key[1], name, device, max_pixels, context.is_stale)
    if embedding is None:
        return None
    return segment_everything(predictor, embedding, params, stale=context.is_stale)
