"""Side by side: the image and three label views in a 2×2 grid whose zoom and pan follow each other."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from segview.core.diff import disagreement_caption
from segview.core.render import OverlayMode
from segview.ui.canvas.canvas import ImageCanvas

DEFAULT_TITLES = ("Image", "Semantic", "Instance", "Panoptic")
LABELS_LAYER, DIFF_LAYER = "labels", "diff"
DIFF_LUT = np.array([[0, 0, 0, 0], [255, 0, 255, 255]], np.uint8)
# The diff's fill lets the pane's own colours show through; its outline is opaque magenta.
DIFF_FILL_ALPHA = 160


class CompareView(QWidget):
    """Four synchronised canvases: pane 0 shows the image, panes 1-3 the image under a label layer."""

    hovered = Signal(int, int)  # image x, y of the pointer in any pane; (-1, -1) outside the image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvases: list[ImageCanvas] = []
        self._titles: list[QLabel] = []
        self._following = False
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for index, title in enumerate(DEFAULT_TITLES):
            canvas = ImageCanvas()
            label = QLabel(title)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pane = QVBoxLayout()
            pane.setSpacing(2)
            pane.addWidget(label)
            pane.addWidget(canvas, 1)
            grid.addLayout(pane, index // 2, index % 2)
            if index:
                canvas.layer(LABELS_LAYER, 1.0)
            canvas.layer(DIFF_LAYER, 100.0)
            canvas.set_layer_style(DIFF_LAYER, OverlayMode.BOTH, 1.0, DIFF_FILL_ALPHA)
            canvas.view_changed.connect(lambda c=canvas: self._follow(c))
            canvas.hovered.connect(self.hovered)
            self.canvases.append(canvas)
            self._titles.append(label)
        self.caption = QLabel()
        self.caption.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(grid, 1)
        layout.addWidget(self.caption)

    def title(self, index: int) -> str:
        """The title shown above pane ``index``."""
        return self._titles[index].text()

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show the image in every pane."""
        self._following = True
        try:
            for canvas in self.canvases:
                canvas.set_image(rgb)
        finally:
            self._following = False

    def set_pane(self, index: int, title: str, labels: np.ndarray | None, lut: np.ndarray) -> None:
        """Show ``labels`` coloured through the RGBA ``lut`` in pane 1, 2 or 3, under ``title``."""
        if index not in (1, 2, 3):
            raise ValueError(f"pane {index} does not show labels; use 1, 2 or 3")
        self._titles[index].setText(title)
        self.canvases[index].set_layer(LABELS_LAYER, labels, lut)

    def set_style(self, mode: OverlayMode, opacity: float, fill_alpha: int = 255) -> None:
        """Fill, outline or both, and the opacity, of the label layers in panes 1-3."""
        for canvas in self.canvases[1:]:
            canvas.set_layer_style(LABELS_LAYER, mode, opacity, fill_alpha)

    def set_diff(self, mask: np.ndarray | None, description: str = "") -> None:
        """Highlight ``mask`` (True = disagreement) in magenta on every pane and say how much; None clears it."""
        labels = None if mask is None else mask.astype(np.uint8)
        for canvas in self.canvases:
            canvas.set_layer(DIFF_LAYER, labels, DIFF_LUT)
        self.caption.setText(description if mask is None else disagreement_caption(description, mask))
        self.caption.setVisible(bool(self.caption.text()))  # also "…: not available for this image"

    def fit(self) -> None:
        """Show the whole image in every pane."""
        self._following = True
        try:
            for canvas in self.canvases:
                canvas.fit()
        finally:
            self._following = False

    def _follow(self, source: ImageCanvas) -> None:
        """Copy one pane's zoom and pan into the others (their own view changes are not echoed back).

        A fitted source makes the others fit too, so that they keep fitting when the window is resized.
        """
        if self._following:
            return
        self._following = True
        try:
            fitted = _is_fitted(source)
            transform, centre = source.view_state()
            for canvas in self.canvases:
                if canvas is source:
                    continue
                if fitted:
                    canvas.fit()
                else:
                    canvas.set_view_state(transform, centre)
        finally:
            self._following = False


def _is_fitted(canvas: ImageCanvas) -> bool:
    """True when the canvas shows its whole image at the scale ``fit()`` would choose."""
    h, w = canvas.image_shape()
    view = canvas.viewport().rect().adjusted(2, 2, -2, -2)  # QGraphicsView.fitInView's margin
    if not (h and w) or view.isEmpty():
        return False
    return math.isclose(canvas.scale_factor(), min(view.width() / w, view.height() / h), rel_tol=1e-9)
