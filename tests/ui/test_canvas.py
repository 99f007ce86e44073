"""The canvas renders only what is visible, at screen resolution, with exact label colours."""

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from segview.core.render import OverlayMode
from segview.ui.canvas import ImageCanvas


def _canvas(qtbot, h=200, w=300):
    canvas = ImageCanvas()
    canvas.resize(400, 300)
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitExposed(canvas)
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :, 2] = 200
    canvas.set_image(image)
    return canvas


def _colour_at(canvas, x, y):
    """Screen colour over image pixel (x, y)."""
    grab = canvas.viewport().grab().toImage()
    point = canvas.viewportTransform().map(QPointF(x + 0.5, y + 0.5))
    c = grab.pixelColor(int(point.x()), int(point.y()))
    return c.red(), c.green(), c.blue()


def test_layer_colours_and_toggle(qtbot):
    canvas = _canvas(qtbot)
    labels = np.zeros((200, 300), np.uint16)
    labels[50:150, 100:200] = 1
    lut = np.array([[0, 0, 0, 0], [255, 0, 0, 255]], np.uint8)
    canvas.set_layer("panoptic", labels, lut)
    assert _colour_at(canvas, 150, 100) == (255, 0, 0)
    assert _colour_at(canvas, 20, 20) == (0, 0, 200)
    canvas.layer("panoptic").setVisible(False)
    assert _colour_at(canvas, 150, 100) == (0, 0, 200)
    canvas.layer("panoptic").setVisible(True)
    canvas.set_layer_style("panoptic", OverlayMode.OUTLINE, 1.0)
    canvas.actual_size()
    canvas.centerOn(150, 100)
    assert _colour_at(canvas, 150, 100) == (0, 0, 200)  # inside: no fill in outline mode
    assert _colour_at(canvas, 100, 100) == (255, 0, 0)  # the left edge


def test_zoom_fit_and_actual_size(qtbot):
    canvas = _canvas(qtbot)
    fitted = canvas.scale_factor()
    assert 0 < fitted < 2
    canvas.zoom_by(2.0)
    assert abs(canvas.scale_factor() - 2 * fitted) < 1e-6
    canvas.actual_size()
    assert canvas.scale_factor() == 1.0
    canvas.fit()
    assert abs(canvas.scale_factor() - fitted) < 1e-6


def test_wheel_zooms_and_hover_reports_pixels(qtbot):
    canvas = _canvas(qtbot)
    before = canvas.scale_factor()
    qtbot.wait(1)
    with qtbot.waitSignal(canvas.hovered, timeout=1000) as blocker:
        qtbot.mouseMove(canvas.viewport(), canvas.mapFromScene(QPointF(10.5, 20.5)))
    assert blocker.args == [10, 20]
    from PySide6.QtGui import QWheelEvent

    pos = QPointF(200, 150)
    event = QWheelEvent(pos, canvas.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(event)
    assert canvas.scale_factor() > before


def test_huge_label_map_renders_at_screen_resolution(qtbot):
    canvas = _canvas(qtbot, 10000, 10000)
    labels = np.zeros((10000, 10000), np.uint16)
    labels[:, 5000:] = 1
    lut = np.array([[0, 0, 0, 0], [0, 255, 0, 255]], np.uint8)
    canvas.set_layer("semantic", labels, lut)
    canvas.fit()
    canvas.viewport().grab()
    rendered = canvas.layer("semantic")._cache_pixels
    assert rendered.shape[0] * rendered.shape[1] < 1_000_000  # not 10^8 pixels
    assert _colour_at(canvas, 7500, 5000) == (0, 255, 0)
    assert _colour_at(canvas, 2500, 5000) == (0, 0, 200)
