"""Overlays that tell the truth, read off the screen: class colours in the semantic view, shades per
object in the instance and panoptic views (the same object, the same colour, in the main view and in
every compare pane), pure colours at 100 % fill, boxes and scores in the compare view's instance pane."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsRectItem

from segview.core.categories import Category, CategorySet
from segview.core.layers import LayerSource, LayerView, layer_name
from segview.core.masks import CroppedMask
from segview.core.palette import instance_color
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.render import OverlayMode

CATS = CategorySet([Category(1, "ball", color=(230, 25, 75)), Category(2, "box", color=(0, 130, 200)),
                    Category(3, "sky", isthing=False, color=(255, 225, 25))])
H, W = 120, 160
GREY = 128
BALL_A, BALL_B, BOX = (30, 30), (30, 100), (90, 40)  # (y, x) inside each detection


@pytest.fixture
def grey_folder(tmp_path):
    folder = tmp_path / "grey"
    folder.mkdir()
    Image.fromarray(np.full((H, W, 3), GREY, np.uint8)).save(folder / "grey.png")
    return folder


def _prediction(score_a: float = 0.9) -> Prediction:
    """Two balls and a box on sky."""
    detections = [
        InstancePrediction(1, score_a, CroppedMask(10, 10, np.ones((40, 40), bool))),
        InstancePrediction(1, 0.6, CroppedMask(80, 10, np.ones((40, 40), bool))),
        InstancePrediction(2, 0.7, CroppedMask(20, 70, np.ones((40, 40), bool))),
    ]
    return Prediction(H, W, detections, np.full((H, W), 3, np.uint16))


def _show(qtbot, window, folder, prediction: Prediction) -> None:
    window.open_path(folder)
    window.model_panel.threshold.setValue(50)
    window.workspace.set_prediction(window.current, prediction, CATS)
    window.refresh_layers()
    window.layers_panel.mode.setCurrentIndex(list(OverlayMode).index(OverlayMode.FILL))


def _only(window, name: str, opacity: int = 100) -> None:
    for other, box in window.layers_panel.visible.items():
        box.setChecked(other == name)
    window.layers_panel.opacity[name].setValue(opacity)


def _screen(canvas, y: int, x: int) -> tuple[int, int, int]:
    grab = canvas.viewport().grab().toImage()
    point = canvas.viewportTransform().map(QPointF(x + 0.5, y + 0.5))
    c = grab.pixelColor(int(point.x()), int(point.y()))
    return c.red(), c.green(), c.blue()


def _rank_shade(rank: int, category_id: int) -> tuple[int, int, int]:
    return instance_color(rank, CATS.color_of(category_id))


def test_each_view_has_its_colours_and_full_opacity_shows_them_pure(qtbot, window, grey_folder):
    _show(qtbot, window, grey_folder, _prediction())
    canvas = window.canvas
    _only(window, layer_name(LayerSource.PREDICTION, LayerView.SEMANTIC))
    assert _screen(canvas, *BALL_A) == _screen(canvas, *BOX) == CATS.color_of(3)  # the semantic model: all sky
    _only(window, layer_name(LayerSource.PREDICTION, LayerView.INSTANCE))
    # Ranks: 0.9 ball 1, 0.7 box 2, 0.6 ball 3; every object its class colour's own shade, at 100 % pure.
    assert _screen(canvas, *BALL_A) == _rank_shade(1, 1)
    assert _screen(canvas, *BOX) == _rank_shade(2, 2)
    assert _screen(canvas, *BALL_B) == _rank_shade(3, 1)
    assert len({_rank_shade(1, 1), _rank_shade(3, 1), CATS.color_of(1)}) == 3
    assert _screen(canvas, 110, 150) == (GREY, GREY, GREY)  # no instance there
    _only(window, layer_name(LayerSource.PREDICTION, LayerView.PANOPTIC))
    for point in (BALL_A, BALL_B, BOX):
        assert _screen(canvas, *point) != CATS.color_of(1) and _screen(canvas, *point) != CATS.color_of(2)
    assert _screen(canvas, *BALL_A) == _rank_shade(1, 1) and _screen(canvas, *BALL_B) == _rank_shade(3, 1)
    assert _screen(canvas, 110, 150) == CATS.color_of(3)  # stuff: its class colour


def test_half_opacity_blends_and_zero_hides(qtbot, window, grey_folder):
    _show(qtbot, window, grey_folder, _prediction())
    name = layer_name(LayerSource.PREDICTION, LayerView.SEMANTIC)
    _only(window, name, opacity=50)
    r, g, b = _screen(window.canvas, *BALL_A)
    expected = [round((c * 128 + GREY * 127) / 255) for c in CATS.color_of(3)]
    assert max(abs(r - expected[0]), abs(g - expected[1]), abs(b - expected[2])) <= 2
    window.layers_panel.opacity[name].setValue(0)
    assert _screen(window.canvas, *BALL_A) == (GREY, GREY, GREY)


def _open_compare(qtbot, window):
    window.actions_.compare.trigger()
    panel = window.compare
    qtbot.waitUntil(lambda: panel.view.canvases[2].layer("labels").labels is not None)
    return panel


def test_one_object_has_one_colour_in_the_instance_and_panoptic_panes(qtbot, window, grey_folder):
    _show(qtbot, window, grey_folder, _prediction())
    panel = _open_compare(qtbot, window)
    semantic, instance, panoptic = panel.view.canvases[1:]
    colours = {}
    for point in (BALL_A, BALL_B, BOX):
        assert _screen(instance, *point) == _screen(panoptic, *point)
        colours[point] = _screen(panoptic, *point)
    assert len(set(colours.values())) == 3
    assert _screen(semantic, *BALL_A) == _screen(semantic, *BOX) != colours[BALL_A]
    # The main view's panoptic layer paints the same object in the same colour as the panes.
    _only(window, layer_name(LayerSource.PREDICTION, LayerView.PANOPTIC))
    window.actions_.compare.trigger()
    assert _screen(window.canvas, *BALL_A) == _rank_shade(1, 1)


def _box_items(panel):
    return [i for i in panel.view.canvases[2].scene().items() if isinstance(i, QGraphicsRectItem) and i.childItems()]


def test_the_instance_pane_shows_boxes_and_scores_while_b_is_on(qtbot, window, grey_folder):
    _show(qtbot, window, grey_folder, _prediction())
    window.layers_panel.boxes.setChecked(True)
    panel = _open_compare(qtbot, window)
    tags = _box_items(panel)
    assert sorted(t.childItems()[0].text() for t in tags) == ["ball 0.60", "ball 0.90", "box 0.70"]
    assert all(t.isVisible() for t in tags)
    window.actions_.boxes.trigger()  # B
    assert not any(t.isVisible() for t in _box_items(panel))
    window.actions_.boxes.trigger()
    assert all(t.isVisible() for t in _box_items(panel))
    for other in (1, 3):  # the other panes draw no boxes
        assert not [i for i in panel.view.canvases[other].scene().items() if isinstance(i, QGraphicsRectItem)]


def test_a_score_shown_as_kept_is_kept_by_the_threshold(qtbot, window, grey_folder):
    _show(qtbot, window, grey_folder, _prediction(score_a=0.996))
    panel = _open_compare(qtbot, window)
    assert "ball 0.99" in [t.childItems()[0].text() for t in _box_items(panel)]  # not "1.00"
    with qtbot.waitSignal(panel.filled):
        window.model_panel.threshold.setValue(99)
    assert [t.childItems()[0].text() for t in _box_items(panel)] == ["ball 0.99"]
    with qtbot.waitSignal(panel.filled):
        window.model_panel.threshold.setValue(100)  # 0.996 < 1.00: gone, as its label said
    assert _box_items(panel) == []
    assert not window._box_items


def test_compare_panes_blend_their_fill_over_the_image_from_the_start(qtbot, window, grey_folder):
    _show(qtbot, window, grey_folder, _prediction())
    panel = _open_compare(qtbot, window)
    shown = _screen(panel.view.canvases[1], *BALL_A)
    expected = [round((c * 153 + GREY * 102) / 255) for c in CATS.color_of(3)]  # 60 % fill
    assert max(abs(a - b) for a, b in zip(shown, expected, strict=True)) <= 2
