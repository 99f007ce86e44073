"""The graphics item that draws a tool's preview (brush circle, polygon, box, vertex handles)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from segview.ui.canvas.shapes import Box, Circle, Handles, Path, Shape

OVERLAY_Z = 30.0
HANDLE_PIXELS = 3.0  # half-size of a vertex handle on screen


class ToolOverlay(QGraphicsItem):
    """Paints ``shapes`` with cosmetic (zoom-independent) pens over the whole scene."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(OVERLAY_Z)
        self.shapes: list[Shape] = []
        self._bounds = QRectF()

    def set_bounds(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._bounds = rect.adjusted(-1000, -1000, 1000, 1000)

    def set_shapes(self, shapes: list[Shape]) -> None:
        self.shapes = list(shapes)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
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
