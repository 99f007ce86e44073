"""The compare panel: which source the 2×2 grid shows and which disagreement it highlights."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from segview.core.diff import disagreement
from segview.core.layers import LayerSource, LayerView, layer_data
from segview.core.render import layer_style
from segview.core.views import semantic_view
from segview.core.workspace import ImageEntry, Workspace
from segview.ui.compare import CompareView

DIFFS = {
    "none": "No diff",
    "prediction-annotation": "Prediction vs annotation",
    "semantic-panoptic": "Semantic model vs panoptic result",
    "model-reference": "This model vs the previous model",
}


class ComparePanel(QWidget):
    """Source and diff pickers over a CompareView."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
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
        self.source.currentIndexChanged.connect(lambda _i: window._refresh_compare())
        self.diff.currentIndexChanged.connect(lambda _i: window._refresh_compare())
        self.view.hovered.connect(window._hovered)

    def set_image(self, rgb: np.ndarray) -> None:
        self.view.set_image(rgb)

    def set_style(self, mode, fill_opacity: float) -> None:
        """Fill, outline or both, with the fill ``fill_opacity`` opaque (outlines opaque)."""
        opacity, fill_alpha = layer_style(mode, fill_opacity)
        self.view.set_style(mode, opacity, fill_alpha)

    def fit(self) -> None:
        self.view.fit()


def make_compare(window) -> ComparePanel:
    return ComparePanel(window)


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


def fill_compare(panel: ComparePanel, entry: ImageEntry, workspace: Workspace) -> None:
    """Put the entry's semantic, instance and panoptic layers of the chosen source into the grid."""
    source = LayerSource(panel.source.currentData())
    categories = workspace.model_categories if source is LayerSource.PREDICTION else workspace.categories
    for index, view in enumerate(LayerView, start=1):
        data = layer_data(entry, categories, source, view, workspace.params.score_threshold)
        labels, lut = data if data is not None else (None, np.zeros((1, 4), np.uint8))
        panel.view.set_pane(index, view.value.capitalize(), labels, lut)
    kind = panel.diff.currentData()
    mask = diff_mask(entry, kind) if kind != "none" else None
    if mask is None:
        panel.view.set_diff(None, "" if kind == "none" else f"{DIFFS[kind]}: not available for this image")
    else:
        panel.view.set_diff(mask, DIFFS[kind])  # the view adds how much disagrees
