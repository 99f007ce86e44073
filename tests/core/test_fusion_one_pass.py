"""The one-pass stuff fill gives what the per-class implementation it replaced gave (kept here as the reference)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from segview.core import fusion
from segview.core.categories import Category, CategorySet
from segview.core.fusion import FusionParams, fuse
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.segments import VOID, Annotation, Segment, Source


def _reference_fuse(prediction: Prediction, categories: CategorySet, params: FusionParams) -> Annotation:
    """segview.core.fusion.fuse as it was before the one-pass stuff fill (several passes per stuff class)."""
    ann = Annotation(prediction.height, prediction.width)
    for inst in prediction.instances_above(params.score_threshold):
        slices, region = inst.mask.clipped(ann.height, ann.width)
        area = int(np.count_nonzero(region))
        if area == 0:
            continue
        free = region & (ann.segment_map[slices] == VOID)
        visible = int(np.count_nonzero(free))
        if visible == 0 or (area - visible) / area > params.overlap_threshold:
            continue
        sid = ann.next_id()
        ann.segment_map[slices][free] = sid
        ann.segments[sid] = Segment(inst.category_id, score=float(inst.score), source=Source.MODEL)
    if prediction.semantic is None:
        return ann
    semantic = prediction.semantic
    free = ann.segment_map == VOID
    counts = np.bincount(semantic[free].ravel(), minlength=1)
    confidence = prediction.semantic_confidence
    for category_id in np.flatnonzero(counts):
        category = categories.get(int(category_id))
        if category_id == VOID or category is None or category.isthing:
            continue
        if counts[category_id] < params.stuff_area_limit:
            continue
        mask = free & (semantic == category_id)
        score = float(confidence[mask].mean()) if confidence is not None else None
        sid = ann.next_id()
        ann.segment_map[mask] = sid
        ann.segments[sid] = Segment(int(category_id), score=score, source=Source.MODEL)
    return ann


def _assert_same(new: Annotation, old: Annotation, confidence: np.ndarray | None) -> None:
    assert np.array_equal(new.segment_map, old.segment_map)
    assert new.segment_map.dtype == old.segment_map.dtype
    assert new.segments.keys() == old.segments.keys()
    # A mean summed in another order may differ in the confidence's last bits (a few ulps: float16 ~1e-3;
    # float64 showed 1.75 ulp on a 15x24 map).
    ulp = 8 * float(np.finfo(confidence.dtype).eps) if confidence is not None else 0.0
    for sid, segment in old.segments.items():
        other = new.segments[sid]
        assert (other.category_id, other.iscrowd, other.source) == (segment.category_id, segment.iscrowd,
                                                                    segment.source)
        if segment.score is None:
            assert other.score is None
        else:
            assert abs(other.score - segment.score) <= ulp * max(1.0, abs(segment.score)), (sid, other, segment)


def _blocky(rng: np.random.Generator, height: int, width: int, top: int, block: int, dtype) -> np.ndarray:
    small = rng.integers(0, top + 1, (height // block + 1, width // block + 1))
    return np.kron(small, np.ones((block, block), dtype=np.int64))[:height, :width].astype(dtype)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.tuples(st.integers(1, 70), st.integers(1, 70)),
    classes=st.sampled_from([3, 19, 254, 300]),  # 254: the largest a byte key takes; 300: the wide path
    block=st.integers(1, 16),
    conf_dtype=st.sampled_from([None, np.float16, np.float32, np.float64]),
    instances=st.integers(0, 12),
    params=st.builds(FusionParams, st.floats(0, 1), st.floats(0, 1), st.integers(0, 200)),
    band_pixels=st.sampled_from([1, 50, 333, 1 << 19]),  # the row bands the run totals are taken in
)
def test_one_pass_fill_matches_the_per_class_reference(seed, size, classes, block, conf_dtype, instances, params,
                                                       band_pixels):
    rng = np.random.default_rng(seed)
    height, width = size
    categories = CategorySet(Category(i, f"c{i}", isthing=bool(i % 3 == 1)) for i in range(1, classes + 1)
                             if i % 7)  # some ids of the map have no category
    semantic = _blocky(rng, height, width, classes, block, np.uint16 if classes > 254 else np.uint8)
    confidence = None if conf_dtype is None else rng.random((height, width)).astype(conf_dtype)
    found = []
    for _ in range(instances):
        h, w = int(rng.integers(1, height + 5)), int(rng.integers(1, width + 5))
        x, y = int(rng.integers(-3, width)), int(rng.integers(-3, height))
        mask = rng.random((h, w)) < 0.7
        found.append(InstancePrediction(int(rng.integers(1, classes + 1)), float(rng.random()), CroppedMask(x, y, mask)))
    prediction = Prediction(height, width, found, semantic, confidence)
    before = fusion._BAND_PIXELS
    fusion._BAND_PIXELS = band_pixels
    try:
        fused = fuse(prediction, categories, params)
    finally:
        fusion._BAND_PIXELS = before
    _assert_same(fused, _reference_fuse(prediction, categories, params), confidence)


def test_a_4k_frame_with_long_runs_gives_the_reference_scores():
    """Long runs of one class (a sky over the whole top): the float32 sums stay within a row."""
    rng = np.random.default_rng(1)
    categories = CategorySet([Category(1, "car"), Category(2, "sky", isthing=False), Category(3, "road", isthing=False)])
    semantic = np.full((2160, 3840), 2, np.uint16)
    semantic[1200:] = 3
    confidence = rng.random(semantic.shape).astype(np.float16)
    cars = [InstancePrediction(1, 0.9, CroppedMask(100 * i, 900, np.ones((300, 80), bool))) for i in range(30)]
    prediction = Prediction(2160, 3840, cars, semantic, confidence)
    params = FusionParams()
    _assert_same(fuse(prediction, categories, params), _reference_fuse(prediction, categories, params), confidence)
