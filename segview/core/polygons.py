"""Pixel-exact polygons: mask outlines that pycocotools rasterises back to the very same pixels.

COCO puts pixel ``i`` on ``[i, i + 1]``. pycocotools' ``rleFrPoly`` (maskApi.c) scales coordinates by 5,
walks the outline and, wherever it crosses a column's centre line ``x = c + 0.5``, toggles that column
from the first row whose centre lies below the crossing; vertical edges never cross a centre line. So a
polygon along the pixel *edges* (corners on the integer lattice) toggles each column exactly at its
horizontal boundary edges and rasterises exactly, whereas one through pixel centres (what
``cv2.findContours`` gives) loses half a pixel all round.

``cv2.findContours`` finds the boundary pixels, in order, with their hierarchy (8-connected foreground,
4-connected background, as ``scipy.ndimage.binary_fill_holes`` counts holes). No library turns that
pixel chain into the pixel-edge outline, so ``_edge_rings`` does (see there).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from segview.core.report import Issue, Severity

# hierarchy columns of cv2.findContours: next sibling, previous sibling, first child, parent
_NEXT, _CHILD, _PARENT = 0, 2, 3
# pycocotools computes int(5 * coordinate + 0.5) and walks the polygon point by point: coordinates far
# outside the image would overflow a C int or allocate gigabytes, so they are refused.
_FAR_FACTOR = 10

# Corners of a pixel in clockwise order on screen (y down): top-left, top-right, bottom-right, bottom-left.
_CORNER_X = np.array([0, 1, 1, 0], dtype=np.int64)
_CORNER_Y = np.array([0, 0, 1, 1], dtype=np.int64)
# Indexed by a chain step (dx, dy) coded as 3 * dy + dx + 4: the corner of a pixel where the outline
# leaves it towards the next pixel in that direction, and where it enters it coming from the previous one.
# The step (0, 0) of a single-pixel chain enters and leaves at the top-left corner.
_EXIT = np.zeros(9, dtype=np.int64)
_ENTRY = np.zeros(9, dtype=np.int64)
for (_dx, _dy), _exit, _entry in (
    ((1, 0), 1, 0),
    ((1, 1), 2, 0),
    ((0, 1), 2, 1),
    ((-1, 1), 3, 1),
    ((-1, 0), 3, 2),
    ((-1, -1), 0, 2),
    ((0, -1), 0, 3),
    ((1, -1), 1, 3),
):
    _EXIT[3 * _dy + _dx + 4], _ENTRY[3 * _dy + _dx + 4] = _exit, _entry


def _cyclic_neighbours(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rings of these lengths laid end to end: each item's previous and next index within its
    own ring (wrapping around), and each ring's start."""
    starts = np.cumsum(lengths) - lengths
    ends = starts + lengths - 1
    following = np.arange(1, int(lengths.sum()) + 1)
    following[ends] = starts
    previous = np.arange(-1, int(lengths.sum()) - 1)
    previous[starts] = ends
    return previous, following, starts


