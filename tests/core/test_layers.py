from pathlib import Path

import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.fusion import FusionParams
from segview.core.layers import LayerSource, LayerView, describe_pixel, instance_map, layer_data
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.workspace import ImageEntry, Workspace

CATS = CategorySet([Category(1, "ball"), Category(2, "sky", isthing=False)])


def _workspace():
    semantic = np.full((10, 10), 2, np.uint16)
    semantic[0:4, 0:4] = 1
    pred = Prediction(
        10,
        10,
        [
            InstancePrediction(1, 0.9, CroppedMask(0, 0, np.ones((4, 4), bool))),
            InstancePrediction(1, 0.6, CroppedMask(2, 2, np.ones((4, 4), bool))),
            InstancePrediction(1, 0.2, CroppedMask(6, 6, np.ones((2, 2), bool))),
        ],
        semantic,
        np.full((10, 10), 0.75, np.float16),
    )
    ws = Workspace([ImageEntry(Path("a.png"))], params=FusionParams(stuff_area_limit=1))
    ws.set_prediction(0, pred, CATS)
    return ws


def test_instance_map_paints_higher_scores_on_top():
    ws = _workspace()
    labels, lut, kept = instance_map(ws.entries[0].prediction, CATS, 0.5)
    assert [k.score for k in kept] == [0.9, 0.6]  # label 1 is the best detection
    assert labels[3, 3] == 1 and labels[5, 5] == 2 and labels[8, 8] == 0
    assert lut[1, 3] == 255 and tuple(lut[1, :3]) != tuple(lut[2, :3])


def test_the_detections_label_map_is_painted_once_per_prediction_and_threshold():
    ws = _workspace()
    prediction = ws.entries[0].prediction
    labels, _, _ = instance_map(prediction, CATS, 0.5)
    recoloured = CategorySet([Category(1, "ball", color=(1, 2, 3)), Category(2, "sky", isthing=False)])
    again, lut, _ = instance_map(prediction, recoloured, 0.5)
    assert again is labels and not labels.flags.writeable  # reused, and nobody may paint into it
    assert tuple(lut[1, :3]) != tuple(instance_map(prediction, CATS, 0.5)[1][1, :3])  # colours are not kept
    lower, _, kept = instance_map(prediction, CATS, 0.1)
    assert lower is not labels and len(kept) == 3 and lower[7, 7] == 3
    copy = Prediction(10, 10, list(prediction.instances[:1]), prediction.semantic)
    assert instance_map(copy, CATS, 0.1)[0][5, 5] == 0  # another prediction: painted anew


def test_layers_of_each_view_differ_as_expected():
    ws = _workspace()
    entry = ws.entries[0]
    semantic, _ = layer_data(entry, CATS, LayerSource.PREDICTION, LayerView.SEMANTIC, 0.5)
    assert semantic[0, 0] == 1 and semantic[9, 9] == 2
    panoptic, lut = layer_data(entry, CATS, LayerSource.PREDICTION, LayerView.PANOPTIC, 0.5)
    assert set(np.unique(panoptic)) == {1, 2, 3}  # two balls, then sky fills the rest
    assert layer_data(entry, CATS, LayerSource.ANNOTATION, LayerView.PANOPTIC, 0.5) is None
    entry.annotation = entry.fused.copy()
    inst, _ = layer_data(entry, CATS, LayerSource.ANNOTATION, LayerView.INSTANCE, 0.5)
    assert inst[9, 9] == 0 and inst[0, 0] != 0


def test_describe_pixel():
    ws = _workspace()
    text = describe_pixel(ws.entries[0], CATS, 3, 3, 0.5)
    assert (
        "semantic: ball (0.75)" in text
        and "instance: ball 0.90 (+1)" in text
        and "panoptic: #1 ball 0.90" in text
    )
