import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.fusion import FusionParams, fuse
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.segments import Source

CATS = CategorySet(
    [
        Category(1, "ball"),
        Category(2, "box"),
        Category(3, "sky", isthing=False),
        Category(4, "grass", isthing=False),
    ]
)


def _box(x, y, w, h):
    return CroppedMask(x, y, np.ones((h, w), bool))


def _prediction(semantic=None):
    return Prediction(
        20,
        20,
        instances=[
            InstancePrediction(1, 0.9, _box(2, 2, 6, 6)),  # 36 px
            InstancePrediction(2, 0.8, _box(5, 5, 6, 6)),  # overlaps the ball by 9 px (25%)
            InstancePrediction(2, 0.7, _box(3, 3, 4, 4)),  # fully inside the ball: dropped
            InstancePrediction(1, 0.3, _box(14, 14, 4, 4)),  # below the default threshold
        ],
        semantic=semantic,
    )


def test_things_by_score_non_overlapping():
    ann = fuse(_prediction(), CATS)
    assert [s.category_id for s in ann.segments.values()] == [1, 2]
    areas = ann.areas()
    assert areas == {1: 36, 2: 27}
    assert all(s.source is Source.MODEL for s in ann.segments.values())
    assert ann.segments[1].score == 0.9


def test_threshold_change_refuses_without_model():
    pred = _prediction()
    low = fuse(pred, CATS, FusionParams(score_threshold=0.2))
    assert sorted(s.score for s in low.segments.values()) == [0.3, 0.8, 0.9]
    high = fuse(pred, CATS, FusionParams(score_threshold=0.85))
    assert [s.score for s in high.segments.values()] == [0.9]


def test_overlap_threshold():
    strict = fuse(_prediction(), CATS, FusionParams(overlap_threshold=0.2))
    assert [s.category_id for s in strict.segments.values()] == [1]
    lenient = fuse(_prediction(), CATS, FusionParams(overlap_threshold=1.0))
    # the fully covered box has no visible pixel left and is still dropped
    assert sorted(s.score for s in lenient.segments.values()) == [0.8, 0.9]


def test_stuff_fills_rest_and_small_stuff_dropped():
    semantic = np.full((20, 20), 3, np.uint16)
    semantic[15:, :] = 4  # 100 px of grass
    semantic[0, 0] = 1  # a thing class in the semantic map is not stuff: left void
    conf = np.full((20, 20), 0.5, np.float32)
    ann = fuse(_prediction(semantic), CATS, FusionParams(stuff_area_limit=50))
    by_cat = {s.category_id: sid for sid, s in ann.segments.items()}
    assert set(by_cat) == {1, 2, 3, 4}
    assert ann.segment_map[0, 0] == 0
    assert ann.areas()[by_cat[4]] == 100
    assert (ann.segment_map == 0).sum() == 1
    dropped = fuse(_prediction(semantic), CATS, FusionParams(stuff_area_limit=101))
    assert 4 not in {s.category_id for s in dropped.segments.values()}
    pred = _prediction(semantic)
    pred.semantic_confidence = conf
    assert fuse(pred, CATS, FusionParams(stuff_area_limit=50)).segments[by_cat[3]].score == 0.5


def test_instances_clipped_at_image_border():
    pred = Prediction(10, 10, instances=[InstancePrediction(1, 0.9, _box(7, 7, 6, 6))])
    ann = fuse(pred, CATS)
    assert ann.areas() == {1: 9}
