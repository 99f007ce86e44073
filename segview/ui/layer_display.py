"""What the window shows of the image on screen, worked out from the workspace: each layer's labels and
colours on the canvas, which labels the legend and the Objects list hide, whether the image counts as
annotated (so the prediction does not stack on it), the legend's class shares and the pixel readout."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from segview.core.categories import CategorySet
from segview.core.layers import LayerSource, LayerView, describe_pixel, instance_map, layer_data, layer_name
from segview.core.segments import Source
from segview.core.views import class_shares
from segview.core.workspace import ImageEntry, Workspace
from segview.ui.canvas.canvas import ImageCanvas

LAYER_Z = {LayerView.SEMANTIC: 1.0, LayerView.INSTANCE: 2.0, LayerView.PANOPTIC: 3.0}  # annotation: +3


def set_layers(canvas: ImageCanvas, entry: ImageEntry | None, workspace: Workspace) -> None:
    """Give every layer of the canvas its labels and colours for ``entry`` (empty without one): the
    prediction's in the model's classes, the annotation's in the project's."""
    threshold = workspace.params.score_threshold
    for source in LayerSource:
        categories = workspace.model_categories if source is LayerSource.PREDICTION else workspace.categories
        for view in LayerView:
            name = layer_name(source, view)
            data = None if entry is None else layer_data(entry, categories, source, view, threshold)
            labels, lut = data if data is not None else (None, np.zeros((1, 4), np.uint8))
            canvas.layer(name, LAYER_Z[view] + (3 if source is LayerSource.ANNOTATION else 0))
            canvas.set_layer(name, labels, lut)


def shows_annotation(entry: ImageEntry | None, opened_annotated: bool) -> bool:
    """Whether the image is shown as annotated, so that the prediction does not stack on its annotation
    unless turned on: it was opened so, or it holds accepted predictions. A first stroke from scratch
    keeps the prediction in view, as the guide it is."""
    if entry is None or not entry.annotated:
        return False
    return opened_annotated or any(segment.source is Source.MODEL for segment in entry.annotation.segments.values())


def legend_content(entry: ImageEntry | None, workspace: Workspace) -> tuple[CategorySet, dict[int, float] | None]:
    """The legend's classes (the project's, else the model's) and their shares of the image on screen."""
    categories = workspace.categories if len(workspace.categories) else workspace.model_categories
    shares = None
    if entry is not None:
        source = entry.annotation if entry.annotated else entry.fused
        shares = class_shares(source) if source is not None else None
    return categories, shares


def hover_text(entry: ImageEntry, workspace: Workspace, x: int, y: int) -> str:
    """The status bar's readout of pixel (x, y): the prediction's segment, then the annotation's."""
    threshold = workspace.params.score_threshold
    # The model's results are named by the model's classes, the annotation by the project's (renamed
    # in the Classes dock): describe each with its own categories.
    predicted = SimpleNamespace(prediction=entry.prediction, fused=entry.fused, annotation=None)
    text = describe_pixel(predicted, workspace.model_categories, x, y, threshold)
    if entry.annotation is not None:
        annotated = SimpleNamespace(prediction=None, fused=None, annotation=entry.annotation)
        part = describe_pixel(annotated, workspace.categories, x, y, threshold)
        prefix = f"x={x} y={y}"
        text += part[len(prefix):] if part.startswith(prefix) else "   " + part
    return text


def hidden_labels(name: str, hidden: set[int], entry: ImageEntry | None, workspace: Workspace) -> set[int]:
    """Label values of a layer that belong to classes hidden in the legend."""
    if not hidden or entry is None or "." not in name:  # Segment Everything's candidates have no class
        return set()
    source, view = name.split(".")
    if view == LayerView.SEMANTIC.value:
        return set(hidden)
    if source == LayerSource.PREDICTION.value and view == LayerView.INSTANCE.value:
        if entry.prediction is None:
            return set()
        _, _, kept = instance_map(entry.prediction, workspace.model_categories, workspace.params.score_threshold)
        return {i for i, inst in enumerate(kept, start=1) if inst.category_id in hidden}
    annotation = entry.fused if source == LayerSource.PREDICTION.value else entry.annotation
    if annotation is None:
        return set()
    return {sid for sid, s in annotation.segments.items() if s.category_id in hidden}
