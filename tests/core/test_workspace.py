from pathlib import Path

import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.fusion import FusionParams
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.workspace import ImageEntry, ImageStatus, Workspace

CATS = CategorySet([Category(1, "ball"), Category(2, "sky", isthing=False)])


def _prediction():
    semantic = np.full((10, 10), 2, np.uint16)
    return Prediction(10, 10, [InstancePrediction(1, 0.9, CroppedMask(0, 0, np.ones((3, 3), bool))),
                               InstancePrediction(1, 0.4, CroppedMask(5, 5, np.ones((3, 3), bool)))], semantic)


def test_status_follows_prediction_and_annotation():
    ws = Workspace([ImageEntry(Path("a.png")), ImageEntry(Path("b.png"))])
    assert ws.entries[0].status is ImageStatus.NONE
    ws.set_prediction(0, _prediction(), CATS)
    assert ws.entries[0].status is ImageStatus.PREDICTED
    ws.entries[0].annotation = ws.entries[0].fused.copy()
    assert ws.entries[0].status is ImageStatus.CORRECTED


def test_threshold_change_refuses_cached_predictions():
    ws = Workspace([ImageEntry(Path("a.png"))])
    fused = ws.set_prediction(0, _prediction(), CATS)
    assert sum(1 for s in fused.segments.values() if s.category_id == 1) == 1
    ws.set_params(score_threshold=0.3, stuff_area_limit=1)
    things = [s for s in ws.entries[0].fused.segments.values() if s.category_id == 1]
    assert sorted(s.score for s in things) == [0.4, 0.9]
    fused = ws.entries[0].fused
    ws.clear_predictions(keep_as_reference="model A")
    assert ws.entries[0].fused is None and ws.entries[0].status is ImageStatus.NONE
    assert ws.entries[0].reference is fused and ws.reference_model == "model A"


def test_neighbours_nearest_first():
    ws = Workspace([ImageEntry(Path(f"{i}.png")) for i in range(5)])
    assert ws.neighbours(0, 2) == [1, 2]
    assert ws.neighbours(2, 1) == [3, 1]
    assert ws.index_of(Path("3.png")) == 3


def test_rejected_segments_stay_rejected_through_refusion():
    ws = Workspace([ImageEntry(Path("a.png"))], params=FusionParams(stuff_area_limit=1))
    fused = ws.set_prediction(0, _prediction(), CATS)
    ball = int(fused.segment_map[1, 1])
    ws.reject(0, ball)
    assert ws.entries[0].fused.segment_map[1, 1] == 0
    ws.set_params(score_threshold=0.3)  # the second ball appears; the rejected one stays out
    fused = ws.entries[0].fused
    assert fused.segment_map[1, 1] == 0 and fused.segment_map[6, 6] != 0
    ws.reject(0, int(fused.segment_map[9, 0]))  # stuff: rejected by class
    ws.set_params(score_threshold=0.5)
    assert ws.entries[0].fused.segment_map[9, 0] == 0
    ws.clear_predictions()
    assert not ws.entries[0].rejected

