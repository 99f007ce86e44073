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


def render_overlay(
    labels: np.ndarray,
    lut: np.ndarray,
    mode: OverlayMode = OverlayMode.FILL,
    fill_alpha: int = 255,
    outline_width: int = 1,
) -> np.ndarray:
    """RGBA (h, w, 4) uint8 overlay: ``lut[labels]`` filled, outlined, or both.

    ``fill_alpha`` scales the fill's alpha (outlines stay opaque), so 'both' shows a light fill with
    crisp borders. Labels beyond the table's end are drawn transparent.
    """
    mode = OverlayMode(mode)
    if labels.size and int(labels.max()) >= len(lut):
        lut = np.concatenate([lut, np.zeros((int(labels.max()) + 1 - len(lut), 4), np.uint8)])
    rgba = lut[labels]
    if mode is OverlayMode.OUTLINE:
        rgba[..., 3] = np.where(boundaries(labels, outline_width), rgba[..., 3], 0)
    elif mode is OverlayMode.BOTH:
        edge = boundaries(labels, outline_width)
        scaled = (rgba[..., 3].astype(np.uint16) * fill_alpha // 255).astype(np.uint8)
        rgba[..., 3] = np.where(edge, rgba[..., 3], scaled)
    elif fill_alpha != 255:
        rgba[..., 3] = (rgba[..., 3].astype(np.uint16) * fill_alpha // 255).astype(np.uint8)
    return rgba
