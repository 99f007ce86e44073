"""The compare panel: which source the 2×2 grid shows and which disagreement it highlights.

The panes' label maps and the diff are computed on a worker thread (a 48-megapixel image takes about
0.1–0.4 s), so opening the grid or changing the threshold never blocks the window; the newest result is
shown when it arrives (``ComparePanel.filled``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from segview.core.categories import CategorySet
from segview.core.diff import disagreement
from segview.core.layers import LayerSource, LayerView, layer_data
from segview.core.render import OverlayMode, layer_style
from segview.core.views import semantic_view
from segview.core.workspace import ImageEntry, Workspace
from segview.ui.background import BackgroundJobs
from segview.ui.canvas.boxes import detection_items
from segview.ui.compare.view import CompareView

DIFFS = {
    "none": "No diff",
    "prediction-annotation": "Prediction vs annotation",
    "semantic-panoptic": "Semantic model vs panoptic result",
    "model-reference": "This model vs the previous model",
}


INSTANCE_PANE = 2
FILL_OPACITY = 0.6  # the panes' fill until the window restyles them (it passes the same)
EMPTY_LUT = np.zeros((1, 4), np.uint8)


@dataclass(frozen=True)
class CompareContent:
    """What the grid shows for one image: (title, labels, lut) of panes 1–3 and the highlighted diff."""

    panes: list[tuple[str, np.ndarray | None, np.ndarray]]
    diff: np.ndarray | None
    caption: str


class ComparePanel(QWidget):
    """Source and diff pickers over a CompareView; the instance pane shows the detections' boxes and
    scores while B is on."""

    filled = Signal()  # the panes show the newest request's content
    choice_changed = Signal()  # another source or diff was chosen: the window requests the panes again

    def __init__(self, mode: OverlayMode, boxes_shown: Callable[[], bool]) -> None:
        """``mode``: the overlay style to start with; ``boxes_shown``: whether B (instance boxes) is on."""
        super().__init__()
        self.boxes_shown = boxes_shown
        self.jobs = BackgroundJobs("compare", self)
        self.jobs.finished.connect(self._filled)
        self._requested: tuple | None = None  # what the newest job was asked, for the boxes
        self._box_items: list[QGraphicsItem] = []
        self.view = CompareView()
        self.source = QComboBox()
        self.source.setObjectName("compare-source")
        self.source.addItem("Prediction", LayerSource.PREDICTION)
        self.source.addItem("Annotation", LayerSource.ANNOTATION)
        self.diff = QComboBox()
        self.diff.setObjectName("compare-diff")
        for key, text in DIFFS.items():
            self.diff.addItem(text, key)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.source)
        bar.addSpacing(16)
        bar.addWidget(QLabel("Highlight"))
        bar.addWidget(self.diff)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.set_style(mode, FILL_OPACITY)  # not Qt's opaque default
        self.source.currentIndexChanged.connect(lambda _i: self.choice_changed.emit())
        self.diff.currentIndexChanged.connect(lambda _i: self.choice_changed.emit())

    def set_image(self, rgb) -> None:
        """Show another image (an array or a preview pyramid); labels of another size are cleared until
        the image's own arrive."""
        canvas = self.view.canvases[1]
        if rgb is None or tuple(rgb.shape[:2]) != canvas.image_shape():
            for index in (1, 2, 3):
                self.view.set_pane(index, self.view.title(index), None, EMPTY_LUT)
            self.view.set_diff(None)
            self._set_boxes([])
        self.view.set_image(rgb)

    def set_style(self, mode, fill_opacity: float) -> None:
        """Fill, outline or both, with the fill ``fill_opacity`` opaque (outlines opaque); boxes as B says."""
        opacity, fill_alpha = layer_style(mode, fill_opacity)
        self.view.set_style(mode, opacity, fill_alpha)
        shown = self.boxes_shown()
        for item in self._box_items:
            item.setVisible(shown)

    def request(self, entry: ImageEntry, workspace: Workspace) -> None:
        """Compute the panes of ``entry`` (the chosen source and diff) in the background."""
        source = LayerSource(self.source.currentData())
        categories = workspace.model_categories if source is LayerSource.PREDICTION else workspace.categories
        threshold = workspace.params.score_threshold
        snapshot = copy.copy(entry)  # the references of now: a later result replaces them on the entry
        ticket = self.jobs.submit(compare_content, snapshot, categories, source, threshold, self.diff.currentData())
        self._requested = (ticket, snapshot, categories, source, threshold)

    def _filled(self, ticket: int, content: CompareContent | None, error: Exception | None) -> None:
        if error is not None:
            raise error
        if not self.jobs.is_current(ticket) or self._requested is None:
            return
        _ticket, entry, categories, source, threshold = self._requested
        for index, (title, labels, lut) in enumerate(content.panes, start=1):
            self.view.set_pane(index, title, labels, lut)
        self.view.set_diff(content.diff, content.caption)
        boxes = []
        if source is LayerSource.PREDICTION and entry.prediction is not None:
            boxes = detection_items(entry.prediction, categories, threshold)
        self._set_boxes(boxes)
        self.filled.emit()

    def _set_boxes(self, items: list[QGraphicsItem]) -> None:
        scene = self.view.canvases[INSTANCE_PANE].scene()
        for item in self._box_items:
            scene.removeItem(item)
        self._box_items = items
        shown = self.boxes_shown()
        for item in items:
            item.setVisible(shown)
            scene.addItem(item)

    def fit(self) -> None:
        self.view.fit()


def diff_mask(entry: ImageEntry, kind: str) -> np.ndarray | None:
    """Where two sources disagree on the class of a pixel (None when a source is missing)."""
    if kind == "prediction-annotation" and entry.fused is not None and entry.annotation is not None:
        return disagreement(semantic_view(entry.fused), semantic_view(entry.annotation))
    if kind == "semantic-panoptic" and entry.prediction is not None and entry.prediction.semantic is not None \
            and entry.fused is not None:
        return disagreement(entry.prediction.semantic, semantic_view(entry.fused), ignore_void=False)
    if kind == "model-reference" and entry.fused is not None and entry.reference is not None:
        return disagreement(semantic_view(entry.fused), semantic_view(entry.reference))
    return None


def compare_content(entry: ImageEntry, categories: CategorySet, source: LayerSource, threshold: float,
                    kind: str) -> CompareContent:
    """The entry's semantic, instance and panoptic layers of ``source`` and the ``kind`` of diff (no Qt:
    it runs on a worker thread)."""
    panes = []
    for view in LayerView:
        data = layer_data(entry, categories, source, view, threshold)
        labels, lut = data if data is not None else (None, EMPTY_LUT)
        panes.append((view.value.capitalize(), labels, lut))
    mask = diff_mask(entry, kind) if kind != "none" else None
    if mask is None:
        return CompareContent(panes, None, "" if kind == "none" else f"{DIFFS[kind]}: not available for this image")
    return CompareContent(panes, mask, DIFFS[kind])  # the view adds how much disagrees


def fill_compare(panel: ComparePanel, entry: ImageEntry, workspace: Workspace) -> None:
    """Put the entry's semantic, instance and panoptic layers of the chosen source into the grid (in the
    background: ``panel.filled`` says when)."""
    panel.request(entry, workspace)
