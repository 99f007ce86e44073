"""Pixel-exact polygons: pycocotools gives back the very pixels; holes, shapely geometry, validation."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage
from shapely.geometry import Polygon

from segview.core.masks import label_bounding_slices, polygons_to_mask
from segview.core.polygons import has_holes, mask_to_polygons, mask_to_shapely, outlines, polygon_issues
from segview.core.report import Severity

SETTINGS = settings(max_examples=300, deadline=None)


@st.composite
def masks(draw: st.DrawFn) -> np.ndarray:
    """Small masks of every kind: noise (holes, diagonal touches, 1-pixel parts, border contact),
    sparse single pixels, and unions of rectangles, sometimes placed inside a larger empty image."""
    height, width = draw(st.integers(1, 14)), draw(st.integers(1, 14))
    kind = draw(st.sampled_from(["noise", "sparse", "rectangles"]))
    if kind == "rectangles":
        mask = np.zeros((height, width), dtype=bool)
        for _ in range(draw(st.integers(1, 4))):
            y0, x0 = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
            y1, x1 = draw(st.integers(y0 + 1, height)), draw(st.integers(x0 + 1, width))
            mask[y0:y1, x0:x1] = draw(st.booleans()) or not mask.any()
    else:
        mask = draw(hnp.arrays(bool, (height, width)))
        if kind == "sparse":
            mask &= draw(hnp.arrays(bool, (height, width)))
    if draw(st.booleans()):
        top, left = draw(st.integers(0, 5)), draw(st.integers(0, 5))
        mask = np.pad(mask, ((top, draw(st.integers(0, 5))), (left, draw(st.integers(0, 5)))))
    return mask


def _rasterise(polygons: list[list[float]], shape: tuple[int, int]) -> np.ndarray:
    return polygons_to_mask(polygons, *shape) if polygons else np.zeros(shape, dtype=bool)


@SETTINGS
@given(masks())
def test_hole_free_masks_come_back_exactly_from_pycocotools(mask: np.ndarray) -> None:
    mask = ndimage.binary_fill_holes(mask)
    assert np.array_equal(_rasterise(mask_to_polygons(mask), mask.shape), mask)


@SETTINGS
@given(masks())
def test_masks_with_holes_come_back_filled(mask: np.ndarray) -> None:
    assert np.array_equal(_rasterise(mask_to_polygons(mask), mask.shape), ndimage.binary_fill_holes(mask))


@SETTINGS
@given(masks())
def test_polygons_are_simple_lattice_outlines_without_collinear_vertices(mask: np.ndarray) -> None:
    for flat in mask_to_polygons(mask):
        points = np.reshape(flat, (-1, 2))
        assert len(points) >= 4 and np.array_equal(points, np.round(points))
        assert Polygon(points).is_valid  # simple: parts touching at a corner are separate polygons
        steps = np.diff(np.vstack([points, points[:1]]), axis=0)
        assert np.all((steps[:, 0] == 0) != (steps[:, 1] == 0)), "edges follow pixel edges"
        turning = (
            steps[:, 0] * np.roll(steps, -1, axis=0)[:, 1] - steps[:, 1] * np.roll(steps, -1, axis=0)[:, 0]
        )
        assert np.all(turning != 0), "no collinear vertex"


@SETTINGS
@given(masks())
def test_has_holes_agrees_with_scipy_fill_holes(mask: np.ndarray) -> None:
    assert has_holes(mask) == bool((ndimage.binary_fill_holes(mask) != mask).any())
    assert outlines(np.ascontiguousarray(mask))[1] == has_holes(mask)


@SETTINGS
@given(masks())
def test_shapely_geometry_is_valid_and_covers_exactly_the_pixels(mask: np.ndarray) -> None:
    geometry = mask_to_shapely(mask)
    assert geometry.is_valid
    assert geometry.area == np.count_nonzero(mask)
    yy, xx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    assert np.array_equal(shapely.contains_xy(geometry, xx + 0.5, yy + 0.5), mask)


@SETTINGS
@given(
    hnp.arrays(
        np.uint32,
        st.tuples(st.integers(1, 12), st.integers(1, 12)),
        elements=st.sampled_from([0, 0, 1, 2, 3, 7, 70_000, 4_000_000_000]),
    )
)
def test_label_bounding_slices_match_a_per_label_reference(labels: np.ndarray) -> None:
    expected = {
        int(label): ndimage.find_objects((labels == label).astype(np.uint8))[0]
        for label in np.unique(labels)
        if label
    }
    assert label_bounding_slices(labels) == expected


def test_single_pixel_is_its_square() -> None:
    mask = np.zeros((4, 5), dtype=bool)
    mask[1, 2] = True
    (polygon,) = mask_to_polygons(mask)
    assert sorted(zip(polygon[0::2], polygon[1::2], strict=True)) == [(2, 1), (2, 2), (3, 1), (3, 2)]


def test_diagonal_neighbours_become_two_polygons() -> None:
    mask = np.eye(3, dtype=bool)
    assert len(mask_to_polygons(mask)) == 3
    assert np.array_equal(_rasterise(mask_to_polygons(mask), mask.shape), mask)


def test_full_image_and_empty_masks() -> None:
    full = np.ones((3, 4), dtype=bool)
    (polygon,) = mask_to_polygons(full)
    assert sorted(zip(polygon[0::2], polygon[1::2], strict=True)) == [(0, 0), (0, 3), (4, 0), (4, 3)]
    empty = np.zeros((3, 4), dtype=bool)
    assert mask_to_polygons(empty) == [] and not has_holes(empty) and mask_to_shapely(empty).is_empty


def test_ring_has_a_hole_and_shapely_keeps_it() -> None:
    ring = np.ones((5, 5), dtype=bool)
    ring[2, 2] = False
    assert has_holes(ring)
    geometry = mask_to_shapely(ring)
    assert geometry.area == 24 and len(geometry.geoms[0].interiors) == 1


@pytest.mark.parametrize(
    ("coords", "severity", "words"),
    [
        ([0, 0, 4, 0], Severity.ERROR, "fewer than 3"),
        ([0, 0, 4, 0, 4], Severity.ERROR, "odd number"),
        ([0, 0, 4, float("nan"), 4, 4], Severity.ERROR, "non-finite"),
        ([0, 0, 4, float("inf"), 4, 4], Severity.ERROR, "non-finite"),
        ([0, 0, "4", 0, 4, 4], Severity.ERROR, "not a flat list"),
        ([[0, 0], [4, 0], [4, 4]], Severity.ERROR, "not a flat list"),
        ([0, None, 4, 0, 4, 4], Severity.ERROR, "not a flat list"),
        ("0 0 4 0 4 4", Severity.ERROR, "not a flat list"),
        ([0, 0, 1e9, 0, 4, 4], Severity.ERROR, "far outside"),
        ([0, 0, 4, 4, 4, 0, 0, 4], Severity.WARNING, "not simple"),
        ([-2, 0, 4, 0, 4, 12], Severity.WARNING, "2 polygon point(s) outside"),
    ],
)
def test_polygon_issues(coords: object, severity: Severity, words: str) -> None:
    issues = polygon_issues(coords, 10, 10)
    assert len(issues) == 1
    assert issues[0].severity is severity and words in issues[0].message


def test_a_good_polygon_has_no_issue() -> None:
    assert polygon_issues([0, 0, 10, 0, 10, 10.0, 0.5, 9.5], 10, 10) == []
