"""Disagreement maps: per pixel by category, void ignored on request, panoptic ids compared by category."""

import numpy as np
import pytest

from segview.core.diff import (
    annotation_disagreement,
    disagreement,
    disagreement_caption,
    disagreement_summary,
    segment_disagreement,
)
from segview.core.segments import Annotation, Segment


def test_disagreement_ignores_void_only_when_asked():
    a = np.array([[0, 1, 2], [3, 3, 0]], np.uint16)
    b = np.array([[1, 1, 3], [3, 0, 0]], np.uint32)
    assert disagreement(a, b).tolist() == [[False, False, True], [False, False, False]]
    assert disagreement(a, b, ignore_void=False).tolist() == [[True, False, True], [False, True, False]]
    assert disagreement(a, b).dtype == bool


def test_disagreement_needs_equal_shapes():
    with pytest.raises(ValueError, match="shapes"):
        disagreement(np.zeros((2, 3), np.uint8), np.zeros((3, 2), np.uint8))


def test_segment_maps_compare_by_category_not_by_id():
    a_map = np.array([[1, 1, 2, 0]], np.uint16)
    b_map = np.array([[7, 5, 5, 5]], np.uint16)
    a_lut = np.array([0, 4, 2])  # segment 1 is category 4, segment 2 category 2
    b_lut = np.zeros(8, np.int64)
    b_lut[7], b_lut[5] = 4, 2
    assert segment_disagreement(a_map, a_lut, b_map, b_lut).tolist() == [[False, True, False, False]]
    assert segment_disagreement(a_map, a_lut, b_map, b_lut, ignore_void=False).tolist() == [
        [False, True, False, True]
    ]


def test_unknown_segment_ids_read_as_void():
    a_map = np.array([[1, 9]], np.uint16)
    lut = np.array([0, 3])
    assert segment_disagreement(a_map, lut, np.array([[1, 1]]), lut).tolist() == [[False, False]]
    assert segment_disagreement(a_map, lut, np.array([[1, 1]]), lut, ignore_void=False).tolist() == [[False, True]]


def test_annotations_compare_by_category():
    a = Annotation(2, 4)
    b = Annotation(2, 4)
    full = np.zeros((2, 4), bool)
    left, right, first = full.copy(), full.copy(), full.copy()
    left[:, :2], right[:, 2:], first[:, 0] = True, True, True
    a.add(left, Segment(1))
    a.add(right, Segment(2))
    b.add(right, Segment(2), segment_id=5)  # another id, same category: agrees
    b.add(first, Segment(3), segment_id=2)  # column 0: category 3, not 1
    assert annotation_disagreement(a, b).tolist() == [[True, False, False, False]] * 2
    assert annotation_disagreement(a, b, ignore_void=False).tolist() == [[True, True, False, False]] * 2


def test_summary_and_caption():
    mask = np.zeros((10, 100), bool)
    mask[:, :3] = True
    mask[0, 3] = True
    assert disagreement_summary(mask) == (31, 0.031)
    assert disagreement_caption("Prediction vs annotation", mask) == (
        "Prediction vs annotation: 3.1 % of pixels disagree"
    )
    assert disagreement_summary(np.zeros((0, 5), bool)) == (0, 0.0)
