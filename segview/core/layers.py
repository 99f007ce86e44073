"""What each overlay layer shows: (label map, RGBA lookup table) for a source and a view of one image.

Sources: the model's *prediction* and the person's *annotation*. Views: *semantic* (class per pixel),
*instance* (one colour per thing) and *panoptic* (every segment). For the prediction, the semantic layer
is the semantic model's own output and the instance layer its raw detections above the score threshold
(higher scores drawn on top), so the three layers show what each kind of model says and what fusion made.
"""

from __future__ import annotations

import math
import weakref
from enum import Enum

import numpy as np

from segview.core import views
from segview.core.categories import CategorySet
from segview.core.palette import instance_color, lut_from_colors
from segview.core.prediction import Prediction
from segview.core.segments import Annotation
from segview.core.workspace import ImageEntry


class LayerSource(str, Enum):
    PREDICTION = "prediction"
    ANNOTATION = "annotation"


class LayerView(str, Enum):
    SEMANTIC = "semantic"
    INSTANCE = "instance"
    PANOPTIC = "panoptic"


def layer_name(source: LayerSource, view: LayerView) -> str:
    return f"{LayerSource(source).value}.{LayerView(view).value}"


def score_text(score: float) -> str:
    """A score with two decimals, cut rather than rounded, so that what is shown agrees with the
    threshold (0.996 reads "0.99" and is hidden at 1.00; "0.50" is kept at 0.50)."""
    return f"{math.floor(float(score) * 100 + 1e-6) / 100:.2f}"


def instance_map(prediction: Prediction, categories: CategorySet, score_threshold: float):
    """Detections above the threshold painted lowest score first: (label map, lut, index → detection).
    Label ``k`` is the ``k``-th best detection; its colour is its class colour shaded by ``k``, as the
    fused segment it became has in the panoptic view (``detection_keys``). The label map is read-only:
    the last one is reused while the prediction and the threshold stay the same (``_detection_labels``)."""
    kept = prediction.instances_above(score_threshold)  # best first: label 1 is the best
    labels = _detection_labels(prediction, kept, score_threshold)
    colors = {index: instance_color(index, categories.color_of(inst.category_id))
              for index, inst in enumerate(kept, start=1)}
    return labels, lut_from_colors(colors), kept


_last_labels: tuple[weakref.ref, int, int, float, np.ndarray] | None = None


def _detection_labels(prediction: Prediction, kept: list, score_threshold: float) -> np.ndarray:
    """The label map of ``kept``, painted lowest score first. Painting 40 detections on 48 megapixels
    takes 40-100 ms, and every refresh of the window's layers (a class added, an annotation begun: twice
    in an image's first accept all) asked for the same map again, so the last one is kept (the canvas
    holds it anyway) and returned, read-only, for the same prediction, detections and threshold."""
    global _last_labels
    last = _last_labels  # one read: another thread (the compare view's worker) may replace it
    key = (id(prediction.instances), len(prediction.instances), score_threshold)
    if last is not None and last[0]() is prediction and last[1:4] == key:
        return last[4]
    dtype = np.uint16 if len(kept) < np.iinfo(np.uint16).max else np.uint32
    labels = np.zeros((prediction.height, prediction.width), dtype)
    for index in range(len(kept), 0, -1):
        slices, region = kept[index - 1].mask.clipped(prediction.height, prediction.width)
        labels[slices][region] = index
    labels.flags.writeable = False
    _last_labels = (weakref.ref(prediction), *key, labels)
    return labels


def detection_keys(fused: Annotation, prediction: Prediction, categories: CategorySet,
                   score_threshold: float) -> dict[int, int]:
    """Thing segment id of the fused prediction → rank (1 = best) of the detection it came from.

    Fusion takes the detections above the threshold best first and numbers the ones it keeps in that
    order, each with its detection's class and score, so walking both in order pairs them."""
    ranked = prediction.instances_above(score_threshold)
    keys: dict[int, int] = {}
    rank = 0
    for sid in sorted(fused.segments):
        segment = fused.segments[sid]
        if segment.score is None or not categories.is_thing(segment.category_id):
            continue
        while rank < len(ranked) and (ranked[rank].category_id, float(ranked[rank].score)) != (
                segment.category_id, segment.score):
            rank += 1
        if rank == len(ranked):
            break
        keys[sid] = rank + 1
        rank += 1
    return keys


def _annotation_layer(annotation: Annotation, categories: CategorySet, view: LayerView):
    if view is LayerView.SEMANTIC:
        return views.semantic_view(annotation), categories.color_lut()
    if view is LayerView.INSTANCE:
        return views.instance_id_map(annotation, categories), views.segment_lut(annotation, categories, True)
    return annotation.segment_map, views.segment_lut(annotation, categories)


def layer_data(
    entry: ImageEntry, categories: CategorySet, source: LayerSource, view: LayerView, score_threshold: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """The (labels, lut) a layer shows for an image, or None when there is nothing to show."""
    source, view = LayerSource(source), LayerView(view)
    if source is LayerSource.ANNOTATION:
        return None if entry.annotation is None else _annotation_layer(entry.annotation, categories, view)
    prediction = entry.prediction
    if prediction is None or entry.fused is None:
        return None
    if view is LayerView.SEMANTIC:
        if prediction.semantic is None:
            return views.semantic_view(entry.fused), categories.color_lut()
        return prediction.semantic, categories.color_lut()
    if view is LayerView.INSTANCE:
        labels, lut, _ = instance_map(prediction, categories, score_threshold)
        return labels, lut
    keys = detection_keys(entry.fused, prediction, categories, score_threshold)
    return entry.fused.segment_map, views.segment_lut(entry.fused, categories, keys=keys)


def describe_pixel(entry: ImageEntry, categories: CategorySet, x: int, y: int, score_threshold: float) -> str:
    """Status-bar text for a pixel: semantic class (+ confidence), instance, panoptic segment."""
    parts = [f"x={x} y={y}"]

    def name(category_id: int) -> str:
        category = categories.get(int(category_id))
        return category.name if category else f"class {int(category_id)}"

    prediction = entry.prediction
    if prediction is not None and prediction.semantic is not None:
        text = f"semantic: {name(prediction.semantic[y, x])}" if prediction.semantic[y, x] else "semantic: –"
        if prediction.semantic_confidence is not None and prediction.semantic[y, x]:
            text += f" ({float(prediction.semantic_confidence[y, x]):.2f})"
        parts.append(text)
    if prediction is not None:
        hits = [
            i
            for i in prediction.instances_above(score_threshold)
            if i.mask.y <= y < i.mask.y + i.mask.height
            and i.mask.x <= x < i.mask.x + i.mask.width
            and i.mask.mask[y - i.mask.y, x - i.mask.x]
        ]
        if hits:
            best = hits[0]
            parts.append(
                f"instance: {name(best.category_id)} {score_text(best.score)}"
                + (f" (+{len(hits) - 1})" if len(hits) > 1 else "")
            )
    for label, annotation in (("panoptic", entry.fused), ("annotation", entry.annotation)):
        if annotation is None:
            continue
        sid = int(annotation.segment_map[y, x])
        segment = annotation.segments.get(sid)
        if segment is not None:
            score = f" {score_text(segment.score)}" if segment.score is not None else ""
            parts.append(f"{label}: #{sid} {name(segment.category_id)}{score}")
    return "   ".join(parts)
