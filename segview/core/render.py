"""Overlay rendering: a label map and an RGBA lookup table become packed colour pixels (no Qt).

Colours are looked up as one uint32 per pixel in a table of packed colours, several times faster than
indexing the (n, 4) table byte by byte. The table interleaves each label's fill and outline colour, so
one lookup at ``2 * label + on_edge`` draws fill and outline, and ends with a transparent pair that labels
beyond its end read. OpenCV does the neighbour comparisons (multi-threaded, SIMD); large renders run in
horizontal bands on a few threads (numpy and OpenCV release the GIL), about 1.5× faster on two cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from functools import cache

import cv2
import numpy as np

from segview.core.sampling import SampleGrid


class OverlayMode(str, Enum):
    FILL = "fill"
    OUTLINE = "outline"
    BOTH = "both"


class PixelFormat(str, Enum):
    """How a packed colour is laid out (the matching QImage formats)."""

    RGBA8888 = "rgba8888"  # bytes R, G, B, A in memory, straight alpha
    ARGB32_PREMULTIPLIED = "argb32_premultiplied"  # 0xAARRGGBB words, colour scaled by alpha


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def _as_cv_labels(labels: np.ndarray) -> np.ndarray:
    """Contiguous int32 labels for OpenCV (uint32 is reinterpreted: ids stay below 2**31)."""
    if labels.dtype == np.uint32:
        labels = labels.view(np.int32)
    elif labels.dtype != np.int32:
        labels = np.clip(labels, 0, np.iinfo(np.int32).max).astype(np.int32)
    return np.ascontiguousarray(labels)


def _edge_mask(labels: np.ndarray, width: int) -> np.ndarray:
    """uint8 mask (255 = edge) of pixels within ``width`` - 1 steps of a pixel whose 4-neighbour has
    another label; ``labels`` are contiguous int32."""
    edge = np.zeros(labels.shape, np.uint8)
    vertical = cv2.compare(labels[1:], labels[:-1], cv2.CMP_NE)
    horizontal = cv2.compare(labels[:, 1:], labels[:, :-1], cv2.CMP_NE)
    edge[1:] |= vertical
    edge[:-1] |= vertical
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    if width > 1:
        edge = cv2.dilate(edge, _CROSS, iterations=width - 1)
    return edge


def boundaries(labels: np.ndarray, width: int = 1) -> np.ndarray:
    """Bool map of non-zero pixels whose label differs from a 4-neighbour's (inner boundary of each
    region), grown ``width`` - 1 pixels inwards."""
    labels = _as_cv_labels(labels)
    return (_edge_mask(labels, width) != 0) & (labels != 0)


def layer_style(mode: OverlayMode, fill_opacity: float) -> tuple[float, int]:
    """(opacity, fill_alpha) for ``colour_table`` from a layer's opacity setting: it is the fill's
    opacity, up to 100 % (the class's pure colour, which nothing blends into another class's colour);
    outlines stay opaque, except in outline mode, where the setting fades them."""
    fill_opacity = min(max(float(fill_opacity), 0.0), 1.0)
    if OverlayMode(mode) is OverlayMode.OUTLINE:
        return fill_opacity, 255
    return 1.0, int(round(255 * fill_opacity))


def colour_table(lut: np.ndarray, mode: OverlayMode = OverlayMode.FILL, fill_alpha: int = 255,
                 opacity: float = 1.0, pixel_format: PixelFormat = PixelFormat.RGBA8888) -> np.ndarray:
    """The packed colours ``render_packed`` looks up for an (n, 4) RGBA ``lut``: for each label its fill
    then its outline colour, and a transparent pair at the end. ``fill_alpha`` scales the fill's alpha
    (outlines stay opaque); ``opacity`` scales every alpha. Label 0 (void) has no outline."""
    mode = OverlayMode(mode)
    rgba = np.zeros((len(lut) + 1, 2, 4), np.float64)
    rgba[: len(lut), :] = lut[:, None]
    if mode is OverlayMode.OUTLINE:
        rgba[:, 0] = 0
    else:
        rgba[:, 0, 3] = rgba[:, 0, 3] * fill_alpha // 255
    rgba[0, 1] = rgba[0, 0]
    rgba[..., 3] = np.floor(rgba[..., 3] * opacity + 0.5)
    if PixelFormat(pixel_format) is PixelFormat.RGBA8888:
        return rgba.astype(np.uint8).view(np.uint32).reshape(-1)
    alpha = rgba[..., 3:]
    colour = np.floor(rgba[..., :3] * alpha / 255 + 0.5).astype(np.uint32)
    words = (alpha[..., 0].astype(np.uint32) << 24) | (colour[..., 0] << 16) | (colour[..., 1] << 8) | colour[..., 2]
    return words.reshape(-1)


def render_packed(labels: np.ndarray, table: np.ndarray, mode: OverlayMode = OverlayMode.FILL,
                  outline_width: int = 1) -> np.ndarray:
    """(h, w) uint32 packed colours of ``labels`` (ids below 2**30) through a ``colour_table``: filled,
    outlined or both. Labels beyond the table's end are transparent."""
    table, index = _lookup(labels, table, mode, outline_width)
    return np.take(table, index, mode="clip")


def _lookup(labels: np.ndarray, table: np.ndarray, mode: OverlayMode, outline_width: int):
    """The table and the index into it of each pixel (``render_packed`` takes one through the other)."""
    labels = _as_cv_labels(labels)
    if OverlayMode(mode) is OverlayMode.FILL:
        return table[0::2], labels
    edge = _edge_mask(labels, outline_width)
    index = np.left_shift(labels, 1)
    index |= np.bitwise_and(edge, 1, out=edge)
    return table, index


_BAND_PIXELS = 1 << 18  # smaller renders are not worth a thread hop
_BAND_WORKERS = min(4, os.cpu_count() or 1)


@cache
def _band_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(_BAND_WORKERS, thread_name_prefix="overlay-band")


def render_sampled(labels: np.ndarray, grid: SampleGrid, table: np.ndarray,
                   mode: OverlayMode = OverlayMode.FILL, outline_width: int = 1) -> np.ndarray:
    """``render_packed(grid.sample(labels), ...)``, in horizontal bands on worker threads when large.
    Each band renders ``outline_width`` more rows on either side, so its outlines match the whole's."""
    sampled = grid.sample(labels)
    rows, cols = sampled.shape
    bands = min(_BAND_WORKERS, rows * cols // _BAND_PIXELS, rows)
    if bands <= 1:
        return render_packed(sampled, table, mode, outline_width)
    reach = 0 if OverlayMode(mode) is OverlayMode.FILL else outline_width
    out = np.empty((rows, cols), np.uint32)

    def render_band(band: int) -> None:
        i0, i1 = rows * band // bands, rows * (band + 1) // bands
        lo, hi = max(i0 - reach, 0), min(i1 + reach, rows)
        band_table, index = _lookup(sampled[lo:hi], table, mode, outline_width)
        np.take(band_table, index[i0 - lo : i1 - lo], mode="clip", out=out[i0:i1])

    list(_band_pool().map(render_band, range(bands)))
    return out
