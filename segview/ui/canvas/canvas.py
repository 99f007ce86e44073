"""The image canvas: an image with label layers on top, smooth zoom to the cursor, pan, fit and 1:1."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from segview.core.render import OverlayMode
from segview.ui.canvas.array_items import ImageItem, ImagePyramid, LabelItem
from segview.ui.canvas.shapes import CanvasTool, Mods
from segview.ui.canvas.tool_overlay import ToolOverlay

TOOL_KEYS = {
    Qt.Key.Key_Escape: "escape",
    Qt.Key.Key_Return: "enter",
    Qt.Key.Key_Enter: "enter",
    Qt.Key.Key_Backspace: "backspace",
    Qt.Key.Key_Tab: "tab",
}

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 1 / 64, 64.0


def _digit(key: int) -> int:
    """1–9 for the digit keys, else 0."""
    value = int(key) - int(Qt.Key.Key_0)
    return value if 1 <= value <= 9 else 0


class ImageCanvas(QGraphicsView):
    """Shows one image and any number of named label layers; emits the hovered pixel."""

    hovered = Signal(int, int)  # image x, y; (-1, -1) outside the image
    view_changed = Signal()  # zoom or pan changed (compare views follow each other)
    digit_pressed = Signal(int)  # 1–9 while an editing tool is active

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
        self.tool: CanvasTool | None = None
        self.tool_overlay = ToolOverlay()
        self.scene().addItem(self.tool_overlay)
        self._space = False
        self._pan_from: QPointF | None = None
        self._pointer: QPoint | None = None  # where the mouse is over the viewport (None: elsewhere)

    # --- content -----------------------------------------------------------------------------------

    def set_image(self, rgb: np.ndarray | ImagePyramid | None) -> None:
        """Show a new image, or a preview pyramid of one (layers keep their settings; their data is
        replaced by the caller). The full image replacing its preview keeps the view."""
        size_changed = rgb is None or tuple(rgb.shape[:2]) != self.image_shape()
        self.image_item.set_image(rgb)
        if rgb is not None:
            self.scene().setSceneRect(self.image_item.boundingRect())
            self.tool_overlay.set_bounds(self.image_item.boundingRect())
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
        item.set_style(mode, fill_alpha, opacity)

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

    def set_tool(self, tool: CanvasTool | None) -> None:
        """Forward left-button and key events to ``tool`` (None or a panning tool: left-drag pans)."""
        if self.tool is not None and self.tool is not tool:
            self.tool.cancel()
        self.tool = tool
        editing = tool is not None and not tool.pans
        self.setDragMode(QGraphicsView.DragMode.NoDrag if editing else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if editing else Qt.CursorShape.OpenHandCursor)
        self.show_tool_preview()

    def show_tool_preview(self) -> None:
        self.tool_overlay.set_shapes([] if self.tool is None else self.tool.preview())

    def _editing(self) -> bool:
        return self.tool is not None and not self.tool.pans

    def _image_point(self, event: QMouseEvent) -> tuple[float, float, Mods]:
        point = self.mapToScene(event.position().toPoint())
        mods = event.modifiers()
        return point.x(), point.y(), Mods(
            shift=bool(mods & Qt.KeyboardModifier.ShiftModifier),
            ctrl=bool(mods & Qt.KeyboardModifier.ControlModifier),
            alt=bool(mods & Qt.KeyboardModifier.AltModifier),
        )

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position()
            event.accept()
        elif button == Qt.MouseButton.LeftButton and self._editing():
            self.setFocus()
            self.tool.press(*self._image_point(event))
            event.accept()
        elif button == Qt.MouseButton.RightButton and self._right_to_tool():
            self.setFocus()
            x, y, mods = self._image_point(event)
            self.tool.press(x, y, Mods(mods.shift, mods.ctrl, mods.alt, right=True))
            event.accept()
        else:
            super().mousePressEvent(event)

    def _right_to_tool(self) -> bool:
        return self._editing() and getattr(self.tool, "takes_right_button", False)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
        elif self._editing():
            pressed = bool(event.buttons() & Qt.MouseButton.LeftButton)
            x, y, mods = self._image_point(event)
            self.tool.move(x, y, mods, pressed)
        super().mouseMoveEvent(event)
        self._pointer = event.position().toPoint()
        self.rehover()

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._pointer = None
        self.hovered.emit(-1, -1)
        super().leaveEvent(event)

    def rehover(self) -> None:
        """Emit ``hovered`` for the pixel under the mouse again: the image or its layers changed under a
        mouse that did not move (the next image shown from the keyboard, a prediction arriving)."""
        if self._pointer is None:
            return
        point = self.mapToScene(self._pointer)
        h, w = self.image_shape()
        x, y = int(np.floor(point.x())), int(np.floor(point.y()))
        self.hovered.emit(x, y) if 0 <= x < w and 0 <= y < h else self.hovered.emit(-1, -1)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            event.accept()
        elif event.button() == Qt.MouseButton.LeftButton and self._editing():
            self.tool.release(*self._image_point(event))
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton and self._editing():
            self.tool.double_click(*self._image_point(event))
            event.accept()
        else:
            super().mouseDoubleClickEvent(event)

    def event(self, event: QEvent) -> bool:
        # Keys the active tool wants (Escape, Enter, digits) win over the window's shortcuts.
        if event.type() == QEvent.Type.ShortcutOverride and self._editing():
            key = event.key()
            if (key in TOOL_KEYS and self.tool.busy()) or (_digit(key) and not event.modifiers()):
                event.accept()
                return True
        if event.type() == QEvent.Type.ContextMenu and self._right_to_tool():
            event.accept()  # the right button was the tool's
            return True
        if (event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab and self._editing()
                and self.tool.key("tab")):
            return True  # Tab is the tool's (cycling candidates), not a focus change
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
        elif self._editing() and _digit(key) and not event.modifiers():
            self.digit_pressed.emit(_digit(key))
        elif not (self.tool is not None and key in TOOL_KEYS and self._tool_key(TOOL_KEYS[key], event)):
            super().keyPressEvent(event)

    def _tool_key(self, name: str, event: QKeyEvent) -> bool:
        """Give the tool the key, as "shift+enter" or "alt+enter" with a modifier (then plain, if it did not
        take that)."""
        mods = event.modifiers()
        prefix = "shift+" if mods & Qt.KeyboardModifier.ShiftModifier else "alt+" if mods & Qt.KeyboardModifier.AltModifier else ""
        return bool(prefix and self.tool.key(prefix + name)) or self.tool.key(name)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
        super().keyReleaseEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._fit_on_resize:
            self.fit()
