"""Edit operations: each says exactly which pixels and segments change, and keeps holes and parts."""

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scipy import ndimage

from segview.core import edits
from segview.core.history import EditHistory, apply_atom
from segview.core.masks import CroppedMask
from segview.core.segments import VOID, Annotation, Segment, Source


def _ring(height=40, width=50) -> Annotation:
    """One segment: a 20×20 square with a 6×6 hole, and a second part (a 4×4 square) far away."""
    annotation = Annotation(height, width)
    mask = np.zeros((height, width), bool)
    mask[5:25, 5:25] = True
    mask[12:18, 12:18] = False
    mask[30:34, 40:44] = True
    annotation.add(mask, Segment(1))
    return annotation


def _done(annotation, atom):
    apply_atom(annotation, atom)
    return annotation


def test_brush_mask_is_the_pixels_near_the_stroke():
    mask = edits.brush_mask([(10.5, 10.5), (30.5, 10.5)], 3, 40, 50)
    full = np.zeros((40, 50), bool)
    full[mask.slices] = mask.mask
    yy, xx = np.mgrid[0:40, 0:50] + 0.5
    along = np.clip(xx, 10.5, 30.5)
    expected = np.hypot(xx - along, yy - 10.5) <= 3
    assert np.array_equal(full, expected)
    assert full[10, 10:31].all() and not full[15].any()


def test_brush_mask_is_clipped_to_the_image():
    mask = edits.brush_mask([(-5, -5), (2, 2)], 4, 20, 20)
    assert mask.x == 0 and mask.y == 0 and mask.mask.any()
    assert edits.brush_mask([(-50, -50)], 3, 20, 20).mask.size == 0


def test_polygon_mask_matches_pycocotools_and_cuts_holes():
    exterior = [(4.2, 3.1), (30.7, 5.5), (25.3, 28.9), (6.1, 22.4)]
    hole = [(12, 10), (20, 10), (20, 18), (12, 18)]
    mask = edits.polygon_mask(exterior, [hole], height=40, width=50)
    full = np.zeros((40, 50), bool)
    full[mask.slices] = mask.mask
    flat = [float(v) for p in exterior for v in p]
    coco = mask_utils.decode(mask_utils.frPyObjects([flat], 40, 50))[:, :, 0].astype(bool)
    assert np.array_equal(full[:, :], coco & ~_square(40, 50, 10, 18, 12, 20))
    assert not full[14, 15] and full[8, 8]


def _square(h, w, y0, y1, x0, x1):
    out = np.zeros((h, w), bool)
    out[y0:y1, x0:x1] = True
    return out


def test_polygon_with_fewer_than_three_points_is_empty():
    assert edits.polygon_mask([(1, 1), (5, 5)], height=10, width=10).mask.size == 0


def test_paint_over_and_behind():
    annotation = _ring()
    square = CroppedMask(0, 0, np.ones((10, 10), bool))
    behind = _done(annotation.copy(), edits.paint(annotation, square, 2, Segment(3), overwrite=False))
    assert (behind.segment_map[5:10, 5:10] == 1).all() and (behind.segment_map[:5, :5] == 2).all()
    over = _done(annotation.copy(), edits.paint(annotation, square, 2, Segment(3)))
    assert (over.segment_map[:10, :10] == 2).all() and over.segments[2] == Segment(3)
    with pytest.raises(ValueError):
        edits.paint(annotation, square, 9)  # a new id needs its Segment
    assert edits.paint(annotation, CroppedMask(5, 5, np.ones((3, 3), bool)), 1) is None  # nothing changes


def test_erase_all_or_only_one_segment():
    annotation = _ring()
    annotation.add(_square(40, 50, 0, 40, 30, 50), Segment(2), overwrite=False)
    brush = CroppedMask(20, 0, np.ones((40, 30), bool))
    only_one = _done(annotation.copy(), edits.erase(annotation, brush, only=[2]))
    assert (only_one.segment_map[5:25, 20:25] == 1).all() and not (only_one.segment_map == 2).any()
    everything = _done(annotation.copy(), edits.erase(annotation, brush))
    assert not everything.segment_map[:, 20:].any() and everything.segments == annotation.segments


