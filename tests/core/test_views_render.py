import numpy as np
import pytest

from segview.core import views
from segview.core.render import OverlayMode, boundaries, colour_table, render_packed
from segview.core.segments import Annotation, Segment
from tests.factories import make_categories, random_annotation


def render_overlay(labels, lut, mode=OverlayMode.FILL, fill_alpha=255, outline_width=1):
    """RGBA (h, w, 4) uint8 overlay through the RGBA8888 colour table (what the zoomed-in canvas draws)."""
    packed = render_packed(labels, colour_table(lut, mode, fill_alpha), mode, outline_width)
    return packed.view(np.uint8).reshape(*packed.shape, 4)


def _scene():
    cats = make_categories()
    ann = Annotation(8, 8)
    sky = np.zeros((8, 8), bool)
    sky[:4] = True
    person = np.zeros((8, 8), bool)
    person[2:6, 2:4] = True
    car = np.zeros((8, 8), bool)
    car[5:7, 5:8] = True
    ids = [ann.add(person, Segment(1)), ann.add(car, Segment(2))]
    ids.append(ann.add(sky, Segment(4), overwrite=False))
    ids.append(ann.add(~sky, Segment(5), overwrite=False))
    return cats, ann, ids


def test_three_views_agree():
    cats, ann, (person, car, sky, road) = _scene()
    semantic = views.semantic_view(ann)
    assert semantic[3, 2] == 1 and semantic[0, 0] == 4 and semantic[7, 0] == 5 and semantic[6, 6] == 2
    instances = views.instance_view(ann, cats)
    assert [i.segment_id for i in instances] == [person, car]
    for inst in instances:
        full = inst.mask.to_full(8, 8)
        assert np.array_equal(full, ann.segment_map == inst.segment_id)
        assert np.all(semantic[full] == inst.segment.category_id)
    assert views.panoptic_view(ann) is ann.segment_map
    instance_ids = views.instance_id_map(ann, cats)
    assert set(np.unique(instance_ids)) == {0, person, car}


def test_semantic_view_of_random_annotations_matches_per_segment_lookup():
    rng = np.random.default_rng(3)
    for _ in range(5):
        ann = random_annotation(rng, 40, 50)
        semantic = views.semantic_view(ann)
        for sid, seg in ann.segments.items():
            assert np.all(semantic[ann.segment_map == sid] == seg.category_id)
        assert np.all(semantic[ann.segment_map == 0] == 0)


def test_unknown_segment_ids_render_as_void():
    ann = Annotation(2, 2)
    ann.add(np.ones((2, 2), bool), Segment(1))
    ann.segment_map[0, 0] = 40
    assert views.semantic_view(ann)[0, 0] == 0
    assert views.instance_id_map(ann, make_categories()).tolist() == [[0, 1], [1, 1]]


def test_views_of_an_annotation_without_things_are_void_of_the_right_type():
    cats = make_categories()
    empty = Annotation(3, 4)
    assert views.semantic_view(empty).shape == (3, 4) and not views.semantic_view(empty).any()
    only_sky = Annotation(3, 4)
    only_sky.add(np.ones((3, 4), bool), Segment(4))  # stuff: no instance
    ids = views.instance_id_map(only_sky, cats)
    assert ids.dtype == only_sky.segment_map.dtype and not ids.any()
    assert (views.semantic_view(only_sky) == 4).all()


def test_segment_colours_things_distinct_stuff_by_class():
    cats, ann, (person, car, sky, road) = _scene()
    colors = views.segment_colors(ann, cats)
    assert colors[sky] == cats.color_of(4)
    assert colors[person] != colors[car]
    assert set(views.segment_colors(ann, cats, things_only=True)) == {person, car}


def test_render_fill_outline_both():
    cats, ann, (person, *_rest) = _scene()
    lut = views.segment_lut(ann, cats)
    labels = views.panoptic_view(ann)
    fill = render_overlay(labels, lut, OverlayMode.FILL)
    assert fill.shape == (8, 8, 4) and fill.dtype == np.uint8
    assert tuple(fill[3, 2, :3]) == tuple(lut[person, :3]) and fill[3, 2, 3] == 255
    outline = render_overlay(labels, lut, OverlayMode.OUTLINE)
    edge = boundaries(labels)
    assert np.all(outline[..., 3][edge] == 255) and np.all(outline[..., 3][~edge] == 0)
    both = render_overlay(labels, lut, OverlayMode.BOTH, fill_alpha=64)
    assert np.all(both[..., 3][edge] == 255) and np.all(both[..., 3][~edge & (labels > 0)] == 64)
    faded = render_overlay(labels, lut, OverlayMode.FILL, fill_alpha=128)
    assert faded[3, 2, 3] == 128


def test_boundaries_width_and_void():
    labels = np.zeros((7, 7), np.uint16)
    labels[1:6, 1:6] = 1
    one = boundaries(labels, 1)
    assert one.sum() == 16 and not one[3, 3] and not one[0, 0]
    two = boundaries(labels, 2)
    assert two.sum() == 24 and not two[3, 3]


