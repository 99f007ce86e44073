"""The single truth of one image: a segment map (one segment id per pixel) and its segments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from segview.core.masks import CroppedMask, label_bounding_slices

VOID = 0


class Source(str, Enum):
    """Who made a segment: a model's prediction or a person."""

    MODEL = "model"
    PERSON = "person"


@dataclass(frozen=True)
class Segment:
    """What a segment is: its category, crowd flag, model score (None for a person) and source."""

    category_id: int
    iscrowd: bool = False
    score: float | None = None
    source: Source = Source.PERSON


def _map_dtype(max_id: int) -> np.dtype:
    return np.dtype(np.uint16) if max_id <= np.iinfo(np.uint16).max else np.dtype(np.uint32)


class Annotation:
    """One image's segment map (uint16/uint32, 0 = void) and the segments its ids refer to.

    Semantic, instance and panoptic views are all derived from this (see ``segview.core.views``).
    """

    def __init__(
        self,
        height: int,
        width: int,
        segment_map: np.ndarray | None = None,
        segments: dict[int, Segment] | None = None,
    ) -> None:
        if segment_map is None:
            segment_map = np.zeros((height, width), dtype=np.uint16)
        if segment_map.shape != (height, width):
            raise ValueError(f"segment map is {segment_map.shape}, image is {(height, width)}")
        if segment_map.dtype not in (np.uint16, np.uint32):
            segment_map = segment_map.astype(_map_dtype(int(segment_map.max(initial=0))))
        self.segment_map: np.ndarray = segment_map
        self.segments: dict[int, Segment] = dict(segments or {})

    @property
    def height(self) -> int:
        return int(self.segment_map.shape[0])

    @property
    def width(self) -> int:
        return int(self.segment_map.shape[1])

    def copy(self) -> Annotation:
        return Annotation(self.height, self.width, self.segment_map.copy(), self.segments)

    def next_id(self) -> int:
        """The smallest id above every id in use."""
        return max(self.segments, default=0) + 1

    def _ensure_capacity(self, segment_id: int) -> None:
        if segment_id > np.iinfo(self.segment_map.dtype).max:
            self.segment_map = self.segment_map.astype(np.uint32)

    def add(
        self,
        mask: CroppedMask | np.ndarray,
        segment: Segment,
        *,
        segment_id: int | None = None,
        overwrite: bool = True,
    ) -> int:
        """Paint a new segment and return its id.

        ``overwrite=False`` paints only void pixels (what fusion and imports of overlapping
        instances need); the caller can compare areas to see what was occluded.
        """
        segment_id = self.next_id() if segment_id is None else int(segment_id)
        if segment_id <= VOID or segment_id in self.segments:
            raise ValueError(f"segment id {segment_id} is void or already used")
        self._ensure_capacity(segment_id)
        crop = mask if isinstance(mask, CroppedMask) else CroppedMask.from_full(mask)
        slices, region = crop.clipped(self.height, self.width)
        target = self.segment_map[slices]
        if not overwrite:
            region = region & (target == VOID)
        target[region] = segment_id
        self.segments[segment_id] = segment
        return segment_id

    def remove(self, segment_id: int) -> None:
        """Delete a segment; its pixels become void."""
        self.segments.pop(segment_id)
        self.segment_map[self.segment_map == segment_id] = VOID

    def mask(self, segment_id: int) -> np.ndarray:
        """Full-image bool mask of one segment."""
        return self.segment_map == segment_id

    def bounding_slices(self) -> dict[int, tuple[slice, slice]]:
        """Row/column slices of every segment present in the map (one pass over the map)."""
        found = label_bounding_slices(self.segment_map)
        return {sid: s for sid, s in found.items() if sid in self.segments}

    def crops(self) -> dict[int, CroppedMask]:
        """Bbox-cropped masks of every segment that has pixels, keyed by id."""
        return {
            sid: CroppedMask(int(sl[1].start), int(sl[0].start), self.segment_map[sl] == sid)
            for sid, sl in self.bounding_slices().items()
        }

    def areas(self) -> dict[int, int]:
        """Pixel count of every segment (0 for segments without pixels)."""
        counts = np.bincount(self.segment_map.ravel(), minlength=self.next_id())
        return {sid: int(counts[sid]) for sid in self.segments}

    def unknown_ids(self) -> set[int]:
        """Ids painted in the map that no segment describes (a corrupt document)."""
        present = np.unique(self.segment_map)
        return {int(i) for i in present if i != VOID and int(i) not in self.segments}

    def equals(self, other: Annotation) -> bool:
        """Same pixels and same segments (ids included)."""
        return (
            self.segment_map.shape == other.segment_map.shape
            and np.array_equal(self.segment_map, other.segment_map)
            and self.segments == other.segments
        )
