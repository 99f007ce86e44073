"""Overlay rendering: a label map and an RGBA lookup table become an RGBA image (no Qt)."""

from __future__ import annotations

from enum import Enum

import numpy as np


class OverlayMode(str, Enum):
    FILL = "fill"
    OUTLINE = "outline"
    BOTH = "both"


def boundaries(labels: np.ndarray, width: int = 1) -> np.ndarray:
    """Bool map of pixels whose label differs from a 4-neighbour's (inner boundary of each region)."""
    edge = np.zeros(labels.shape, dtype=bool)
    vertical = labels[1:, :] != labels[:-1, :]
    horizontal = labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= vertical
    edge[:-1, :] |= vertical
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    edge &= labels != 0
    for _ in range(width - 1):
        grown = edge.copy()
        grown[1:, :] |= edge[:-1, :]
        grown[:-1, :] |= edge[1:, :]
        grown[:, 1:] |= edge[:, :-1]
        grown[:, :-1] |= edge[:, 1:]
        edge = grown & (labels != 0)
    return edge


def _faded(lut: np.ndarray, fill_alpha: int) -> np.ndarray:
    """The table with its alpha scaled by ``fill_alpha`` / 255."""
    out = lut.copy()
    out[:, 3] = (lut[:, 3].astype(np.uint16) * fill_alpha // 255).astype(np.uint8)
    return out


def _packed(lut: np.ndarray) -> np.ndarray:
    """The (n, 4) uint8 table as n uint32 values, one per colour."""
    return np.ascontiguousarray(lut, dtype=np.uint8).view(np.uint32).ravel()


def _as_rgba(packed_pixels: np.ndarray) -> np.ndarray:
    return packed_pixels.view(np.uint8).reshape(*packed_pixels.shape, 4)


def render_overlay(
    labels: np.ndarray,
    lut: np.ndarray,
    mode: OverlayMode = OverlayMode.FILL,
    fill_alpha: int = 255,
    outline_width: int = 1,
) -> np.ndarray:
    """RGBA (h, w, 4) uint8 overlay: ``lut[labels]`` filled, outlined, or both.

    ``fill_alpha`` scales the fill's alpha (outlines stay opaque), so 'both' shows a light fill with
    crisp borders. Labels beyond the table's end are drawn transparent. Colours are looked up as one
    uint32 per pixel (several times faster than indexing the (n, 4) table byte by byte).
    """
    mode = OverlayMode(mode)
    if labels.size and int(labels.max()) >= len(lut):
        lut = np.concatenate([lut, np.zeros((int(labels.max()) + 1 - len(lut), 4), np.uint8)])
    if mode is OverlayMode.FILL:
        return _as_rgba(np.take(_packed(lut if fill_alpha == 255 else _faded(lut, fill_alpha)), labels))
    edge = boundaries(labels, outline_width)
    full = np.take(_packed(lut), labels)
    if mode is OverlayMode.OUTLINE:
        return _as_rgba(np.where(edge, full, np.uint32(0)))
    return _as_rgba(np.where(edge, full, np.take(_packed(_faded(lut, fill_alpha)), labels)))
