"""Panoptic fusion: a Prediction (instances + semantic map) becomes a non-overlapping segment map.

Follows Detectron2's Panoptic FPN heuristic (``combine_semantic_and_instance_outputs``): things in
descending score; a thing whose still-visible part is below ``overlap_threshold`` of its mask is
dropped; the semantic map's *stuff* classes fill the remaining pixels; stuff regions smaller than
``stuff_area_limit`` are dropped. Semantic pixels of thing classes are left to the instances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segview.core.categories import CategorySet
from segview.core.prediction import Prediction
from segview.core.segments import VOID, Annotation, Segment, Source


@dataclass(frozen=True)
class FusionParams:
    """The knobs of panoptic fusion (Detectron2's defaults)."""

    score_threshold: float = 0.5
    overlap_threshold: float = 0.5
    stuff_area_limit: int = 4096


def fuse(
    prediction: Prediction, categories: CategorySet, params: FusionParams = FusionParams()
) -> Annotation:
    """Fuse a prediction into an Annotation whose segments are marked as coming from the model."""
    ann = Annotation(prediction.height, prediction.width)
    for inst in prediction.instances_above(params.score_threshold):
        slices, region = inst.mask.clipped(ann.height, ann.width)
        area = int(np.count_nonzero(region))
        if area == 0:
            continue
        free = region & (ann.segment_map[slices] == VOID)
        visible = int(np.count_nonzero(free))
        if visible == 0 or (area - visible) / area > params.overlap_threshold:
            continue
        sid = ann.next_id()
        ann.segment_map[slices][free] = sid
        ann.segments[sid] = Segment(inst.category_id, score=float(inst.score), source=Source.MODEL)
    if prediction.semantic is not None:
        _fill_stuff(ann, prediction, categories, params)
    return ann


def _fill_stuff(
    ann: Annotation, prediction: Prediction, categories: CategorySet, params: FusionParams
) -> None:
    semantic = prediction.semantic
    free = ann.segment_map == VOID
    labels = semantic[free]
    counts = np.bincount(labels.ravel(), minlength=1)
    confidence = prediction.semantic_confidence
    for category_id in np.flatnonzero(counts):
        category = categories.get(int(category_id))
        if category_id == VOID or category is None or category.isthing:
            continue
        if counts[category_id] < params.stuff_area_limit:
            continue
        mask = free & (semantic == category_id)
        score = float(confidence[mask].mean()) if confidence is not None else None
        sid = ann.next_id()
        ann.segment_map[mask] = sid
        ann.segments[sid] = Segment(int(category_id), score=score, source=Source.MODEL)
