"""Segment areas follow edit steps (do, undo, redo) and always equal a full recount."""

import numpy as np

from segview.core import edits
from segview.core.areas import SegmentAreas
from segview.core.history import EditHistory
from segview.core.masks import CroppedMask
from segview.core.segments import Annotation, Segment


def _recount(annotation: Annotation, sid: int) -> int:
    return int((annotation.segment_map == sid).sum())


def test_areas_follow_paint_merge_delete_undo_and_redo():
    annotation = Annotation(30, 40)
    history = EditHistory(annotation)
    areas = SegmentAreas(annotation)
    history.step_listeners.append(areas.step)
    history.apply(edits.paint(annotation, CroppedMask(0, 0, np.ones((10, 10), bool)), 1, Segment(1)))
    history.apply(edits.paint(annotation, CroppedMask(5, 5, np.ones((10, 10), bool)), 2, Segment(2)))
    history.begin("stroke")  # a step of several atoms is counted once, when committed
    history.apply(edits.paint(annotation, edits.brush_mask([(20, 20), (35, 25)], 3, 30, 40), 70_000, Segment(1)))
    history.apply(edits.erase(annotation, CroppedMask(0, 0, np.ones((3, 40), bool))))
    history.commit()
    history.apply(edits.merge(annotation, [1, 2]))
    ids = (0, 1, 2, 70_000, 5)
    assert [areas.area(i) for i in ids] == [_recount(annotation, i) for i in ids]
    history.undo()
    history.undo()
    assert [areas.area(i) for i in ids] == [_recount(annotation, i) for i in ids]
    history.redo()
    history.apply(edits.delete(annotation, [2]))  # clears the redo list
    assert [areas.area(i) for i in ids] == [_recount(annotation, i) for i in ids]
    assert areas.area(2) == 0 and areas.area(1) == 100 - 25 - 30  # the square, less 2 painted over it and the erased rows


def test_pixel_counts_are_exact_beyond_float32_and_for_every_dtype():
    from segview.core.areas import pixel_counts

    big = np.zeros((1 << 24) + 3, np.uint16)  # more pixels of one id than a float32 bin counts exactly
    big[:5] = 7
    counts = pixel_counts(big)
    assert counts[0] == (1 << 24) - 2 and counts[7] == 5 and counts.dtype == np.int64
    wide = np.array([[0, 70_000], [70_000, 3]], np.uint32)
    assert pixel_counts(wide)[70_000] == 2 and pixel_counts(wide)[3] == 1
    assert pixel_counts(np.zeros((0,), np.uint16)).sum() == 0
