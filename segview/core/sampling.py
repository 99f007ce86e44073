"""Nearest-neighbour sampling grids: which source row and column each pixel on the screen shows (no Qt).

A zoomed-out view shows a label map at screen resolution, sampled (never blended) so that labels stay
exact. The grid remembers the mapping, so an edit inside a source box can re-render just the screen
pixels that show it.

The source span under the screen box is resampled with ``cv2.resize(..., INTER_NEAREST_EXACT)``, which
picks the source pixel under each output pixel's centre. It reads no coordinate map (a gather's map costs
4 bytes a screen pixel), so it is faster while the labels are in cache and no slower when they are not.
The span's ends are whole source pixels, so a sample can be off the one under its screen pixel's centre
by up to half a screen pixel (plus rounding). The grid's rows and columns are read off OpenCV itself
(its rule is separable), so every other path (sub-boxes, channels) samples the same pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_RESIZE = cv2.INTER_NEAREST_EXACT
_RESIZE_DTYPES = {np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.int32, np.float32)}


def _covered(offset: float, scale: float, size: int) -> tuple[int, int]:
    """Screen pixels whose centre falls on the source's [0, size)."""
    return math.ceil(offset - 0.5), math.ceil(offset + size * scale - 0.5)


def _source_span(start: int, stop: int, scale: float, offset: float, size: int) -> tuple[int, int]:
    """The whole source pixels [first, end) nearest to what screen pixels [start, stop) cover."""
    first = min(max(round((start - offset) / scale), 0), size - 1)
    end = min(max(round((stop - offset) / scale), first + 1), size)
    return first, end


def _resized_indices(first: int, end: int, screen: int, axis: int) -> np.ndarray:
    """The source indices ``cv2.resize`` picks along ``axis`` for ``screen`` outputs from [first, end)."""
    probe = np.arange(first, end, dtype=np.int32)
    probe = probe[None, :] if axis == 1 else probe[:, None]
    size = (screen, 1) if axis == 1 else (1, screen)
    return cv2.resize(probe, size, interpolation=_RESIZE).ravel().astype(np.intp)


class SampleGrid:
    """Source rows and columns (non-decreasing) of an output raster; ``sample`` gathers them."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray,
                 resize_crop: tuple[int, int, int, int] | None = None) -> None:
        self.rows = np.asarray(rows, dtype=np.intp)
        self.cols = np.asarray(cols, dtype=np.intp)
        self._row_slice = _as_slice(self.rows)
        self._col_slice = _as_slice(self.cols)
        self._resize_crop = resize_crop  # (y0, y1, x0, x1): rows and cols follow cv2.resize over it

    @classmethod
    def regular(cls, y0: int, y1: int, x0: int, x1: int, stride: int = 1) -> SampleGrid:
        """Every ``stride``-th source pixel of the box [y0, y1) × [x0, x1)."""
        return cls(np.arange(y0, y1, stride), np.arange(x0, x1, stride))

    @classmethod
    def for_screen(cls, box: tuple[int, int, int, int], scale: tuple[float, float],
                   offset: tuple[float, float], size: tuple[int, int]) -> tuple[SampleGrid, tuple[int, int]]:
        """The grid of the screen pixels in ``box`` (x0, y0, x1, y1) that show a (h, w) source mapped by
        ``screen = source * scale + offset``; with the screen position of its first pixel. Empty when
        the box misses the source."""
        (x0, y0, x1, y1), (sx, sy), (tx, ty), (h, w) = box, scale, offset, size
        cx0, cx1 = _covered(tx, sx, w)
        cy0, cy1 = _covered(ty, sy, h)
        x0, x1, y0, y1 = max(x0, cx0), min(x1, cx1), max(y0, cy0), min(y1, cy1)
        if x1 <= x0 or y1 <= y0:
            return cls(np.empty(0), np.empty(0)), (x0, y0)
        r0, r1 = _source_span(y0, y1, sy, ty, h)
        c0, c1 = _source_span(x0, x1, sx, tx, w)
        rows = _resized_indices(r0, r1, y1 - y0, axis=0)
        cols = _resized_indices(c0, c1, x1 - x0, axis=1)
        return cls(rows, cols, (r0, r1, c0, c1)), (x0, y0)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.cols)

    def sample(self, array: np.ndarray) -> np.ndarray:
        """``array[rows][:, cols]``: a strided view when the grid is regular, else a sampled copy."""
        if self._row_slice is not None and self._col_slice is not None:
            return array[self._row_slice, self._col_slice]
        if self._resize_crop is not None and array.ndim == 2:
            view = array.view(np.int32) if array.dtype == np.uint32 else array  # the bits are copied
            if view.dtype in _RESIZE_DTYPES:
                y0, y1, x0, x1 = self._resize_crop
                sampled = cv2.resize(view[y0:y1, x0:x1], (len(self.cols), len(self.rows)), interpolation=_RESIZE)
                return sampled.view(array.dtype)
        rows = array[self._row_slice] if self._row_slice is not None else array.take(self.rows, axis=0)
        return rows[:, self._col_slice] if self._col_slice is not None else rows.take(self.cols, axis=1)

    def span(self, axis: int, start: int, stop: int) -> tuple[int, int]:
        """The output indices along ``axis`` (0 rows, 1 columns) whose source lies in [start, stop)."""
        index = self.rows if axis == 0 else self.cols
        return int(np.searchsorted(index, start, "left")), int(np.searchsorted(index, stop, "left"))

    def sub(self, i0: int, i1: int, j0: int, j1: int) -> SampleGrid:
        """The grid of output rows [i0, i1) and columns [j0, j1) (sampled by gathering)."""
        return SampleGrid(self.rows[i0:i1], self.cols[j0:j1])


def _as_slice(index: np.ndarray) -> slice | None:
    """The slice that yields ``index`` when its steps are one positive constant, else None."""
    if len(index) == 0:
        return slice(0, 0)
    step = int(index[1] - index[0]) if len(index) > 1 else 1
    if step <= 0 or not np.array_equal(np.diff(index), np.full(len(index) - 1, step)):
        return None
    return slice(int(index[0]), int(index[-1]) + 1, step)
