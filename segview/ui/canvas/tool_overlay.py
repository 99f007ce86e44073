"""The graphics item that draws a tool's preview (brush circle, polygon, box, vertex handles, a prompt's
mask and points)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from segview.ui.canvas.shapes import Box, Circle, Handles, Marker, Mask, Path, Shape

OVERLAY_Z = 30.0
HANDLE_PIXELS = 3.0  # half-size of a vertex handle on screen
MARKER_PIXELS = 5.0  # radius of a prompt point on screen
MASK_RGBA = (64, 160, 255, 110)  # a prompt's preview mask
POSITIVE, NEGATIVE = QColor(40, 200, 90), QColor(230, 60, 60)


class ToolOverlay(QGraphicsItem):
    """Paints ``shapes`` with cosmetic (zoom-independent) pens over the whole scene."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(OVERLAY_Z)
        self.shapes: list[Shape] = []
        self._masks: list[tuple[Mask, QImage]] = []
        self._bounds = QRectF()

    def set_bounds(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._bounds = rect.adjusted(-1000, -1000, 1000, 1000)

    def set_shapes(self, shapes: list[Shape]) -> None:
        old = {id(mask): image for mask, image in self._masks}
        self.shapes = [s for s in shapes if not isinstance(s, Mask)]
        self._masks = [(m, old.get(id(m)) or _mask_image(m.mask)) for m in shapes if isinstance(m, Mask) and m.mask.size]
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        for mask, image in self._masks:
            painter.drawImage(QPointF(mask.x, mask.y), image)
        if not self.shapes:
            return
        scale = painter.worldTransform().m11() or 1.0
        for colour, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255), 1)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for shape in self.shapes:
                _draw(painter, shape, HANDLE_PIXELS / scale)
        markers = [s for s in self.shapes if isinstance(s, Marker)]
        painter.setPen(QPen(QColor(255, 255, 255), 0))
        radius = MARKER_PIXELS / scale
        for marker in markers:
            painter.setBrush(POSITIVE if marker.positive else NEGATIVE)
            painter.drawEllipse(QPointF(marker.x, marker.y), radius, radius)


def _mask_image(mask: np.ndarray) -> QImage:
    """A bool mask as a translucent premultiplied RGBA image (its pixels drawn, the rest clear)."""
    height, width = mask.shape
    rgba = np.zeros((height, width, 4), np.uint8)
    alpha = MASK_RGBA[3] / 255
    rgba[mask] = (round(MASK_RGBA[0] * alpha), round(MASK_RGBA[1] * alpha), round(MASK_RGBA[2] * alpha), MASK_RGBA[3])
    image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888_Premultiplied)
    return image.copy()  # owns its pixels


def _draw(painter: QPainter, shape: Shape, handle: float) -> None:
    if isinstance(shape, Circle):
        painter.drawEllipse(QPointF(shape.x, shape.y), shape.radius, shape.radius)
    elif isinstance(shape, Box):
        painter.drawRect(QRectF(shape.x, shape.y, shape.width, shape.height))
    elif isinstance(shape, Path):
        polygon = QPolygonF([QPointF(x, y) for x, y in shape.points])
        painter.drawPolygon(polygon) if shape.closed else painter.drawPolyline(polygon)
    elif isinstance(shape, Handles):
        for x, y in shape.points:
            painter.drawRect(QRectF(x - handle, y - handle, 2 * handle, 2 * handle))