def _edge_rings(contours: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pixel-edge outlines (x, y corner arrays, collinear vertices dropped) of cv2 contours.

    cv2 gives boundary pixel centres (CHAIN_APPROX_NONE), outer borders counter-clockwise and hole
    borders clockwise on screen, i.e. the background always on the same side. Reversed, every border
    keeps the background on its left; the outline then wraps each pixel clockwise from the corner where
    it enters (where the previous pixel left) to the corner where it leaves towards the next pixel.
    A reversal (a 1-pixel tip, or a single pixel) wraps the whole pixel. All contours are processed in
    one vectorised pass: per-contour numpy calls would cost more than the work itself.
    """
    lengths = np.array([len(c) for c in contours])
    chain = np.concatenate(contours[::-1])[::-1, 0].astype(np.int64)  # each contour reversed, in order
    xs, ys = chain[:, 0], chain[:, 1]
    previous, following, starts = _cyclic_neighbours(lengths)
    code_out = 3 * (ys[following] - ys) + (xs[following] - xs) + 4
    code_in = code_out[previous]
    entry = _ENTRY[code_in]
    count = (_EXIT[code_out] - entry) & 3  # corners after the entry one, up to the exit one
    count[(count == 0) & (code_in + code_out == 8)] = 4
    owner = np.repeat(np.arange(xs.size), count)
    corner = (np.repeat(entry - np.cumsum(count) + count, count) + np.arange(owner.size) + 1) & 3
    px = xs[owner] + _CORNER_X[corner]
    py = ys[owner] + _CORNER_Y[corner]
    emitted = np.add.reduceat(count, starts)  # every contour emits at least one corner
    previous, following, starts = _cyclic_neighbours(emitted)
    vertical = py[following] != py  # the step from each corner to the next
    turns = vertical != vertical[previous]
    kept = np.add.reduceat(turns.astype(np.int64), starts)
    cuts = np.cumsum(kept)[:-1]
    return list(zip(np.split(px[turns], cuts), np.split(py[turns], cuts), strict=True))


def _split_pinches(xs: np.ndarray, ys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a ring at corners it visits twice (parts touching diagonally) into simple rings.

    The parts of an outer outline meet in single corners and do not overlap, so their union rasterises
    like the pinched ring, and each part is a valid (simple) polygon for shapely and other tools.
    """
    seen: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        j = seen.get(key)
        if j is not None:
            inner = _split_pinches(xs[j:i], ys[j:i])
            return inner + _split_pinches(np.concatenate((xs[:j], xs[i:])), np.concatenate((ys[:j], ys[i:])))
        seen[key] = i
    return [(xs, ys)]


def _pinched(rings: list[tuple[np.ndarray, np.ndarray]]) -> set[int]:
    """Indices of the rings that visit some corner twice (one sort over all rings)."""
    ring = np.repeat(np.arange(len(rings)), [len(xs) for xs, _ in rings])
    xs = np.concatenate([xs for xs, _ in rings])
    ys = np.concatenate([ys for _, ys in rings])
    order = np.lexsort((ys, xs, ring))
    ring, xs, ys = ring[order], xs[order], ys[order]
    repeated = (ring[1:] == ring[:-1]) & (xs[1:] == xs[:-1]) & (ys[1:] == ys[:-1])
    return set(ring[1:][repeated].tolist())


def _flat(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    flat = np.empty(2 * xs.size, dtype=np.int64)
    flat[0::2], flat[1::2] = xs, ys
    return flat


def _contours(mask: np.ndarray, x0: int = 0, y0: int = 0) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """cv2 contours (pixel chains, offset by (x0, y0)) and hierarchy rows of a C-contiguous bool mask
    that has pixels. OpenCV 4 traces objects touching the image border correctly: no padding needed."""
    contours, hierarchy = cv2.findContours(
        mask.view(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE, offset=(x0, y0)
    )
    return contours, hierarchy[0]


def outlines_many(masks: Sequence[tuple[np.ndarray, int, int]]) -> list[tuple[list[np.ndarray], bool]]:
    """``outlines`` of many cropped masks (mask, x0, y0), their contours converted in one pass."""
    holes = [False] * len(masks)
    outer: list[np.ndarray] = []
    owners: list[int] = []
    for index, (mask, x0, y0) in enumerate(masks):
        if not mask.any():
            continue
        contours, links = _contours(mask, x0, y0)
        holes[index] = bool((links[:, _PARENT] >= 0).any())
        for contour, parent in zip(contours, links[:, _PARENT].tolist(), strict=True):
            if parent < 0:
                outer.append(contour)
                owners.append(index)
    rings: list[list[np.ndarray]] = [[] for _ in masks]
    if outer:
        edges = _edge_rings(outer)
        pinched = _pinched(edges)
        for k, (owner, (xs, ys)) in enumerate(zip(owners, edges, strict=True)):
            parts = _split_pinches(xs, ys) if k in pinched else [(xs, ys)]
            rings[owner].extend(_flat(x, y) for x, y in parts)
    return list(zip(rings, holes, strict=True))


def outlines(mask: np.ndarray, x0: int = 0, y0: int = 0) -> tuple[list[np.ndarray], bool]:
    """Outer pixel-edge outlines of a (cropped) C-contiguous bool mask as flat int64 rings
    [x0, y0, x1, y1, ...] offset by (x0, y0), each a simple polygon; and whether the mask has holes.

    One findContours pass gives both (what the COCO export needs per segment).
    """
    return outlines_many([(mask, x0, y0)])[0]


def _bbox_crop(mask: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The contiguous bool crop of a 2-D mask to its set pixels, and the crop's top-left (x, y)."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, not of shape {mask.shape}")
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    return np.ascontiguousarray(mask[y : y + h, x : x + w]), x, y


def mask_to_polygons(mask: np.ndarray) -> list[list[float]]:
    """COCO polygons (flat [x0, y0, x1, y1, ...]) of the outer boundaries of a binary mask.

    For a mask without holes, ``polygons_to_mask(mask_to_polygons(m), h, w)`` gives back exactly ``m``;
    holes are not expressed (COCO polygons cannot), so a mask with holes comes back filled.
    Every polygon is simple; parts that touch only at a corner are separate polygons.
    """
    crop, x, y = _bbox_crop(mask)
    rings, _ = outlines(crop, x, y)
    return [ring.astype(np.float64).tolist() for ring in rings]


def has_holes(mask: np.ndarray) -> bool:
    """True when some background region is enclosed by the mask (4-connected background)."""
    crop, _, _ = _bbox_crop(mask)
    if crop.size == 0:
        return False
    _, links = _contours(crop)
    return bool((links[:, _PARENT] >= 0).any())


def mask_to_shapely(mask: np.ndarray) -> MultiPolygon:
    """The mask as a valid shapely MultiPolygon along pixel edges, holes included (area = pixel count)."""
    crop, x0, y0 = _bbox_crop(mask)
    if crop.size == 0:
        return MultiPolygon()
    contours, links = _contours(crop, x0, y0)
    rings = [np.column_stack(ring) for ring in _edge_rings(list(contours))]
    parts = []
    for index in np.flatnonzero(links[:, _PARENT] < 0):
        holes = []
        child = links[index, _CHILD]
        while child >= 0:
            holes.append(rings[child])
            child = links[child, _NEXT]
        parts.append(Polygon(rings[index], holes))
    geometry = MultiPolygon(parts)
    if geometry.is_valid:
        return geometry
    # Rings that touch themselves at a corner (diagonal neighbours) are invalid in the OGC model;
    # make_valid splits them at that corner without moving any edge.
    fixed = shapely.make_valid(geometry)
    return MultiPolygon([g for g in shapely.get_parts(fixed) if isinstance(g, Polygon) and not g.is_empty])


def polygon_issues(coords: object, width: int, height: int) -> list[Issue]:
    """Problems of one COCO polygon (flat [x0, y0, ...]) in a width × height image.

    Errors (the polygon cannot be used): not a flat list of numbers, odd count, fewer than 3 points,
    non-finite numbers, coordinates far outside the image. Warnings (pycocotools still rasterises it
    and that result is kept): not simple (self-intersecting), points outside the image (clipped).
    """
    return check_polygon(coords, width, height)[1]


def check_polygon(coords: object, width: int, height: int) -> tuple[np.ndarray | None, list[Issue]]:
    """``polygon_issues`` plus the coordinates as a flat float64 array, None when there is an error."""
    try:
        values = np.array(coords) if isinstance(coords, list) else None
    except (ValueError, OverflowError):  # ragged nesting
        values = None
    if values is None or values.ndim != 1 or values.dtype.kind not in "iuf":
        return None, [Issue(Severity.ERROR, "polygon is not a flat list of numbers")]
    if values.size % 2:
        return None, [Issue(Severity.ERROR, f"polygon has an odd number of coordinates ({values.size})")]
    if values.size < 6:
        return None, [Issue(Severity.ERROR, f"polygon has {values.size // 2} point(s), fewer than 3")]
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        return None, [Issue(Severity.ERROR, "polygon has non-finite coordinates (NaN or infinity)")]
    limit = _FAR_FACTOR * max(width, height)
    if np.abs(values).max() > limit:
        return None, [
            Issue(Severity.ERROR, f"polygon has coordinates beyond ±{limit}, far outside the image")
        ]
    issues = []
    xy = values.reshape(-1, 2)
    ring = Polygon(xy)
    if not ring.is_valid:
        issues.append(
            Issue(
                Severity.WARNING,
                f"polygon is not simple ({explain_validity(ring)}); kept as pycocotools rasterises it",
            )
        )
    outside = np.count_nonzero((xy[:, 0] < 0) | (xy[:, 0] > width) | (xy[:, 1] < 0) | (xy[:, 1] > height))
    if outside:
        issues.append(
            Issue(Severity.WARNING, f"{outside} polygon point(s) outside the {width}×{height} image; clipped")
        )
    return values, issues
