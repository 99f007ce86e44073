"""Edit operations on an Annotation, each returned as an ``EditAtom`` for ``EditHistory.apply``.

Nothing here changes the annotation: an operation reads it and says what would change (the changed
pixels only, and the segment-table entries it touches). Holes and multi-part segments survive every
operation because all of them work on the segment map, never on outlines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from segview.core.categories import CategorySet
from segview.core.history import EditAtom, PixelChange
from segview.core.masks import CroppedMask
from segview.core.segments import VOID, Annotation, Segment, Source

Point = tuple[float, float]


# --- building blocks -----------------------------------------------------------------------------------


def pixel_change(annotation: Annotation, mask: CroppedMask, value: int, *, only: Iterable[int] | None = None
                 ) -> PixelChange | None:
    """Set the pixels of ``mask`` (clipped to the image) to ``value``; with ``only``, just the pixels that
    now hold one of those ids. None when no pixel would change."""
    slices, region = mask.clipped(annotation.height, annotation.width)
    if region.size == 0:
        return None
    current = annotation.segment_map[slices]
    where = region & (current != value)
    if only is not None:
        where &= np.isin(current, np.fromiter(only, dtype=np.int64))
    if not where.any():
        return None
    crop = CroppedMask(slices[1].start, slices[0].start, where).tight()
    before = annotation.segment_map[crop.slices][crop.mask]
    after = np.full(before.shape, value, dtype=np.uint32 if value > np.iinfo(np.uint16).max else before.dtype)
    return PixelChange(crop.y, crop.x, crop.mask, before, after)


def segment_crop(annotation: Annotation, segment_id: int) -> CroppedMask:
    """The bbox-cropped mask of one segment (a 0×0 crop when it has no pixels)."""
    return CroppedMask.from_full(annotation.segment_map == segment_id)


def _crop_of_ids(annotation: Annotation, ids: Iterable[int]) -> CroppedMask:
    return CroppedMask.from_full(np.isin(annotation.segment_map, np.fromiter(ids, dtype=np.int64)))


# --- pixels ----------------------------------------------------------------------------------------------


def paint(annotation: Annotation, mask: CroppedMask, segment_id: int, segment: Segment | None = None, *,
          overwrite: bool = True) -> EditAtom | None:
    """Paint ``mask`` with ``segment_id``; a new id needs its ``segment``. ``overwrite=False`` paints only
    void pixels (brushing behind existing segments)."""
    if segment_id <= VOID:
        raise ValueError("paint a segment id above 0; use erase for void")
    is_new = segment_id not in annotation.segments
    if is_new and segment is None:
        raise ValueError(f"segment {segment_id} does not exist: give its Segment")
    change = pixel_change(annotation, mask, segment_id, only=None if overwrite else [VOID])
    if change is None:
        return None
    if is_new:
        return EditAtom(change, {segment_id: None}, {segment_id: segment})
    return EditAtom(change)


def class_segment(annotation: Annotation, categories: CategorySet | None, category_id: int) -> int:
    """The id new pixels of a class go into: a stuff class's existing segment (stuff has no instances:
    COCO panoptic lists each stuff class once per image), else the next free id."""
    if categories is not None and not categories.is_thing(category_id):
        for sid, segment in annotation.segments.items():
            if segment.category_id == category_id:
                return sid
    return annotation.next_id()


def new_segment(annotation: Annotation, mask: CroppedMask, segment: Segment, *, overwrite: bool = True,
                categories: CategorySet | None = None) -> tuple[int, EditAtom | None]:
    """Paint ``mask`` as a new segment (with ``categories``, a stuff class's pixels join its segment,
    see ``class_segment``); returns the segment's id and the atom."""
    segment_id = class_segment(annotation, categories, segment.category_id)
    new = segment_id not in annotation.segments
    return segment_id, paint(annotation, mask, segment_id, segment if new else None, overwrite=overwrite)


def erase(annotation: Annotation, mask: CroppedMask, *, only: Iterable[int] | None = None) -> EditAtom | None:
    """Make the pixels of ``mask`` void (all of them, or only those of the segments ``only``). Segments
    keep their table entries even when no pixel is left, so undo and redo stay exact."""
    change = pixel_change(annotation, mask, VOID, only=only)
    return None if change is None else EditAtom(change)


