import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segview.core.masks import CroppedMask, rle_area, rle_bbox, rle_decode, rle_encode
from segview.core.segments import Annotation, Segment, Source


def test_add_paints_and_overwrite_false_keeps_existing():
    ann = Annotation(6, 6)
    a = np.zeros((6, 6), bool)
    a[1:4, 1:4] = True
    first = ann.add(a, Segment(1))
    second = ann.add(np.ones((6, 6), bool), Segment(2), overwrite=False)
    assert (first, second) == (1, 2)
    assert ann.areas() == {1: 9, 2: 27}
    third = ann.add(CroppedMask(4, 4, np.ones((4, 4), bool)), Segment(3, source=Source.MODEL))
    assert ann.areas()[third] == 4  # clipped to the image
    assert ann.areas()[2] == 23


def test_ids_grow_to_uint32_when_needed():
    ann = Annotation(2, 2)
    ann.add(np.ones((2, 2), bool), Segment(1), segment_id=70000)
    assert ann.segment_map.dtype == np.uint32 and ann.segment_map[0, 0] == 70000


def test_duplicate_or_void_id_refused():
    ann = Annotation(2, 2)
    ann.add(np.ones((2, 2), bool), Segment(1))
    with pytest.raises(ValueError):
        ann.add(np.ones((2, 2), bool), Segment(1), segment_id=1)
    with pytest.raises(ValueError):
        ann.add(np.ones((2, 2), bool), Segment(1), segment_id=0)


def test_remove_and_unknown_ids():
    ann = Annotation(3, 3)
    sid = ann.add(np.ones((3, 3), bool), Segment(1))
    ann.remove(sid)
    assert not ann.segment_map.any() and ann.segments == {}
    ann.segment_map[0, 0] = 9
    assert ann.unknown_ids() == {9}


def test_crops_match_masks():
    ann = Annotation(10, 10)
    m = np.zeros((10, 10), bool)
    m[2:5, 6:9] = True
    m[7, 1] = True
    sid = ann.add(m, Segment(1))
    crop = ann.crops()[sid]
    assert (crop.x, crop.y, crop.width, crop.height) == (1, 2, 8, 6)
    assert np.array_equal(crop.to_full(10, 10), m)
    assert crop.bbox_xywh() == (1.0, 2.0, 8.0, 6.0)


@settings(max_examples=60, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 30), st.integers(1, 30))))
def test_rle_round_trip_area_and_bbox(mask):
    rle = rle_encode(mask)
    assert isinstance(rle["counts"], str)
    assert np.array_equal(rle_decode(rle), mask)
    assert rle_area(rle) == mask.sum()
    if mask.any():
        assert rle_bbox(rle) == CroppedMask.from_full(mask).bbox_xywh()


def test_uncompressed_rle_decodes():
    mask = np.zeros((4, 3), bool)
    mask[1:3, 1] = True
    # column-major runs: 5 zeros, 2 ones, 5 zeros
    assert np.array_equal(rle_decode({"size": [4, 3], "counts": [5, 2, 5]}), mask)
