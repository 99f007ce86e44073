"""The compare view: four panes with the right colours, zoom and pan in sync, disagreement in magenta."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent

from segview.core.diff import disagreement
from segview.core.render import OverlayMode, boundaries
from segview.ui.compare.view import DEFAULT_TITLES, DIFF_FILL_ALPHA, CompareView

H, W = 30, 40
GREY = (90, 90, 90)
LUT = np.array([[0, 0, 0, 0], [230, 25, 75, 255], [0, 130, 200, 255], [60, 180, 75, 255]], np.uint8)
MAGENTA = np.array([255, 0, 255])


def _maps():
    """Two semantic maps that disagree on 82 pixels (plus a void patch that does not count)."""
    a = np.ones((H, W), np.uint16)
    a[:, 20:] = 2
    b = a.copy()
    b[5:13, 4:14] = 2  # 80 pixels
    b[20, 30:32] = 1  # 2 pixels
    b[25:28, 0:3] = 0  # void: ignored
    return a, b


@pytest.fixture
def view(qtbot):
    view = CompareView()
    view.resize(640, 520)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.set_image(np.full((H, W, 3), GREY, np.uint8))
    a, b = _maps()
    view.set_pane(1, "Prediction", a, LUT)
    view.set_pane(2, "Annotation", b, LUT)
    instance = np.zeros((H, W), np.uint16)
    instance[10:20, 25:35] = 3
    view.set_pane(3, "Panoptic", instance, LUT)
    view.fit()
    return view


def _screen(canvas) -> np.ndarray:
    """(H, W, 3) screen colours over every image pixel's centre."""
    grab = canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(grab.constBits(), np.uint8).reshape(grab.height(), grab.bytesPerLine())
    pixels = rows[:, : grab.width() * 3].reshape(grab.height(), grab.width(), 3)
    t = canvas.viewportTransform()
    xs = np.floor(t.m11() * (np.arange(W) + 0.5) + t.dx()).astype(int)
    ys = np.floor(t.m22() * (np.arange(H) + 0.5) + t.dy()).astype(int)
    return pixels[ys[:, None], xs[None, :]].astype(int)


def _centre(canvas) -> QPointF:
    return canvas.view_state()[1]


def test_titles_and_pane_colours(view, qtbot):
    fresh = CompareView()
    qtbot.addWidget(fresh)
    assert [fresh.title(i) for i in range(4)] == list(DEFAULT_TITLES)
    assert [view.title(i) for i in range(4)] == ["Image", "Prediction", "Annotation", "Panoptic"]
    a, b = _maps()
    image, pred, ann, pan = (_screen(c) for c in view.canvases)
    assert (image == GREY).all()  # the image pane shows no labels
    assert (pred == LUT[a][..., :3]).all()
    expected = np.where(b[..., None] > 0, LUT[b][..., :3], GREY)
    assert (ann == expected).all()
    assert tuple(pan[15, 30]) == tuple(LUT[3, :3]) and tuple(pan[2, 2]) == GREY
    with pytest.raises(ValueError):
        view.set_pane(0, "Image", a, LUT)


def test_style_applies_to_label_panes(view):
    view.set_style(OverlayMode.OUTLINE, 1.0)
    pan = _screen(view.canvases[3])
    assert tuple(pan[10, 30]) == tuple(LUT[3, :3])  # top edge of the square
    assert tuple(pan[15, 30]) == GREY  # inside: outline only
    view.set_style(OverlayMode.FILL, 0.0)
    assert (_screen(view.canvases[1]) == GREY).all()


def test_zoom_in_one_pane_zooms_all(view):
    fitted = [c.scale_factor() for c in view.canvases]
    assert max(fitted) - min(fitted) < 1e-9
    view.canvases[1].zoom_by(2.0)
    for canvas in view.canvases:
        assert canvas.scale_factor() == pytest.approx(2 * fitted[0])
        assert canvas.transform() == view.canvases[1].transform()
    pos = QPointF(100, 80)
    source = view.canvases[3]
    event = QWheelEvent(pos, source.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    source.wheelEvent(event)
    assert source.scale_factor() == pytest.approx(2 * 1.25**2 * fitted[0])
    for canvas in view.canvases:
        assert canvas.transform() == source.transform()


def test_pan_in_one_pane_pans_all(view):
    view.canvases[0].zoom_by(4.0)
    scale = view.canvases[0].scale_factor()
    before = _centre(view.canvases[2])
    bar = view.canvases[2].horizontalScrollBar()
    bar.setValue(bar.value() + 30)
    view.canvases[2].verticalScrollBar().setValue(view.canvases[2].verticalScrollBar().minimum())
    moved = _centre(view.canvases[2])
    assert moved.x() - before.x() == pytest.approx(30 / scale, abs=1 / scale)
    for canvas in view.canvases:
        assert _centre(canvas).x() == pytest.approx(moved.x(), abs=1 / scale)
        assert _centre(canvas).y() == pytest.approx(moved.y(), abs=1 / scale)
        assert canvas.scale_factor() == scale
    view.fit()
    assert all(c.scale_factor() < scale for c in view.canvases)


def test_fitted_panes_keep_fitting_when_resized(view, qtbot):
    view.canvases[2].zoom_by(3.0)
    view.canvases[2].fit()  # fitting one pane fits them all
    fitted = view.canvases[0].scale_factor()
    assert all(c.scale_factor() == pytest.approx(fitted) for c in view.canvases)
    for size, factor in (((900, 740), 1.2), ((420, 340), 0.8), ((640, 520), 1.0)):
        view.resize(*size)

        def refitted(factor=factor):
            scales = [c.scale_factor() for c in view.canvases]
            assert max(scales) - min(scales) < 1e-9
            assert scales[0] > fitted * factor if factor > 1 else scales[0] < fitted * factor or factor == 1

        qtbot.waitUntil(refitted, timeout=2000)
    assert view.canvases[0].scale_factor() == pytest.approx(fitted)


def test_diff_is_magenta_exactly_where_maps_disagree(view):
    a, b = _maps()
    mask = disagreement(a, b)
    view.set_diff(mask, "Prediction vs annotation")
    assert view.caption.isVisible()
    assert view.caption.text() == "Prediction vs annotation: 6.8 % of pixels disagree"
    edge = boundaries(mask.astype(np.uint8))
    alpha = DIFF_FILL_ALPHA / 255
    for canvas, under in zip(view.canvases[:2], (np.full((H, W, 3), GREY), LUT[a][..., :3]), strict=True):
        under = under.astype(int)
        blend = np.rint(MAGENTA * alpha + under * (1 - alpha))
        expected = np.where(mask[..., None], np.where(edge[..., None], MAGENTA, blend), under)
        assert np.abs(_screen(canvas) - expected).max() <= 3
    assert mask[20, 30] and (_screen(view.canvases[3])[20, 30] == MAGENTA).all()  # a lone pixel: all edge
    view.set_diff(None, "")
    assert not view.caption.isVisible()
    assert (_screen(view.canvases[0]) == GREY).all()


def test_hover_in_any_pane_is_reported(view, qtbot):
    canvas = view.canvases[2]
    qtbot.wait(1)
    with qtbot.waitSignal(view.hovered, timeout=1000) as blocker:
        qtbot.mouseMove(canvas.viewport(), canvas.mapFromScene(QPointF(7.5, 12.5)))
    assert blocker.args == [7, 12]