def test_fill_takes_the_connected_region_only():
    annotation = _ring()
    filled = _done(annotation.copy(), edits.fill(annotation, 14, 14, 2, Segment(4)))
    assert (filled.segment_map[12:18, 12:18] == 2).all()  # the hole, and nothing else
    assert np.count_nonzero(filled.segment_map == 2) == 36
    outside = _done(annotation.copy(), edits.fill(annotation, 0, 0, 3, Segment(5)))
    assert (outside.segment_map[12:18, 12:18] == VOID).all()  # the hole is not connected to the outside
    assert edits.fill(annotation, -1, 3, 3, Segment(5)) is None


def test_delete_merge_split_relabel_crowd():
    annotation = _ring()
    annotation.add(_square(40, 50, 30, 38, 2, 10), Segment(2, score=0.7, source=Source.MODEL))
    ids, atom = edits.split(annotation, 1)
    split = _done(annotation.copy(), atom)
    assert ids == [1, 3]
    assert np.count_nonzero(split.segment_map == 1) == 400 - 36 and np.count_nonzero(split.segment_map == 3) == 16
    assert split.segment_map[14, 14] == VOID  # the hole survives
    assert edits.split(split, 1)[1] is None  # one part: nothing to split

    merged = _done(split.copy(), edits.merge(split, [3, 2]))
    assert set(merged.segments) == {1, 3} and np.count_nonzero(merged.segment_map == 3) == 16 + 64

    deleted = _done(merged.copy(), edits.delete(merged, [1]))
    assert set(deleted.segments) == {3} and not (deleted.segment_map == 1).any()

    relabelled = _done(annotation.copy(), edits.relabel(annotation, [2], 5))
    assert relabelled.segments[2] == Segment(5, score=0.7, source=Source.PERSON)
    assert edits.relabel(relabelled, [2], 5) is None
    crowd = _done(annotation.copy(), edits.set_crowd(annotation, [1], True))
    assert crowd.segments[1].iscrowd and np.array_equal(crowd.segment_map, annotation.segment_map)


def test_accept_copies_fused_segments_with_their_source():
    fused = Annotation(40, 50)
    fused.add(_square(40, 50, 0, 20, 0, 50), Segment(5, score=None, source=Source.MODEL))
    fused.add(_square(40, 50, 22, 30, 5, 15), Segment(1, score=0.9, source=Source.MODEL))
    annotation = Annotation(40, 50)
    annotation.add(_square(40, 50, 35, 40, 0, 50), Segment(2))
    ids, atom = edits.accept(annotation, fused, [2])
    one = _done(annotation.copy(), atom)
    assert ids == [2] and one.segments[2] == fused.segments[2]
    assert np.array_equal(one.segment_map == 2, fused.segment_map == 2) and one.segments[1] == Segment(2)
    ids, atom = edits.accept(annotation, fused)
    everything = _done(annotation.copy(), atom)
    assert ids == [2, 3] and np.array_equal(everything.segment_map == 3, fused.segment_map == 2)
    history = EditHistory(annotation)
    history.apply(atom)
    history.undo()
    assert set(annotation.segments) == {1}


def test_grabcut_finds_a_clear_object():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (80, 100, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:80, 0:100]
    disk = (yy - 40) ** 2 + (xx - 50) ** 2 <= 18**2
    image[disk] = rng.integers(190, 255, (int(disk.sum()), 3), dtype=np.uint8)
    mask = edits.grabcut_mask(image, (25, 15, 50, 50))
    full = np.zeros((80, 100), bool)
    full[mask.slices] = mask.mask
    iou = np.count_nonzero(full & disk) / np.count_nonzero(full | disk)
    assert iou > 0.9
    assert edits.grabcut_mask(image, (10, 10, 1, 30)).mask.size == 0


def test_large_ids_widen_the_map():
    annotation = Annotation(10, 10)
    atom = edits.paint(annotation, CroppedMask(0, 0, np.ones((2, 2), bool)), 70_000, Segment(1))
    history = EditHistory(annotation)
    history.apply(atom)
    assert annotation.segment_map.dtype == np.uint32 and annotation.segment_map[0, 0] == 70_000
    history.undo()
    assert not annotation.segment_map.any()
    assert ndimage.sum(annotation.segment_map) == 0


