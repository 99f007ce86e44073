"""The image canvas: an image with label layers on top, smooth zoom to the cursor, pan, fit and 1:1."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from segview.core.render import OverlayMode
from segview.ui.array_items import ImageItem, LabelItem

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 1 / 64, 64.0


class ImageCanvas(QGraphicsView):
    """Shows one image and any number of named label layers; emits the hovered pixel."""

    hovered = Signal(int, int)  # image x, y; (-1, -1) outside the image
    view_changed = Signal()  # zoom or pan changed (compare views follow each other)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setMouseTracking(True)
        self.setBackgroundBrush(QColor(32, 34, 38))
        self.image_item = ImageItem()
        self.scene().addItem(self.image_item)
        self._layers: dict[str, LabelItem] = {}
        self._fit_on_resize = True
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)

    # --- content -----------------------------------------------------------------------------------

    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show a new image (layers keep their settings; their data is replaced by the caller)."""
        size_changed = rgb is None or (rgb.shape[0], rgb.shape[1]) != self.image_shape()
        self.image_item.set_image(rgb)
        if rgb is not None:
            self.scene().setSceneRect(self.image_item.boundingRect())
        if size_changed:
            self.fit()

    def image_shape(self) -> tuple[int, int]:
        rect = self.image_item.boundingRect()
        return int(rect.height()), int(rect.width())

    def layer(self, name: str, z: float = 1.0) -> LabelItem:
        """The label layer called ``name`` (created on first use, stacked by ``z``)."""
        if name not in self._layers:
            item = LabelItem()
            item.setZValue(z)
            self.scene().addItem(item)
            self._layers[name] = item
        return self._layers[name]

    def layers(self) -> dict[str, LabelItem]:
        return dict(self._layers)

    def set_layer(self, name: str, labels: np.ndarray | None, lut: np.ndarray) -> None:
        self.layer(name).set_labels(labels, lut)

    def set_layer_style(self, name: str, mode: OverlayMode, opacity: float, fill_alpha: int = 255) -> None:
        item = self.layer(name)
        item.set_style(mode, fill_alpha)
        item.setOpacity(opacity)

    # --- view --------------------------------------------------------------------------------------

    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Zoom around the mouse (or the view centre), within sane limits."""
        target = min(max(self.scale_factor() * factor, MIN_SCALE), MAX_SCALE)
        factor = target / self.scale_factor()
        self._fit_on_resize = False
        self.scale(factor, factor)
        self.view_changed.emit()

    def fit(self) -> None:
        """Show the whole image."""
        if self.image_item.boundingRect().isEmpty():
            return
        self.fitInView(self.image_item, Qt.AspectRatioMode.KeepAspectRatio)
        self._fit_on_resize = True
        self.view_changed.emit()

    def actual_size(self) -> None:
        """One image pixel per screen pixel, keeping the centre."""
        centre = self.mapToScene(self.viewport().rect().center())
        self.setTransform(QTransform())
        self.centerOn(centre)
        self._fit_on_resize = False
        self.view_changed.emit()

    def view_state(self) -> tuple[QTransform, QPointF]:
        """The transform and the scene point at the view centre (to copy into another canvas)."""
        return self.transform(), self.mapToScene(self.viewport().rect().center())

    def set_view_state(self, transform: QTransform, centre: QPointF) -> None:
        self.blockSignals(True)
        try:
            self.setTransform(transform)
            self.centerOn(centre)
            self._fit_on_resize = False
        finally:
            self.blockSignals(False)

    # --- events ------------------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        super().mouseMoveEvent(event)
        point = self.mapToScene(event.position().toPoint())
        h, w = self.image_shape()
        x, y = int(np.floor(point.x())), int(np.floor(point.y()))
        self.hovered.emit(x, y) if 0 <= x < w and 0 <= y < h else self.hovered.emit(-1, -1)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._fit_on_resize:
            self.fit()
