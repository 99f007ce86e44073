"""The canvas renders only what is visible, at screen resolution, with exact label colours."""

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from segview.core.render import OverlayMode
from segview.ui.canvas.canvas import ImageCanvas


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


def _label_canvas(qtbot, labels, lut, mode=OverlayMode.FILL, opacity=1.0):
    canvas = _canvas(qtbot, *labels.shape)
    canvas.set_layer("panoptic", labels, lut)
    canvas.set_layer_style("panoptic", mode, opacity)
    canvas.fit()  # 400×300 viewport over 730×530 pixels: a fractional scale
    return canvas


def _screen_labels(canvas, labels):
    """The label each viewport pixel should show by the layer's sampling grid (-1 off the image), the
    grabbed RGB pixels, and how far (in screen pixels) a sample is from the source pixel under its centre."""
    grab = canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    screen = np.array(grab.constBits(), np.uint8).reshape(grab.height(), grab.bytesPerLine())
    screen = screen[:, : grab.width() * 3].reshape(grab.height(), grab.width(), 3)
    view = canvas.layer("panoptic")._cache_view
    (u0, v0), (rows, cols) = view.origin, (view.grid.rows, view.grid.cols)
    under = np.full(screen.shape[:2], -1)
    under[v0 : v0 + len(rows), u0 : u0 + len(cols)] = labels[np.ix_(rows, cols)]
    t = canvas.viewportTransform()
    centre_cols = np.floor((np.arange(u0, u0 + len(cols)) + 0.5 - t.dx()) / t.m11())
    centre_rows = np.floor((np.arange(v0, v0 + len(rows)) + 0.5 - t.dy()) / t.m22())
    off_centre = max(np.abs(cols - centre_cols).max() * t.m11(), np.abs(rows - centre_rows).max() * t.m22())
    return under, screen, off_centre


def _random_labels(seed=3, shape=(530, 730)):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.repeat(rng.integers(0, 6, (53, 73)), 10, axis=0), 10, axis=1).astype(np.uint32)
    return labels[: shape[0], : shape[1]]


LUT6 = np.array([[0, 0, 0, 0], [255, 0, 0, 255], [0, 255, 0, 255], [255, 255, 0, 255],
                 [0, 255, 255, 255], [255, 0, 255, 255]], np.uint8)


def test_zoomed_out_every_screen_pixel_shows_a_label_next_to_its_centre(qtbot):
    labels = _random_labels()
    canvas = _label_canvas(qtbot, labels, LUT6)
    assert 0.4 < canvas.scale_factor() < 0.6
    under, screen, off_centre = _screen_labels(canvas, labels)
    shown = under > 0
    assert shown.sum() > 50_000 and off_centre <= 1  # at most half a pixel, plus a source pixel's rounding
    assert np.array_equal(screen[shown], LUT6[under[shown], :3])  # exact: no blending, no shift
    assert (screen[under == 0] == (0, 0, 200)).all()  # void shows the image


def test_an_edit_repaints_exactly_what_a_full_render_shows(qtbot):
    labels = _random_labels()
    canvas = _label_canvas(qtbot, labels, LUT6, OverlayMode.BOTH)
    canvas.viewport().grab()
    labels[200:260, 300:377] = 5  # an edit in place, then only its box is re-rendered
    canvas.layer("panoptic").changed_region(200, 300, 60, 77)
    canvas.viewport().grab()
    patched = canvas.layer("panoptic")._cache_pixels.copy()
    canvas.set_layer("panoptic", labels.copy(), LUT6)
    canvas.viewport().grab()
    assert np.array_equal(patched, canvas.layer("panoptic")._cache_pixels)


def test_layer_opacity_blends_the_colour_over_the_image(qtbot):
    labels = np.ones((530, 730), np.uint32)
    canvas = _label_canvas(qtbot, labels, LUT6, opacity=0.25)
    red, green, blue = _colour_at(canvas, 300, 300)
    assert abs(red - 64) <= 1 and green == 0 and abs(blue - 150) <= 1  # 0.25 red over 0.75 of (0, 0, 200)


def test_at_one_to_one_the_image_is_shown_pixel_for_pixel_even_half_a_pixel_off(qtbot):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QGraphicsScene

    from segview.ui.canvas.array_items import ImageItem

    image = np.random.default_rng(4).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    item = ImageItem()
    item.set_image(image)
    scene = QGraphicsScene()
    scene.addItem(item)
    target = QImage(160, 120, QImage.Format.Format_RGB888)
    painter = QPainter(target)
    scene.render(painter, QRectF(0, 0, 160, 120), QRectF(0.5, 0, 160, 120))  # 1:1, shifted by half a pixel
    painter.end()
    shown = np.array(target.constBits(), np.uint8).reshape(120, target.bytesPerLine())[:, : 160 * 3]
    shown = shown.reshape(120, 160, 3)
    # Each screen pixel shows one source pixel (its centre's nearest), never a blend of two.
    assert np.array_equal(shown[:, 1:159], image[:, 1:159]) or np.array_equal(shown[:, 1:159], image[:, 2:160])


def test_a_canvas_inside_a_window_draws_where_it_sits(qtbot):
    # Painted as part of its window, the canvas is offset in the window's backing store; a screen-pixel
    # blit must not add that offset twice (a viewport grabbed alone would not show it).
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    window = QWidget()
    layout = QVBoxLayout(window)
    layout.setContentsMargins(37, 23, 5, 5)
    canvas = ImageCanvas()
    layout.addWidget(canvas)
    window.resize(437, 323)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    labels = _random_labels()
    canvas.set_image(np.full((*labels.shape, 3), 90, np.uint8))
    canvas.set_layer("panoptic", labels, LUT6)
    canvas.fit()
    assert canvas.scale_factor() < 1
    alone = canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    whole = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    origin = canvas.viewport().mapTo(window, QPoint(0, 0))
    placed = whole.copy(origin.x(), origin.y(), alone.width(), alone.height())
    assert placed == alone
