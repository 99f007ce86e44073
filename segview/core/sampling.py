"""Nearest-neighbour sampling grids: which source row and column each pixel on the screen shows (no Qt).

A zoomed-out view shows a label map at screen resolution: screen pixel ``u`` shows the source pixel under
its centre, ``floor((u + 0.5 - offset) / scale)``. Sampling is exact (labels are never blended), and the
grid remembers the mapping, so an edit inside a source box can re-render just the screen pixels it
touched.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# cv2.remap takes int16 coordinate maps: exact integer sampling, several times faster than numpy's
# fancy indexing, for the dtypes it handles (uint32 labels go through as int32: the bits are copied).
_REMAP_DTYPES = {np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.int32, np.float32)}
_REMAP_LIMIT = 32767


def _pixel_centres(start: int, stop: int, scale: float, offset: float, size: int) -> np.ndarray:
    """Source index under the centre of each screen pixel in [start, stop), clipped to [0, size)."""
    centres = (np.arange(start, stop, dtype=np.float64) + 0.5 - offset) / scale
    return np.clip(np.floor(centres), 0, size - 1).astype(np.intp)


def _covered(offset: float, scale: float, size: int) -> tuple[int, int]:
    """Screen pixels whose centre falls on the source's [0, size)."""
    return math.ceil(offset - 0.5), math.ceil(offset + size * scale - 0.5)


class SampleGrid:
    """Source rows and columns (non-decreasing) of an output raster; ``sample`` gathers them."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.intp)
        self.cols = np.asarray(cols, dtype=np.intp)
        self._row_slice = _as_slice(self.rows)
        self._col_slice = _as_slice(self.cols)
        self._remap: np.ndarray | None = None
        self._row_bands: dict[tuple[int, int], SampleGrid] = {}

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
        return cls(_pixel_centres(y0, y1, sy, ty, h), _pixel_centres(x0, x1, sx, tx, w)), (x0, y0)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.cols)

    def sample(self, array: np.ndarray) -> np.ndarray:
        """``array[rows][:, cols]``: a strided view when the grid is regular, else a gathered copy."""
        if self._row_slice is not None and self._col_slice is not None:
            return array[self._row_slice, self._col_slice]
        if array.ndim == 2 and max(array.shape) <= _REMAP_LIMIT:
            view = array.view(np.int32) if array.dtype == np.uint32 else array
            if view.dtype in _REMAP_DTYPES:
                return cv2.remap(view, self._remap_map(), None, cv2.INTER_NEAREST).view(array.dtype)
        rows = array[self._row_slice] if self._row_slice is not None else array.take(self.rows, axis=0)
        return rows[:, self._col_slice] if self._col_slice is not None else rows.take(self.cols, axis=1)

    def span(self, axis: int, start: int, stop: int) -> tuple[int, int]:
        """The output indices along ``axis`` (0 rows, 1 columns) whose source lies in [start, stop)."""
        index = self.rows if axis == 0 else self.cols
        return int(np.searchsorted(index, start, "left")), int(np.searchsorted(index, stop, "left"))

    def sub(self, i0: int, i1: int, j0: int, j1: int) -> SampleGrid:
        """The grid of output rows [i0, i1) and columns [j0, j1)."""
        return SampleGrid(self.rows[i0:i1], self.cols[j0:j1])

    def row_band(self, i0: int, i1: int) -> SampleGrid:
        """The grid of output rows [i0, i1), kept: rendering in bands reuses it (and its remap map)."""
        if (i0, i1) not in self._row_bands:
            self._row_bands[i0, i1] = self.sub(i0, i1, 0, len(self.cols))
        return self._row_bands[i0, i1]

    def _remap_map(self) -> np.ndarray:
        if self._remap is None:
            coords = np.empty((*self.shape, 2), np.int16)
            coords[..., 0] = self.cols[None, :]
            coords[..., 1] = self.rows[:, None]
            self._remap = coords
        return self._remap


def _as_slice(index: np.ndarray) -> slice | None:
    """The slice that yields ``index`` when its steps are one positive constant, else None."""
    if len(index) == 0:
        return slice(0, 0)
    step = int(index[1] - index[0]) if len(index) > 1 else 1
    if step <= 0 or not np.array_equal(np.diff(index), np.full(len(index) - 1, step)):
        return None
    return slice(int(index[0]), int(index[-1]) + 1, step)
