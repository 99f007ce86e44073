"""Segment everything's results: unlabeled mask candidates that a person turns into segments of a class.

They are kept apart from the annotation and from a model's prediction (their own layer); taking one makes
it a segment and removes it from the candidates. No torch, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segview.core.masks import CroppedMask
from segview.core.palette import class_color, lut_from_colors


@dataclass(frozen=True)
class EverythingParams:
    """Segment everything's settings (``segview.inference.everything``) (SAM's defaults, with a coarser grid for a CPU)."""

    points_per_side: int = 16
    # Points decoded together. One at a time is fastest on a CPU: per point the decoder carries image-sized
    # tensors (16 MB for EdgeTAM's upscaling), and batches of them outgrow the caches (bench/prompt.py's
    # Segment Everything: 64 at a time took ~1.7x as long per point).
    points_per_batch: int = 1
    iou_threshold: float = 0.88
    stability_threshold: float = 0.95
    stability_offset: float = 1.0
    nms_iou: float = 0.7
    min_area: int = 16  # pixels of the image: specks are not objects


@dataclass(frozen=True)
class Candidates:
    """Masks over an image of ``height`` × ``width``, each with the prompt model's predicted quality."""

    height: int
    width: int
    masks: tuple[CroppedMask, ...] = ()
    scores: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.masks)

    def at(self, x: float, y: float) -> int | None:
        """The index of the smallest candidate covering image point (x, y), or None."""
        col, row = int(np.floor(x)), int(np.floor(y))
        best: tuple[int, int] | None = None
        for index, crop in enumerate(self.masks):
            r, c = row - crop.y, col - crop.x
            if 0 <= r < crop.height and 0 <= c < crop.width and crop.mask[r, c]:
                if best is None or crop.area < best[1]:
                    best = (index, crop.area)
        return None if best is None else best[0]

    def without(self, index: int) -> Candidates:
        """These candidates less the one at ``index`` (taken as a segment)."""
        keep = [i for i in range(len(self.masks)) if i != index]
        return Candidates(self.height, self.width, tuple(self.masks[i] for i in keep),
                          tuple(self.scores[i] for i in keep))

    def label_map(self) -> np.ndarray:
        """A uint32 map: 0 where no candidate lies, else 1 + the index of the smallest candidate there (the
        one :meth:`at` picks), so small parts drawn over large ones stay visible."""
        labels = np.zeros((self.height, self.width), dtype=np.uint32)
        for index in sorted(range(len(self.masks)), key=lambda i: -self.masks[i].area):
            crop = self.masks[index]
            labels[crop.slices][crop.mask] = index + 1
        return labels

    def lut(self, alpha: int = 255) -> np.ndarray:
        """RGBA colours for :meth:`label_map` (each candidate its own, 0 transparent)."""
        return lut_from_colors({i + 1: class_color(i + 1) for i in range(len(self.masks))}, alpha)
