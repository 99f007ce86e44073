import time

import cv2
import numpy as np
import pytest

from segview.core.segments import VOID
from segview.train.scenes import (
    DEMO_CATEGORIES,
    MIN_SEGMENT_AREA,
    generate_dataset,
    generate_scene,
    scene_file_name,
    write_demo_images,
)

SEEDS = range(50)


@pytest.fixture(scope="module")
def scenes():
    return [generate_scene(seed) for seed in SEEDS]


def _edge_contrast(image: np.ndarray, labels: np.ndarray) -> float:
    """Mean colour jump between 4-neighbours whose labels differ."""
    img = image.astype(np.int32)
    total, count = 0, 0
    for axis in (0, 1):
        jump = np.abs(np.diff(img, axis=axis)).sum(axis=2)
        across = np.diff(labels.astype(np.int64), axis=axis) != 0
        total += int(jump[across].sum())
        count += int(across.sum())
    return total / max(count, 1)


def test_categories_four_things_then_four_stuff():
    assert DEMO_CATEGORIES.ids == list(range(1, 9))
    assert [c.isthing for c in DEMO_CATEGORIES] == [True] * 4 + [False] * 4
    colors = [c.color for c in DEMO_CATEGORIES]
    assert len(set(colors)) == 8 and all(c.supercategory for c in DEMO_CATEGORIES)


def test_deterministic_per_seed():
    image_a, ann_a = generate_scene(7)
    image_b, ann_b = generate_scene(7)
    assert np.array_equal(image_a, image_b) and ann_a.equals(ann_b)
    image_c, ann_c = generate_scene(8)
    assert not np.array_equal(image_a, image_c)
    assert not np.array_equal(ann_a.segment_map, ann_c.segment_map)


def test_shape_dtype_and_every_pixel_labelled(scenes):
    for image, ann in scenes:
        assert image.shape == (320, 320, 3) and image.dtype == np.uint8
        assert ann.segment_map.shape == (320, 320) and ann.segment_map.dtype == np.uint16
        assert not (ann.segment_map == VOID).any()


def test_segments_match_the_map_and_are_large_enough(scenes):
    for _, ann in scenes:
        present = {int(i) for i in np.unique(ann.segment_map)}
        assert present == set(ann.segments)
        assert min(ann.areas().values()) >= MIN_SEGMENT_AREA
        assert sorted(ann.segments) == list(range(1, len(ann.segments) + 1))


def test_things_and_stuff(scenes):
    for _, ann in scenes:
        stuff = [s.category_id for s in ann.segments.values() if not DEMO_CATEGORIES.is_thing(s.category_id)]
        things = [s.category_id for s in ann.segments.values() if DEMO_CATEGORIES.is_thing(s.category_id)]
        assert all(c in DEMO_CATEGORIES for c in stuff + things)
        assert stuff and things
        assert len(set(stuff)) == len(stuff)  # one segment per stuff class
        assert len(things) <= 8
    thing_classes = {s.category_id for _, ann in scenes for s in ann.segments.values() if s.category_id <= 4}
    assert thing_classes == {1, 2, 3, 4}


def test_image_edges_coincide_with_label_edges(scenes):
    # Colour jumps are strongest exactly where labels change; a map off by one pixel loses that.
    for image, ann in scenes:
        aligned = _edge_contrast(image, ann.segment_map)
        for axis in (0, 1):
            for shift in (-1, 1):
                shifted = _edge_contrast(image, np.roll(ann.segment_map, shift, axis=axis))
                assert aligned > 1.2 * shifted


def test_thing_colours_differ_from_what_they_occlude(scenes):
    for image, ann in scenes:
        for sid, seg in ann.segments.items():
            if not DEMO_CATEGORIES.is_thing(seg.category_id):
                continue
            mask = ann.segment_map == sid
            ring = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~mask
            inside = image[mask].mean(axis=0)
            outside = image[ring].mean(axis=0)
            assert np.abs(inside - outside).sum() > 20


def test_other_sizes():
    image, ann = generate_scene(3, height=240, width=400)
    assert image.shape == (240, 400, 3) and ann.segment_map.shape == (240, 400)
    assert not (ann.segment_map == VOID).any()


def test_dataset_names_and_demo_images(tmp_path):
    names = [name for name, _, _ in generate_dataset([42, 7], 64, 64)]
    assert names == ["scene_00042.png", "scene_00007.png"] == [scene_file_name(42), scene_file_name(7)]
    paths = write_demo_images(tmp_path, count=2, seed=5, height=48, width=64)
    assert [p.name for p in paths] == ["scene_00005.png", "scene_00006.png"]
    written = cv2.cvtColor(cv2.imread(str(paths[1])), cv2.COLOR_BGR2RGB)
    assert np.array_equal(written, generate_scene(6, 48, 64)[0])


def test_fast():
    generate_scene(0)
    start = time.perf_counter()
    for seed in range(10):
        generate_scene(seed)
    assert (time.perf_counter() - start) / 10 < 0.15


def test_cones_only_when_asked():
    from segview.train.scenes import CONE, CONE_CATEGORIES, MIN_SEGMENT_AREA

    plain = [generate_scene(seed, 96, 96) for seed in range(12)]
    assert not any(s.category_id == CONE for _, a in plain for s in a.segments.values())
    with_cones = [generate_scene(seed, 96, 96, cones=True) for seed in range(12)]
    cones = [(a, sid) for _, a in with_cones for sid, s in a.segments.items() if s.category_id == CONE]
    assert len(cones) >= 6 and CONE_CATEGORIES[CONE].name == "cone" and CONE_CATEGORIES[CONE].isthing
    assert all(np.count_nonzero(a.segment_map == sid) >= MIN_SEGMENT_AREA for a, sid in cones)
