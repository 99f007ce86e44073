"""Accepting a prediction on an image that already has an annotation: only where nothing is annotated."""

from __future__ import annotations

import numpy as np

from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import VOID, Annotation, Segment, Source


def _annotated() -> Annotation:
    """20x30, the person's segment on columns 0-9."""
    annotation = Annotation(20, 30)
    mask = np.zeros((20, 30), bool)
    mask[:, :10] = True
    annotation.add(mask, Segment(1, source=Source.PERSON))
    return annotation


def _fused() -> Annotation:
    """A wide segment over columns 5-19 (half on the person's) and a small one inside the person's."""
    fused = Annotation(20, 30)
    wide = np.zeros((20, 30), bool)
    wide[:, 5:20] = True
    small = np.zeros((20, 30), bool)
    small[2:6, 2:6] = True
    fused.add(wide, Segment(2, score=0.9, source=Source.MODEL))
    fused.add(small, Segment(3, score=0.8, source=Source.MODEL))
    return fused


def test_only_where_nothing_is_annotated_keeps_the_persons_pixels() -> None:
    annotation, fused = _annotated(), _fused()
    before = annotation.copy()
    history = EditHistory(annotation)
    new_ids, atom = edits.accept(annotation, fused, only_void=True)
    history.apply(atom, "Accept where empty")
    assert len(new_ids) == 1  # the small segment had no free pixel: it is not added
    (wide,) = new_ids
    assert annotation.segments[wide].category_id == 2 and annotation.segments[wide].source is Source.MODEL
    assert np.array_equal(annotation.segment_map[:, :10], before.segment_map[:, :10])  # untouched
    assert (annotation.segment_map[:, 10:20] == wide).all()
    assert (annotation.segment_map[:, 20:] == VOID).all()
    history.undo()
    assert annotation.equals(before)


def test_painting_over_replaces_the_persons_pixels_under_the_prediction() -> None:
    annotation = _annotated()
    new_ids, atom = edits.accept(annotation, _fused())
    history = EditHistory(annotation)
    history.apply(atom)
    assert len(new_ids) == 2
    assert (annotation.segment_map[6:, 5:20] == new_ids[0]).all()
    assert (annotation.segment_map[2:6, 2:6] == new_ids[1]).all()


def test_only_where_nothing_is_annotated_on_a_full_image_changes_nothing() -> None:
    annotation = Annotation(20, 30)
    annotation.add(np.ones((20, 30), bool), Segment(1))
    assert edits.accept(annotation, _fused(), only_void=True) == ([], None)
