"""Overlay colours tell the truth: semantic by class, objects shaded per instance, one object one colour."""

import colorsys
from pathlib import Path

import numpy as np
import pytest

from segview.core.categories import Category, CategorySet
from segview.core.fusion import FusionParams
from segview.core.layers import LayerSource, LayerView, detection_keys, layer_data, score_text
from segview.core.masks import CroppedMask
from segview.core.palette import class_color, instance_color
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.render import OverlayMode, colour_table, layer_style
from segview.core.workspace import ImageEntry, Workspace

CATS = CategorySet([Category(1, "ball"), Category(2, "box"), Category(3, "sky", isthing=False)])


def _entry(threshold: float = 0.3) -> tuple[ImageEntry, list[InstancePrediction]]:
    """Four detections of two classes; the 0.5 one is mostly under the 0.9 one, so fusion drops it."""
    detections = [
        InstancePrediction(1, 0.9, CroppedMask(0, 0, np.ones((6, 6), bool))),
        InstancePrediction(1, 0.5, CroppedMask(1, 1, np.ones((5, 5), bool))),  # dropped: hidden by 0.9
        InstancePrediction(2, 0.7, CroppedMask(10, 0, np.ones((6, 6), bool))),  # x=10, y=0
        InstancePrediction(1, 0.4, CroppedMask(0, 10, np.ones((6, 6), bool))),  # x=0, y=10
    ]
    semantic = np.full((20, 20), 3, np.uint16)
    prediction = Prediction(20, 20, detections, semantic)
    ws = Workspace([ImageEntry(Path("a.png"))], params=FusionParams(score_threshold=threshold, stuff_area_limit=1))
    ws.set_prediction(0, prediction, CATS)
    return ws.entries[0], detections


def _colour(data, y: int, x: int) -> tuple[int, int, int]:
    labels, lut = data
    return tuple(int(c) for c in lut[labels[y, x], :3])


def test_every_object_keeps_its_colour_in_the_instance_and_panoptic_views():
    entry, _ = _entry()
    instance = layer_data(entry, CATS, LayerSource.PREDICTION, LayerView.INSTANCE, 0.3)
    panoptic = layer_data(entry, CATS, LayerSource.PREDICTION, LayerView.PANOPTIC, 0.3)
    for y, x in ((2, 2), (12, 2), (2, 12)):  # the 0.9 ball, the 0.4 ball, the 0.7 box
        assert _colour(instance, y, x) == _colour(panoptic, y, x)
    assert len({_colour(panoptic, y, x) for y, x in ((2, 2), (2, 12), (12, 2))}) == 3


def test_semantic_is_the_class_colour_and_objects_are_shades_of_it():
    entry, _ = _entry()
    semantic = layer_data(entry, CATS, LayerSource.PREDICTION, LayerView.SEMANTIC, 0.3)
    panoptic = layer_data(entry, CATS, LayerSource.PREDICTION, LayerView.PANOPTIC, 0.3)
    assert _colour(semantic, 2, 2) == _colour(semantic, 12, 2) == class_color(3)  # the semantic model says sky
    assert _colour(panoptic, 18, 18) == class_color(3)  # stuff: its class colour in every view
    for y, x in ((2, 2), (12, 2)):  # the two balls
        shade = np.array(_colour(panoptic, y, x))
        assert np.abs(shade - np.array(class_color(1))).sum() >= 40  # visibly not the class colour
        assert _hue_distance(tuple(shade), class_color(1)) <= 0.06  # still the class's hue


def _hue_distance(a, b) -> float:
    ha = colorsys.rgb_to_hls(*(c / 255 for c in a))[0]
    hb = colorsys.rgb_to_hls(*(c / 255 for c in b))[0]
    return min(abs(ha - hb), 1 - abs(ha - hb))


def test_detection_keys_pair_fused_segments_with_their_detections():
    entry, detections = _entry()
    keys = detection_keys(entry.fused, entry.prediction, CATS, 0.3)
    ranked = entry.prediction.instances_above(0.3)
    assert ranked.index(detections[1]) + 1 not in keys.values()  # fusion dropped it: no segment
    for sid, rank in keys.items():
        segment = entry.fused.segments[sid]
        assert (segment.category_id, segment.score) == (ranked[rank - 1].category_id, ranked[rank - 1].score)
    assert len(keys) == 3


def test_shades_are_deterministic_and_differ_from_their_neighbours():
    for category in range(1, 25):
        base = class_color(category)
        shades = [instance_color(k, base) for k in range(1, 40)]
        assert shades == [instance_color(k, base) for k in range(1, 40)]
        assert all(a != b for a, b in zip(shades, shades[1:], strict=False))
        assert base not in shades


@pytest.mark.parametrize("score,threshold,shown", [(0.996, 1.0, "0.99"), (0.5, 0.5, "0.50"), (0.29, 0.29, "0.29"),
                                                  (0.4999, 0.5, "0.49"), (1.0, 1.0, "1.00")])
def test_score_label_agrees_with_the_threshold(score, threshold, shown):
    assert score_text(score) == shown
    assert (score >= threshold) == (float(score_text(score)) >= threshold)


def test_full_opacity_fills_with_the_pure_colour_and_keeps_outlines_opaque():
    lut = np.array([[0, 0, 0, 0], [10, 20, 30, 255]], np.uint8)
    for mode in (OverlayMode.FILL, OverlayMode.BOTH):
        opacity, fill_alpha = layer_style(mode, 1.0)
        fill = colour_table(lut, mode, fill_alpha, opacity).view(np.uint8).reshape(-1, 4)[2]  # label 1's fill
        assert tuple(fill) == (10, 20, 30, 255)
    opacity, fill_alpha = layer_style(OverlayMode.BOTH, 0.3)
    table = colour_table(lut, OverlayMode.BOTH, fill_alpha, opacity).view(np.uint8).reshape(-1, 4)
    assert table[2, 3] == round(0.3 * 255) and table[3, 3] == 255  # fill faded, outline opaque
    assert layer_style(OverlayMode.OUTLINE, 0.3) == (0.3, 255)  # outline mode: the setting fades outlines