def cut_hole(annotation: Annotation, mask: CroppedMask, segment_id: int, categories: CategorySet
             ) -> EditAtom | None:
    """Cut ``mask`` out of one segment. Each cut pixel takes the stuff around the segment (the segment of
    the nearest pixel bordering it, when that is a stuff segment), so a hole in a polygon drawn over sky
    shows the sky again; where the nearest neighbour is void or another thing, the hole is void."""
    segment = segment_crop(annotation, segment_id)
    if segment.mask.size == 0:
        return None
    top, left = max(segment.y - 1, 0), max(segment.x - 1, 0)  # the segment's box and its 1-pixel rim
    window = CroppedMask(left, top, np.zeros((min(segment.y + segment.height + 1, annotation.height) - top,
                                              min(segment.x + segment.width + 1, annotation.width) - left), bool))
    ids = annotation.segment_map[window.slices]
    inside = ids == segment_id
    cut = window.mask
    (rows, cols), region = mask.clipped(annotation.height, annotation.width)
    y0, y1 = max(rows.start, top), min(rows.stop, top + cut.shape[0])
    x0, x1 = max(cols.start, left), min(cols.stop, left + cut.shape[1])
    if y0 < y1 and x0 < x1:
        cut[y0 - top : y1 - top, x0 - left : x1 - left] = region[y0 - rows.start : y1 - rows.start,
                                                                 x0 - cols.start : x1 - cols.start]
    cut &= inside
    if not cut.any():
        return None
    rim = cv2.dilate(inside.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool) & ~inside
    filled = np.zeros(ids.shape, dtype=ids.dtype)
    if rim.any():
        rim_ids = ids[rim]  # row-major, as distanceTransformWithLabels numbers the rim pixels
        stuff = [sid for sid in np.unique(rim_ids).tolist() if sid in annotation.segments
                 and (category := categories.get(annotation.segments[sid].category_id)) is not None
                 and not category.isthing]
        rim_ids = np.where(np.isin(rim_ids, stuff), rim_ids, VOID).astype(ids.dtype)
        _distance, nearest = cv2.distanceTransformWithLabels(
            (~rim).view(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        filled = rim_ids[nearest - 1]
    crop = CroppedMask(left, top, cut).tight()
    inner = (slice(crop.y - top, crop.y - top + crop.height), slice(crop.x - left, crop.x - left + crop.width))
    before = ids[inner][crop.mask]
    return EditAtom(PixelChange(crop.y, crop.x, crop.mask, before, filled[inner][crop.mask]))


def fill(annotation: Annotation, x: int, y: int, segment_id: int, segment: Segment | None = None
         ) -> EditAtom | None:
    """Flood-fill: the 4-connected region of pixels holding the same id as (x, y) becomes ``segment_id``."""
    if not (0 <= x < annotation.width and 0 <= y < annotation.height):
        return None
    region = (annotation.segment_map == annotation.segment_map[y, x]).view(np.uint8)
    _n, components = cv2.connectedComponents(region, connectivity=4)
    return paint(annotation, CroppedMask.from_full(components == components[y, x]), segment_id, segment)


def brush_mask(points: Sequence[Point], radius: float, height: int, width: int) -> CroppedMask:
    """The pixels whose centres lie within ``radius`` of the polyline through ``points`` (a round brush
    dragged along it), clipped to the image; pixel (i, j) covers [i, i+1) × [j, j+1).

    Computed exactly per segment on its own box (numpy), not with cv2's thick lines, whose rims are
    off by a pixel depending on sub-pixel position: a brushed mask must be what the cursor showed."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    r = max(float(radius), 0.5)
    x0 = max(int(np.floor(pts[:, 0].min() - r)), 0)
    y0 = max(int(np.floor(pts[:, 1].min() - r)), 0)
    x1 = min(int(np.ceil(pts[:, 0].max() + r)) + 1, width)
    y1 = min(int(np.ceil(pts[:, 1].max() + r)) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return CroppedMask(0, 0, np.zeros((0, 0), bool))
    out = np.zeros((y1 - y0, x1 - x0), bool)
    ends = zip(pts[:-1], pts[1:], strict=True) if len(pts) > 1 else [(pts[0], pts[0])]
    for a, b in ends:
        sx0 = max(int(np.floor(min(a[0], b[0]) - r)), x0)
        sy0 = max(int(np.floor(min(a[1], b[1]) - r)), y0)
        sx1 = min(int(np.ceil(max(a[0], b[0]) + r)) + 1, x1)
        sy1 = min(int(np.ceil(max(a[1], b[1]) + r)) + 1, y1)
        if sx1 <= sx0 or sy1 <= sy0:
            continue
        px = np.arange(sx0, sx1) + 0.5 - a[0]
        py = (np.arange(sy0, sy1) + 0.5 - a[1])[:, None]
        d = b - a
        length2 = float(d @ d)
        t = np.clip((px * d[0] + py * d[1]) / length2, 0.0, 1.0) if length2 else 0.0
        near = (px - t * d[0]) ** 2 + (py - t * d[1]) ** 2 <= r * r
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] |= near
    return CroppedMask(x0, y0, out).tight()


def polygon_mask(exterior: Sequence[Point], holes: Sequence[Sequence[Point]] = (), *, height: int,
                 width: int) -> CroppedMask:
    """Rasterise a polygon with holes exactly as pycocotools does for COCO polygons (vertices in image
    coordinates, pixel (i, j) covering [i, i+1) × [j, j+1)), so that a drawn outline and its export agree.
    pycocotools' result depends on the raster's origin, so the whole image is rasterised (one pass)."""
    rings = [np.asarray(exterior, dtype=np.float64).reshape(-1, 2)]
    if len(rings[0]) < 3:
        return CroppedMask(0, 0, np.zeros((0, 0), bool))
    rings += [np.asarray(h, dtype=np.float64).reshape(-1, 2) for h in holes if len(h) >= 3]
    masks = mask_utils.decode(mask_utils.frPyObjects([r.ravel().tolist() for r in rings], height, width))
    mask = masks[:, :, 0].astype(bool)
    for k in range(1, len(rings)):
        mask &= ~masks[:, :, k].astype(bool)
    return CroppedMask.from_full(mask)


def grabcut_mask(image: np.ndarray, box: tuple[int, int, int, int], iterations: int = 5) -> CroppedMask:
    """OpenCV GrabCut inside ``box`` (x, y, width, height) of an RGB image: the likely foreground pixels."""
    h, w = image.shape[:2]
    x, y, bw, bh = box
    x, y = max(0, int(x)), max(0, int(y))
    bw, bh = min(int(bw), w - x), min(int(bh), h - y)
    if bw < 2 or bh < 2:
        return CroppedMask(0, 0, np.zeros((0, 0), bool))
    # GrabCut only needs a margin of context around the box: work on that crop, not the whole image.
    margin = max(8, max(bw, bh) // 4)
    cx0, cy0 = max(0, x - margin), max(0, y - margin)
    cx1, cy1 = min(w, x + bw + margin), min(h, y + bh + margin)
    crop = np.ascontiguousarray(image[cy0:cy1, cx0:cx1, :3][:, :, ::-1])  # OpenCV wants BGR
    labels = np.zeros(crop.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(crop, labels, (x - cx0, y - cy0, bw, bh), background, foreground, iterations,
                cv2.GC_INIT_WITH_RECT)
    keep = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    return CroppedMask(cx0, cy0, keep).tight()


# --- segments --------------------------------------------------------------------------------------------


def _table_atom(annotation: Annotation, changes: dict[int, Segment | None]) -> EditAtom | None:
    before = {sid: annotation.segments.get(sid) for sid in changes}
    changed = {sid: seg for sid, seg in changes.items() if before[sid] != seg}
    if not changed:
        return None
    return EditAtom(None, {sid: before[sid] for sid in changed}, changed)


def relabel(annotation: Annotation, ids: Iterable[int], category_id: int) -> EditAtom | None:
    """Give segments another category; a relabelled segment counts as a person's (its score is kept)."""
    return _table_atom(annotation, {sid: replace(annotation.segments[sid], category_id=category_id,
                                                 source=Source.PERSON) for sid in ids})


def set_crowd(annotation: Annotation, ids: Iterable[int], iscrowd: bool) -> EditAtom | None:
    """Mark segments as crowd regions (or not)."""
    return _table_atom(annotation, {sid: replace(annotation.segments[sid], iscrowd=iscrowd) for sid in ids})


def delete(annotation: Annotation, ids: Iterable[int]) -> EditAtom | None:
    """Remove segments: their pixels become void and their ids disappear."""
    ids = [sid for sid in ids if sid in annotation.segments]
    if not ids:
        return None
    change = pixel_change(annotation, _crop_of_ids(annotation, ids), VOID)
    return EditAtom(change, {sid: annotation.segments[sid] for sid in ids}, dict.fromkeys(ids))


def merge(annotation: Annotation, ids: Sequence[int]) -> EditAtom | None:
    """Join segments into the first one: the others' pixels take its id and their ids disappear."""
    target, others = ids[0], [sid for sid in ids[1:] if sid in annotation.segments and sid != ids[0]]
    if target not in annotation.segments or not others:
        return None
    change = pixel_change(annotation, _crop_of_ids(annotation, others), target)
    return EditAtom(change, {sid: annotation.segments[sid] for sid in others}, dict.fromkeys(others))


def split(annotation: Annotation, segment_id: int) -> tuple[list[int], EditAtom | None]:
    """Split a segment into its 8-connected parts: the largest keeps the id, each other part gets a new id
    with the same description. Returns the ids of all parts (largest first) and the atom."""
    crop = segment_crop(annotation, segment_id)
    if crop.mask.size == 0:
        return [segment_id], None
    n, components = cv2.connectedComponents(crop.mask.view(np.uint8), connectivity=8)
    if n <= 2:
        return [segment_id], None
    sizes = np.bincount(components.ravel(), minlength=n)[1:]
    order = [int(c) + 1 for c in np.argsort(-sizes, kind="stable")]
    first_new = annotation.next_id()
    new_ids = list(range(first_new, first_new + len(order) - 1))
    values = np.zeros(n, dtype=np.uint32)
    values[order[0]] = segment_id
    values[order[1:]] = new_ids
    where = crop.mask & (components != order[0])
    sub = CroppedMask(crop.x, crop.y, where).tight()
    rows, cols = slice(sub.y - crop.y, sub.y - crop.y + sub.height), slice(sub.x - crop.x, sub.x - crop.x + sub.width)
    after = values[components[rows, cols][sub.mask]]
    before = annotation.segment_map[sub.slices][sub.mask]
    change = PixelChange(sub.y, sub.x, sub.mask, before, after.astype(np.uint32 if after.max() > 65535 else before.dtype))
    segment = annotation.segments[segment_id]
    return [segment_id, *new_ids], EditAtom(change, dict.fromkeys(new_ids), dict.fromkeys(new_ids, segment))


def accept(annotation: Annotation, fused: Annotation, ids: Iterable[int] | None = None, *,
           only_void: bool = False) -> tuple[list[int], EditAtom | None]:
    """Copy segments of a fused prediction (all, or ``ids``) into the annotation as new segments painted
    over what is there (``only_void``: only where nothing is annotated; a segment with no such pixel is
    left out); each keeps its model source and score. Returns the new ids and the atom."""
    if (fused.height, fused.width) != (annotation.height, annotation.width):
        raise ValueError("the prediction and the annotation have different sizes")
    chosen = sorted(fused.segments) if ids is None else [sid for sid in ids if sid in fused.segments]
    if not chosen:
        return [], None
    first_new = annotation.next_id()
    mapping = np.zeros(max(fused.segments) + 1, dtype=np.uint32)
    new_ids = list(range(first_new, first_new + len(chosen)))
    mapping[chosen] = new_ids
    ids_map = fused.segment_map
    translated = mapping[np.where(ids_map < mapping.size, ids_map, 0)]
    crop = CroppedMask.from_full(translated != 0)
    if crop.mask.size == 0:
        return [], None
    region = annotation.segment_map[crop.slices]
    where = crop.mask & (region != translated[crop.slices])
    if only_void:
        where &= region == VOID
    sub = CroppedMask(crop.x, crop.y, where).tight()
    if sub.mask.size == 0:
        return [], None
    before = annotation.segment_map[sub.slices][sub.mask]
    after = translated[sub.slices][sub.mask]
    dtype = np.uint32 if int(after.max()) > np.iinfo(np.uint16).max else before.dtype
    change = PixelChange(sub.y, sub.x, sub.mask, before, after.astype(dtype))
    after_segments = {new: fused.segments[old] for old, new in zip(chosen, new_ids, strict=True)}
    if only_void:  # segments that found no free pixel are not added
        present = set(np.unique(after).tolist())
        after_segments = {sid: seg for sid, seg in after_segments.items() if sid in present}
        new_ids = list(after_segments)
    return new_ids, EditAtom(change, dict.fromkeys(new_ids), after_segments)
