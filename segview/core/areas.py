"""Pixel areas of an annotation's segments, kept up to date from its edit steps without a full recount."""

from __future__ import annotations

import numpy as np

from segview.core.history import Edit
from segview.core.segments import Annotation


class SegmentAreas:
    """The pixel count of every segment id of one annotation: one pass over the map when made, then each
    step adds the counts of the ids its changed pixels got and takes off those they had."""

    def __init__(self, annotation: Annotation) -> None:
        self.annotation = annotation
        self._counts = np.bincount(annotation.segment_map.ravel()).astype(np.int64)

    def area(self, segment_id: int) -> int:
        """Pixels holding ``segment_id`` (0 for an id with none)."""
        return int(self._counts[segment_id]) if 0 <= segment_id < self._counts.size else 0

    def step(self, kind: str, edit: Edit) -> None:
        """Follow a step of the annotation's history: ``kind`` is "do", "undo" or "redo"."""
        sign = -1 if kind == "undo" else 1
        for atom in edit.atoms:
            if atom.pixels is not None:
                self._add(atom.pixels.after, sign)
                self._add(atom.pixels.before, -sign)

    def _add(self, ids: np.ndarray, sign: int) -> None:
        if not ids.size:
            return
        counts = np.bincount(ids.ravel())
        if counts.size > self._counts.size:
            self._counts = np.pad(self._counts, (0, counts.size - self._counts.size))
        self._counts[: counts.size] += sign * counts
