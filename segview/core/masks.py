"""Binary masks: bbox-cropped masks, COCO RLE (pycocotools), area and bbox.

Encodings are converted only here: pycocotools wants Fortran-ordered uint8 arrays, boxes are XYWH.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

BBoxXYWH = tuple[float, float, float, float]


@dataclass(frozen=True)
class CroppedMask:
    """A binary mask stored as its bounding-box crop: top-left corner (x, y) and a bool array."""

    x: int
    y: int
    mask: np.ndarray

    @property
    def height(self) -> int:
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])

    @property
    def area(self) -> int:
        return int(np.count_nonzero(self.mask))

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the crop in the full image."""
        return slice(self.y, self.y + self.height), slice(self.x, self.x + self.width)

    @classmethod
    def from_full(cls, mask: np.ndarray) -> CroppedMask:
        """Crop a full-image mask to its bounding box (an empty mask gives a 0×0 crop at 0, 0)."""
        mask = np.asarray(mask, dtype=bool)
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            return cls(0, 0, np.zeros((0, 0), dtype=bool))
        cols = np.flatnonzero(mask.any(axis=0))
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        return cls(int(x0), int(y0), mask[y0:y1, x0:x1].copy())

    def tight(self) -> CroppedMask:
        """The same mask with its crop shrunk to the set pixels."""
        inner = CroppedMask.from_full(self.mask)
        if inner.mask.size == 0:
            return inner
        return CroppedMask(self.x + inner.x, self.y + inner.y, inner.mask)

    def clipped(self, height: int, width: int) -> tuple[tuple[slice, slice], np.ndarray]:
        """The part inside a height × width image: its slices there and the matching sub-mask."""
        y0, x0 = min(max(self.y, 0), height), min(max(self.x, 0), width)
        y1, x1 = max(min(self.y + self.height, height), y0), max(min(self.x + self.width, width), x0)
        sub = self.mask[y0 - self.y : y1 - self.y, x0 - self.x : x1 - self.x]
        return (slice(y0, y1), slice(x0, x1)), sub

    def to_full(self, height: int, width: int) -> np.ndarray:
        """Paste into a full-size bool array (parts outside the image are clipped)."""
        full = np.zeros((height, width), dtype=bool)
        slices, sub = self.clipped(height, width)
        full[slices] = sub
        return full

    def bbox_xywh(self) -> BBoxXYWH:
        """COCO box [x, y, w, h] of the set pixels."""
        t = self.tight()
        return (float(t.x), float(t.y), float(t.width), float(t.height))


def rle_encode(mask: np.ndarray) -> dict:
    """Compressed COCO RLE of a full-image mask, with ``counts`` as str (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask, dtype=np.uint8))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def rle_decode(rle: dict) -> np.ndarray:
    """Decode a compressed or uncompressed COCO RLE to a bool (h, w) mask."""
    if isinstance(rle.get("counts"), list):
        h, w = rle["size"]
        rle = mask_utils.frPyObjects(rle, h, w)
    elif isinstance(rle.get("counts"), str):
        rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
    return mask_utils.decode(rle).astype(bool)


def rle_area(rle: dict) -> int:
    """Area of a compressed RLE, from pycocotools."""
    return int(mask_utils.area(_bytes_rle(rle)))


def rle_bbox(rle: dict) -> BBoxXYWH:
    """COCO [x, y, w, h] box of a compressed RLE, from pycocotools."""
    return tuple(float(v) for v in mask_utils.toBbox(_bytes_rle(rle)))  # type: ignore[return-value]


def polygons_to_mask(polygons: list[list[float]], height: int, width: int) -> np.ndarray:
    """Rasterise COCO polygons ([[x0, y0, x1, y1, ...], ...]) the way pycocotools does."""
    rles = mask_utils.frPyObjects([list(map(float, p)) for p in polygons], height, width)
    return mask_utils.decode(mask_utils.merge(rles)).astype(bool)


def _bytes_rle(rle: dict) -> dict:
    counts = rle["counts"]
    if isinstance(counts, str):
        return {"size": rle["size"], "counts": counts.encode("ascii")}
    if isinstance(counts, list):
        h, w = rle["size"]
        return mask_utils.frPyObjects(rle, h, w)
    return rle


def label_bounding_slices(labels: np.ndarray) -> dict[int, tuple[slice, slice]]:
    """Row and column slices of every non-zero label of a 2-D integer map, keyed by label.

    The same boxes as ``scipy.ndimage.find_objects`` in one vectorised pass over the horizontal runs,
    about 8× faster on 1920×1080 maps (find_objects also holds the GIL throughout).
    """
    height, width = labels.shape
    if labels.size == 0:
        return {}
    flat = labels.ravel()
    starts = np.empty(flat.size, dtype=bool)
    starts[0] = True
    np.not_equal(flat[1:], flat[:-1], out=starts[1:])
    starts[::width] = True  # runs never cross a row end
    first = np.flatnonzero(starts)
    last = np.append(first[1:], flat.size) - 1
    run_labels = flat[first]
    keep = run_labels != 0
    first, last, run_labels = first[keep], last[keep], run_labels[keep]
    if run_labels.size == 0:
        return {}
    top = int(run_labels.max())
    if top < 4 * run_labels.size + 1024:  # small ids: tables indexed by label
        ids, index, size = None, run_labels.astype(np.intp), top + 1
    else:  # a few huge ids: number them densely first
        ids, index = np.unique(run_labels, return_inverse=True)
        size = ids.size
    rows = first // width
    row0 = np.full(size, height)
    row1 = np.full(size, -1)
    col0 = np.full(size, width)
    col1 = np.full(size, -1)
    np.minimum.at(row0, index, rows)
    np.maximum.at(row1, index, rows)
    np.minimum.at(col0, index, first - rows * width)
    np.maximum.at(col1, index, last - rows * width)
    present = np.flatnonzero(row1 >= 0)
    labels_present = present if ids is None else ids[present]
    return {
        int(label): (slice(int(row0[k]), int(row1[k]) + 1), slice(int(col0[k]), int(col1[k]) + 1))
        for label, k in zip(labels_present.tolist(), present.tolist(), strict=True)
    }
