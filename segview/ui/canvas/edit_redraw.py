"""Redraw of the annotation layers after an edit, limited to the edit's dirty box.

The panoptic layer's labels *are* the annotation's segment map (shared array): only the box is
re-rendered. The semantic and instance layers are derived arrays: only the box's slice of them is
recomputed, in place. Lookup tables are rebuilt only when the segment table changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from segview.core import views
from segview.core.categories import CategorySet
from segview.core.layers import LayerSource, LayerView, layer_data, layer_name
from segview.core.palette import lut_from_colors
from segview.core.render import OverlayMode
from segview.core.segments import VOID
from segview.core.workspace import ImageEntry
from segview.ui.canvas.array_items import LabelItem
from segview.ui.canvas.canvas import ImageCanvas

SELECTION_Z = 20.0
SELECTION_RGB = (255, 255, 255)


class AnnotationRedraw:
    """Keeps the current image's annotation layers (and the selection outline) in step with its edits."""

    def __init__(self, canvas: ImageCanvas) -> None:
        self.canvas = canvas
        self.entry: ImageEntry | None = None
        self.categories = CategorySet()
        self.selection: list[int] = []
        self._table: dict = {}
        self._category_lut = np.zeros(1, np.uint32)
        self._things = np.zeros(1, bool)
        self._pending: list | None = None
        self.selection_item = LabelItem()
        self.selection_item.setZValue(SELECTION_Z)
        self.selection_item.set_style(OverlayMode.OUTLINE)
        canvas.scene().addItem(self.selection_item)

    def attach(self, entry: ImageEntry | None, categories: CategorySet) -> None:
        """Follow another image (or none); the layers themselves were just set by the window."""
        self.entry, self.categories = entry, categories
        self._table = {}
        annotation = None if entry is None else entry.annotation
        if annotation is not None:
            self._remember_table()
        self._set_selection_labels()

    def set_selection(self, ids: list[int]) -> None:
        self.selection = list(ids)
        self._set_selection_labels()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Redraw once, for the union of the dirty boxes, after many atoms (an undo or redo of a stroke)."""
        self._pending = []
        try:
            yield
        finally:
            boxes, self._pending = self._pending, None
            if boxes:
                self.changed(None if any(b is None for b in boxes) else _union(boxes))

    def changed(self, box: tuple[int, int, int, int] | None) -> None:
        """An atom was applied, undone or redone; ``box`` is its dirty (top, left, height, width)."""
        if self._pending is not None:
            self._pending.append(box)
            return
        annotation = None if self.entry is None else self.entry.annotation
        if annotation is None:
            return
        table_changed = annotation.segments != self._table
        if table_changed:
            self._remember_table()
        panoptic = self._item(LayerView.PANOPTIC)
        if box is None or panoptic.labels is not annotation.segment_map:
            self.refresh()  # a relabel / crowd flag (every pixel's class may change) or a new map dtype
            return
        top, left, height, width = box
        rows, cols = slice(top, top + height), slice(left, left + width)
        ids = annotation.segment_map[rows, cols]
        ids = np.where(ids < self._things.size, ids, VOID) if int(ids.max(initial=0)) >= self._things.size else ids
        semantic, instance = self._item(LayerView.SEMANTIC), self._item(LayerView.INSTANCE)
        if semantic.labels is not None and semantic.labels.shape == annotation.segment_map.shape:
            semantic.labels[rows, cols] = self._category_lut[ids]
        if instance.labels is not None and instance.labels.shape == annotation.segment_map.shape:
            instance.labels[rows, cols] = np.where(self._things[ids], ids, VOID)
        if table_changed:
            # An atom with pixels only adds or removes ids whose pixels lie inside its box (paint, delete,
            # merge, split, accept), so the new colours are needed there only.
            panoptic.set_lut(views.segment_lut(annotation, self.categories), repaint_all=False)
            instance.set_lut(views.segment_lut(annotation, self.categories, True), repaint_all=False)
        for item in (semantic, instance, panoptic, self.selection_item):
            item.changed_region(top, left, height, width)

    def refresh(self) -> None:
        """Recompute every annotation layer of the current image from scratch."""
        if self.entry is None:
            return
        for view in LayerView:
            data = layer_data(self.entry, self.categories, LayerSource.ANNOTATION, view, 0.0)
            labels, lut = data if data is not None else (None, np.zeros((1, 4), np.uint8))
            self._item(view).set_labels(labels, lut)
        self._set_selection_labels()

    def _item(self, view: LayerView) -> LabelItem:
        return self.canvas.layer(layer_name(LayerSource.ANNOTATION, view))

    def _remember_table(self) -> None:
        annotation = self.entry.annotation
        self._table = dict(annotation.segments)
        self._category_lut = views.category_lut(annotation)
        things = np.zeros(self._category_lut.size, bool)
        for sid, segment in annotation.segments.items():
            things[sid] = self.categories.is_thing(segment.category_id)
        self._things = things

    def _set_selection_labels(self) -> None:
        annotation = None if self.entry is None else self.entry.annotation
        if annotation is None:
            self.selection_item.set_labels(None, np.zeros((1, 4), np.uint8))
            return
        lut = lut_from_colors(dict.fromkeys(self.selection, SELECTION_RGB))
        self.selection_item.set_labels(annotation.segment_map, lut)


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    top, left = min(b[0] for b in boxes), min(b[1] for b in boxes)
    bottom, right = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return top, left, bottom - top, right - left
