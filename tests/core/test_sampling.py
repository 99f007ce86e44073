"""Sampling grids pick, for each screen pixel, a source pixel within half a screen pixel (and rounding) of
the one under its centre, and every sampling path picks exactly the grid's pixels."""

import math

import numpy as np
import pytest

from segview.core.sampling import SampleGrid


def _brute_force(box, scale, offset, size):
    """Screen pixels whose centre lies on the source, and the source pixel under each centre."""
    (x0, y0, x1, y1), (sx, sy), (tx, ty), (h, w) = box, scale, offset, size
    rows = [v for v in range(y0, y1) if 0 <= (v + 0.5 - ty) / sy < h]
    cols = [u for u in range(x0, x1) if 0 <= (u + 0.5 - tx) / sx < w]
    return (rows, cols, [math.floor((v + 0.5 - ty) / sy) for v in rows], [math.floor((u + 0.5 - tx) / sx) for u in cols])


@pytest.mark.parametrize("scale, offset", [((0.41388, 0.41388), (3.7, 11.2)), ((1.0, 1.0), (-20.5, 7.25)),
                                           ((0.5, 0.5), (0, 0)), ((0.3, 0.7), (-40.1, -3.9)),
                                           ((0.6667, 0.6667), (0.4, 0.4)), ((0.999, 0.2), (-100.3, -1.7))])
@pytest.mark.parametrize("box", [(0, 0, 160, 120), (17, 3, 400, 400)])
def test_screen_grid_samples_next_to_each_pixel_centre(scale, offset, box):
    size = (180, 240)
    grid, origin = SampleGrid.for_screen(box, scale, offset, size)
    rows, cols, src_rows, src_cols = _brute_force(box, scale, offset, size)
    assert origin == (cols[0], rows[0]) and grid.shape == (len(rows), len(cols))
    for picked, centred, step in ((grid.rows, src_rows, scale[1]), (grid.cols, src_cols, scale[0])):
        assert np.abs(picked - centred).max() <= 0.5 / step + 1
    assert (np.diff(grid.rows) >= 0).all() and (np.diff(grid.cols) >= 0).all()


def test_a_box_beside_the_source_gives_an_empty_grid():
    grid, _ = SampleGrid.for_screen((0, 0, 50, 50), (0.5, 0.5), (100, 0), (100, 100))
    assert min(grid.shape) == 0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.uint32, np.int64, np.float32])
def test_every_sampling_path_equals_fancy_indexing(dtype):
    rng = np.random.default_rng(1)
    array = rng.integers(0, 2**16 - 1, (300, 400)).astype(dtype)
    if dtype == np.uint32:
        array[0, :5] = 2**32 - 1  # the top bit survives the int32 reinterpretation
    grid, _ = SampleGrid.for_screen((0, 0, 200, 150), (0.47, 0.47), (2.2, 1.3), array.shape)
    expected = array[np.ix_(grid.rows, grid.cols)]
    sampled = grid.sample(array)
    assert sampled.dtype == array.dtype and np.array_equal(sampled, expected)
    sub = grid.sub(7, 90, 11, 150)  # a sub-box (an edit's repaint) gathers the same pixels
    assert np.array_equal(sub.sample(array), expected[7:90, 11:150])
    rgb = np.stack([array] * 3, axis=-1)  # channels take the numpy path
    assert np.array_equal(grid.sample(rgb), rgb[np.ix_(grid.rows, grid.cols)])


def test_a_regular_grid_is_a_strided_view():
    array = np.arange(100 * 120).reshape(100, 120)
    grid = SampleGrid.regular(10, 90, 4, 100, 4)
    sampled = grid.sample(array)
    assert np.shares_memory(sampled, array) and np.array_equal(sampled, array[10:90:4, 4:100:4])


def test_span_finds_the_outputs_of_a_source_box():
    grid, _ = SampleGrid.for_screen((0, 0, 100, 100), (0.4, 0.4), (0, 0), (250, 250))
    i0, i1 = grid.span(0, 30, 60)
    assert all(30 <= r < 60 for r in grid.rows[i0:i1])
    assert (i0 == 0 or grid.rows[i0 - 1] < 30) and (i1 == len(grid.rows) or grid.rows[i1] >= 60)