def test_a_new_region_of_a_stuff_class_joins_its_segment():
    from tests.factories import make_categories

    categories = make_categories()  # 4 sky, 5 road: stuff; 1 person: thing
    annotation = Annotation(10, 10)
    left = CroppedMask(0, 0, np.ones((10, 3), bool))
    right = CroppedMask(7, 0, np.ones((10, 3), bool))
    sky, atom = edits.new_segment(annotation, left, Segment(4), categories=categories)
    apply_atom(annotation, atom)
    again, atom = edits.new_segment(annotation, right, Segment(4), categories=categories)
    apply_atom(annotation, atom)
    assert again == sky and list(annotation.segments) == [sky] and (annotation.segment_map[:, 7:] == sky).all()
    person, atom = edits.new_segment(annotation, CroppedMask(4, 4, np.ones((2, 2), bool)), Segment(1),
                                     categories=categories)
    assert person != sky and edits.class_segment(annotation, categories, 1) != sky
    assert edits.class_segment(annotation, None, 4) == annotation.next_id()  # no categories: always new


def _person_over_sky_and_road() -> tuple[Annotation, int, int, int]:
    """Sky (rows 0-19) over road (rows 20-39) with a person polygon (rows 10-29, cols 10-29) drawn over
    both, and a car touching the person's right side."""
    from tests.factories import make_categories

    categories = make_categories()
    annotation = Annotation(40, 50)
    sky, atom = edits.new_segment(annotation, CroppedMask(0, 0, np.ones((20, 50), bool)), Segment(4),
                                  categories=categories)
    _done(annotation, atom)
    road, atom = edits.new_segment(annotation, CroppedMask(0, 20, np.ones((20, 40), bool)), Segment(5),
                                   categories=categories)
    _done(annotation, atom)
    person, atom = edits.new_segment(annotation, CroppedMask(10, 10, np.ones((20, 20), bool)), Segment(1),
                                     categories=categories)
    _done(annotation, atom)
    _, atom = edits.new_segment(annotation, CroppedMask(30, 12, np.ones((16, 6), bool)), Segment(2),
                                categories=categories)
    _done(annotation, atom)
    return annotation, sky, road, person


def test_a_hole_cut_in_a_thing_over_stuff_shows_that_stuff_not_void():
    from tests.factories import make_categories

    annotation, sky, road, person = _person_over_sky_and_road()
    before = annotation.copy()
    hole = edits.polygon_mask([(12, 11), (16, 11), (16, 15), (12, 15)], height=40, width=50)  # upper part
    low = edits.polygon_mask([(12, 25), (16, 25), (16, 29), (12, 29)], height=40, width=50)  # lower part
    history = EditHistory(annotation)
    history.apply(edits.cut_hole(annotation, hole, person, make_categories()))
    history.apply(edits.cut_hole(annotation, low, person, make_categories()))
    assert (annotation.segment_map[11:15, 12:16] == sky).all()
    assert (annotation.segment_map[25:29, 12:16] == road).all()
    assert (annotation.segment_map[15:25, 10:30] == person).all()  # nothing else changed
    assert set(annotation.segments) == set(before.segments)
    history.undo()
    history.undo()
    assert np.array_equal(annotation.segment_map, before.segment_map)


def test_a_hole_next_to_void_or_another_thing_stays_void():
    from tests.factories import make_categories

    annotation, _sky, road, person = _person_over_sky_and_road()
    categories = make_categories()
    # the right edge of the person borders the car (rows 12-27): a hole there is void, not car
    beside_car = edits.polygon_mask([(27, 16), (30, 16), (30, 20), (27, 20)], height=40, width=50)
    _done(annotation, edits.cut_hole(annotation, beside_car, person, categories))
    assert (annotation.segment_map[16:20, 27:30] == VOID).all()
    # a thing drawn over void: its hole is void
    lone = Annotation(20, 20)
    lone.add(np.pad(np.ones((10, 10), bool), 5), Segment(1))
    _done(lone, edits.cut_hole(lone, CroppedMask(8, 8, np.ones((4, 4), bool)), 1, categories))
    assert (lone.segment_map[8:12, 8:12] == VOID).all() and lone.segment_map[5, 5] == 1
    # the hole takes only the segment's pixels; a mask elsewhere changes nothing
    assert edits.cut_hole(annotation, CroppedMask(40, 0, np.ones((5, 5), bool)), person, categories) is None
    assert annotation.segment_map[35, 5] == road
