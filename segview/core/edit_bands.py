"""Splitting a large edit atom into row bands, so that a caller can apply it a band at a time (the window
stays responsive while accept all writes 48 million pixels) and still record one undo step."""

from __future__ import annotations

import numpy as np

from segview.core.history import EditAtom, PixelChange


def split_rows(atom: EditAtom, max_pixels: int) -> list[EditAtom]:
    """``atom`` as consecutive row bands of its box, each at most about ``max_pixels`` of the box; the
    first band carries the segment-table change. Applied in order (or undone in reverse) the bands do
    exactly what the atom does. An atom without pixels, or a small one, comes back whole."""
    change = atom.pixels
    if change is None or change.where.size <= max_pixels:
        return [atom]
    height, width = change.where.shape
    rows = max(1, max_pixels // max(width, 1))
    # changed pixels before each row, in the row-major order of ``before`` and ``after``
    starts = np.concatenate([[0], np.cumsum(np.count_nonzero(change.where, axis=1))])
    bands: list[EditAtom] = []
    for r0 in range(0, height, rows):
        r1 = min(r0 + rows, height)
        a, b = int(starts[r0]), int(starts[r1])
        if a == b and bands:
            continue  # no changed pixel in these rows
        pixels = PixelChange(change.top + r0, change.left, change.where[r0:r1], change.before[a:b], change.after[a:b])
        if bands:
            bands.append(EditAtom(pixels))
        else:
            bands.append(EditAtom(pixels, atom.segments_before, atom.segments_after))
    return bands