def test_render_tolerates_short_lut():
    labels = np.array([[0, 1, 9]], np.uint16)
    lut = np.array([[0, 0, 0, 0], [10, 20, 30, 255]], np.uint8)
    out = render_overlay(labels, lut)
    assert out[0, 2, 3] == 0 and out[0, 1, 3] == 255


def test_class_shares_exact_when_small_and_close_when_sampled():
    from segview.core.views import class_shares

    ann = Annotation(100, 200)
    ann.add(np.ones((100, 200), bool) & (np.arange(200) < 50)[None], Segment(4))
    ann.add(np.ones((100, 200), bool) & (np.arange(200) >= 150)[None], Segment(4))
    ann.add(np.ones((100, 200), bool) & (np.arange(100) < 10)[:, None] & (np.arange(200) >= 50)[None], Segment(1))
    assert class_shares(ann) == {4: 9500 / 20000, 1: 1500 / 20000}  # the thing covers part of a stuff band
    sampled = class_shares(ann, max_samples=2000)
    assert abs(sampled[4] - 0.475) < 0.02 and abs(sampled[1] - 0.075) < 0.02


@pytest.mark.parametrize("mode", ["fill", "outline", "both"])
@pytest.mark.parametrize("fill_alpha", [255, 110])
def test_render_overlay_equals_the_plain_table_lookup(mode, fill_alpha):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 320, (60, 80)).astype(np.uint16)  # some labels beyond the table's end
    labels[:, :20], labels[:10] = 5, 0
    lut = rng.integers(0, 256, (300, 4)).astype(np.uint8)
    lut[0] = 0
    table = np.zeros((320, 4), np.uint8)
    table[:300] = lut
    expected = table[labels]
    edge = boundaries(labels)
    if mode == "outline":
        expected[~edge] = 0
    elif fill_alpha != 255 or mode == "both":
        faded = (expected[..., 3].astype(np.uint16) * fill_alpha // 255).astype(np.uint8)
        expected[..., 3] = np.where(edge, expected[..., 3], faded) if mode == "both" else faded
    strided = np.repeat(labels, 2, axis=1)[:, ::2]  # a zoomed-out view passes a strided array
    assert np.array_equal(render_overlay(strided, lut, OverlayMode(mode), fill_alpha), expected)


@pytest.mark.parametrize("mode", ["fill", "outline", "both"])
@pytest.mark.parametrize("outline_width", [1, 3])
def test_rendering_in_bands_equals_rendering_whole(monkeypatch, mode, outline_width):
    from segview.core import render
    from segview.core.sampling import SampleGrid

    rng = np.random.default_rng(2)
    labels = np.repeat(np.repeat(rng.integers(0, 40, (90, 120)), 9, axis=0), 9, axis=1).astype(np.uint32)
    lut = rng.integers(0, 256, (35, 4)).astype(np.uint8)
    table = render.colour_table(lut, OverlayMode(mode), 110)
    grid, _ = SampleGrid.for_screen((0, 0, 1000, 800), (0.93, 0.93), (1.5, 0.25), labels.shape)
    whole = render.render_packed(grid.sample(labels), table, OverlayMode(mode), outline_width)
    monkeypatch.setattr(render, "_BAND_WORKERS", 3)
    monkeypatch.setattr(render, "_BAND_PIXELS", 1000)
    assert np.array_equal(render.render_sampled(labels, grid, table, OverlayMode(mode), outline_width), whole)


def test_premultiplied_table_folds_fill_alpha_and_opacity_into_the_colour():
    from segview.core.render import PixelFormat, colour_table

    lut = np.array([[10, 20, 30, 0], [200, 100, 50, 255], [255, 255, 255, 128]], np.uint8)
    table = colour_table(lut, OverlayMode.BOTH, fill_alpha=110, opacity=0.5,
                         pixel_format=PixelFormat.ARGB32_PREMULTIPLIED).reshape(-1, 2)
    words = lambda a, r, g, b: (a << 24) | (r << 16) | (g << 8) | b  # noqa: E731
    fill_alpha = round(255 * 110 // 255 * 0.5)  # 55
    assert table[1, 0] == words(fill_alpha, round(200 * fill_alpha / 255), round(100 * fill_alpha / 255),
                                round(50 * fill_alpha / 255))
    assert table[1, 1] == words(128, round(200 * 128 / 255), round(100 * 128 / 255), round(50 * 128 / 255))
    assert table[0, 0] == table[0, 1] == 0  # void: transparent, and no outline
    assert table[-1].tolist() == [0, 0]  # labels beyond the table


def test_views_of_a_map_taller_than_a_band_match_a_plain_lookup(monkeypatch):
    monkeypatch.setattr(views, "_BAND_PIXELS", 64)  # bands of a few rows
    ann = Annotation(37, 11)
    rng = np.random.default_rng(5)
    for category in (1, 2, 4, 1):
        ann.add(rng.random((37, 11)) < 0.4, Segment(category))
    ann.segment_map[0, 0] = 99  # an unknown id reads void
    lut = views.category_lut(ann)
    expected = np.where(ann.segment_map < lut.size, lut[np.minimum(ann.segment_map, lut.size - 1)], 0)
    assert np.array_equal(views.semantic_view(ann), expected)
