"""COCO instances: load (with validation into a Report) and save (polygons or RLE, atomically).

Loading paints every image's instances into one segment map; saving writes one annotation per *thing*
segment. Masks are converted pixel-exactly both ways (see ``segview.core.polygons``).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, NoReturn

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.masks import CroppedMask, label_bounding_slices
from segview.core.palette import parse_color
from segview.core.polygons import check_polygon, outlines_many
from segview.core.report import Issue, Report, Severity
from segview.core.segments import Annotation, Segment, Source
from segview.errors import FormatError, ImageReadError
from segview.io.atomic import atomic_open
from segview.io.file_names import file_name_problem, shown, text_problem
from segview.io.image_root import image_root_info, json_image_root
from segview.io.images import read_image_size
from segview.io.pixel_budget import budget_message, over_budget
from segview.io.progress import ImageProgress, counted

MaskFormat = Literal["auto", "polygon", "rle"]
MASK_FORMATS: tuple[str, ...] = ("auto", "polygon", "rle")

_FORMAT_HELP = "see https://cocodataset.org/#format-data for the COCO instances format"
_MAX_ID = 2**63 - 1
_MAX_CATEGORY_ID = 2**31 - 1
# The bbox may be off by this many pixels (COCO boxes are polygon extents, masks are whole pixels).
_BBOX_TOLERANCE = 1.0
# A polygon's stored area is its geometric area: warn only when it is off by more than both of these.
_POLYGON_AREA_RATIO, _POLYGON_AREA_PIXELS = 0.10, 4
# Datasets with at least this many segments are encoded by two forked processes.
_PARALLEL_MIN_INSTANCES = 2000


# ----------------------------------------------------------------------------------------------- loading


def load_coco(
    path: str | os.PathLike,
    image_root: str | os.PathLike | None = None,
    *,
    check_images: bool = True,
    progress: ImageProgress | None = None,
) -> tuple[Dataset, Report]:
    """Read a COCO instances file into a Dataset and a Report of everything that could not be carried over.

    ``image_root`` (default: the JSON's folder, or when the images are not there the folder a segview
    export recorded in ``info``, see :func:`segview.io.image_root.json_image_root`) is where ``file_name``
    paths are resolved; with
    ``check_images`` every image file must exist and have the stated size. Each image's annotations
    become segments 1..N in file order (an annotation skipped for an error takes no id). Overlapping
    pixels go to the smaller instance (usually the one in front); an instance left without pixels is
    dropped, leaving its id unused. Every image listed is annotated, as COCO tools (COCOeval, Detectron2,
    panopticapi's converters) take it: one without annotations gets an empty annotation (background only,
    no object), so it keeps its entry when converted to COCO panoptic; only an image over the pixel budget
    has none. Raises FormatError when the file as a whole cannot be read (not
    JSON, wrong structure, ids of the wrong type, missing keys); problems of single items are reported.
    ``progress(done, total)`` follows the decoding of the annotations in images: total is the number
    of images, done that number times the share of annotations decoded.
    """
    path = Path(path)
    doc = _read_json(path)
    reader = _Reader(path)
    if not isinstance(doc, dict):
        reader.fail(
            "the top level", f"must be an object with images, categories and annotations, not {_kind(doc)}"
        )
    report = Report()
    categories, aliases = _read_categories(reader, reader.array(doc, "categories"), report)
    records, too_large = _read_images(reader, reader.array(doc, "images"), report)
    root = path.parent if image_root is None else Path(image_root)
    if image_root is None:
        root = json_image_root(root, doc, [r.file_name for r in records.values()], report, path.name)
    if check_images:
        _check_image_files(records.values(), root, report)
    if "annotations" in doc:
        annotations = reader.array(doc, "annotations")
    else:
        annotations = []
        report.info("the file has no 'annotations' list: images and categories only")
    decoded = None if progress is None else _as_share_of(progress, len(records))
    instances = _read_annotations(
        reader, counted(annotations, decoded), records, too_large, categories, aliases, report
    )
    for image_id, items in instances.items():
        _paint(records[image_id], items, report)
    for image_id, record in records.items():  # listed in a COCO instances file: annotated, maybe with no object
        if record.annotation is None and image_id not in too_large:
            record.annotation = Annotation(record.height, record.width)
    return Dataset(categories, list(records.values()), image_root=root), report


def _as_share_of(progress: ImageProgress, images: int) -> ImageProgress:
    """``progress`` called with the share ``done / total`` as that share of ``images``."""
    return lambda done, total: progress(images * done // total, images)


def _read_json(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(
            f"Cannot read {path}: {exc.strerror or exc}. Check the path and its permissions."
        ) from exc
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Repair the file or export it again."
        ) from exc
    except (ValueError, RecursionError) as exc:  # bad encoding, numbers too long, nesting too deep
        raise FormatError(f"{path} is not valid JSON ({exc}). Repair the file or export it again.") from exc


def _kind(value: object) -> str:
    """How a JSON value reads in an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r:.40}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"


@dataclass(frozen=True)
class _Reader:
    """Strict accessors for the file's structure: any violation is a FormatError naming the JSON path."""

    path: Path

    def fail(self, where: str, problem: str) -> NoReturn:
        raise FormatError(f"{self.path}: {where} {problem}. Fix the file ({_FORMAT_HELP}) and load it again.")

    def array(self, obj: dict, key: str) -> list:
        if key not in obj:
            self.fail(key, "is missing")
        value = obj[key]
        if not isinstance(value, list):
            self.fail(key, f"must be a list, not {_kind(value)}")
        return value

    def record(self, value: object, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, not {_kind(value)}")
        return value

    def integer(self, obj: dict, key: str, where: str, low: int = 0, high: int = _MAX_ID) -> int:
        if key not in obj:
            self.fail(f"{where}.{key}", "is missing")
        value = obj[key]
        if type(value) is not int:
            self.fail(f"{where}.{key}", f"must be an integer, not {_kind(value)}")
        if not low <= value <= high:
            self.fail(f"{where}.{key}", f"must be between {low} and {high}, not {value}")
        return value

    def text(self, obj: dict, key: str, where: str, default: str | None = None) -> str:
        if key not in obj and default is not None:
            return default
        if key not in obj:
            self.fail(f"{where}.{key}", "is missing")
        value = obj[key]
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", f"must be a string, not {_kind(value)}")
        problem = text_problem(value)
        if problem is not None:
            self.fail(f"{where}.{key} {shown(value)}", problem)
        return value


_VOID_NAMES = {"void", "background", "__background__", "unlabeled", "unlabelled", "ignore"}


def _zero_based(items: list) -> bool:
    """True for a 0-based file (``category_id_base=0``, as Detectron2-style tools write): ids 0..n-1 with
    a real class at 0. Such a file is read with every id shifted up by one, since 0 means void here; a
    class called void or background at id 0 is skipped instead."""
    if not all(isinstance(i, dict) for i in items):
        return False  # not read at all: _read_categories names the entry that is not an object
    ids = [i.get("id") for i in items]
    if not ids or any(type(v) is not int for v in ids) or sorted(ids) != list(range(len(ids))):
        return False
    first = next(i for i in items if i.get("id") == 0)
    return str(first.get("name", "")).strip().lower() not in _VOID_NAMES


def _read_categories(reader: _Reader, items: list, report: Report) -> tuple[CategorySet, dict[int, int]]:
    """The categories, and ids to read as another id (a repeated name merges into its first category)."""
    categories = CategorySet()
    aliases: dict[int, int] = {}
    shift = int(_zero_based(items))
    if shift:
        report.info("category ids start at 0: every category id is read as id + 1 (0 means void in segview)")
    for index, item in enumerate(items):
        where = f"categories[{index}]"
        obj = reader.record(item, where)
        read_id = reader.integer(obj, "id", where, -_MAX_CATEGORY_ID, _MAX_CATEGORY_ID)
        category_id = read_id + shift
        if shift:
            aliases[read_id] = category_id
        name = reader.text(obj, "name", where)
        supercategory = reader.text(obj, "supercategory", where, default="")
        isthing = obj.get("isthing", True)
        if isthing not in (0, 1) or not isinstance(isthing, (bool, int)):
            reader.fail(f"{where}.isthing", f"must be 0 or 1, not {_kind(isthing)}")
        label = f"category {category_id} {name!r}"
        color = None
        if obj.get("color") is not None:
            try:
                color = parse_color(obj["color"])
            except (ValueError, TypeError, OverflowError):
                report.warning(
                    f"colour {obj['color']!r:.40} is not [r, g, b]; the default colour is used", item=label
                )
        if category_id <= 0:
            report.warning(
                "category ids must be positive (0 means void in segview); category not loaded, "
                "annotations of it are skipped",
                item=label,
            )
            continue
        if category_id in categories:
            report.error(f"category id {category_id} is used twice; {where} is skipped", item=label)
            continue
        first = categories.by_name(name)
        if first is not None:
            report.warning(
                f"category name {name!r} is used twice; its annotations go to category {first.id}", item=label
            )
            aliases[read_id] = first.id
            continue
        categories.add(Category(category_id, name, bool(isthing), color, supercategory))
    return categories, aliases


def _read_images(reader: _Reader, items: list, report: Report) -> tuple[dict[int, ImageRecord], set[int]]:
    """Image records by id, and the ids of images too large to hold a segment map."""
    records: dict[int, ImageRecord] = {}
    too_large: set[int] = set()
    for index, item in enumerate(items):
        where = f"images[{index}]"
        obj = reader.record(item, where)
        image_id = reader.integer(obj, "id", where)
        file_name = reader.text(obj, "file_name", where)
        if not file_name:
            reader.fail(f"{where}.file_name", "is empty")
        problem = file_name_problem(file_name)
        if problem is not None:
            reader.fail(f"{where}.file_name {shown(file_name)}", problem)
        width = reader.integer(obj, "width", where, 1)
        height = reader.integer(obj, "height", where, 1)
        if image_id in records:
            report.error(
                f"image id {image_id} is used twice; {where} is skipped and the annotations with "
                f"this image_id go to {records[image_id].file_name}",
                image=file_name,
            )
            continue
        if over_budget(width, height):
            report.error(
                budget_message("the size the file gives", width, height) + " Its annotations are not loaded.",
                image=file_name,
            )
            too_large.add(image_id)
        records[image_id] = ImageRecord(image_id, file_name, width, height)
    return records, too_large


def _check_image_files(records: Iterable[ImageRecord], root: Path, report: Report) -> None:
    for record in records:
        try:
            width, height = read_image_size(root / record.file_name)
        except ImageReadError as exc:
            report.error(str(exc), image=record.file_name)
            continue
        if (width, height) != (record.width, record.height):
            report.error(
                f"the image file is {width}×{height} but the JSON says {record.width}×{record.height}",
                image=record.file_name,
            )


@dataclass(frozen=True)
class _Instance:
    """One decoded annotation, waiting to be painted: its segment id, COCO id, description and mask."""

    segment_id: int
    annotation_id: int
    segment: Segment
    mask: CroppedMask
    area: int


def _read_annotations(
    reader: _Reader,
    items: Iterable,
    records: dict[int, ImageRecord],
    too_large: set[int],
    categories: CategorySet,
    aliases: dict[int, int],
    report: Report,
) -> dict[int, list[_Instance]]:
    instances: dict[int, list[_Instance]] = {}
    first_index: dict[int, int] = {}
    skipped_on_large: dict[int, int] = {}
    for index, item in enumerate(items):
        where = f"annotations[{index}]"
        obj = reader.record(item, where)
        annotation_id = reader.integer(obj, "id", where)
        image_id = reader.integer(obj, "image_id", where)
        category_id = reader.integer(obj, "category_id", where, -_MAX_CATEGORY_ID, _MAX_CATEGORY_ID)
        label = f"annotation {annotation_id}"
        record = records.get(image_id)
        image = record.file_name if record else None
        if annotation_id in first_index:
            report.error(
                f"annotation id {annotation_id} is used twice (annotations[{first_index[annotation_id]}] "
                f"and {where}); both are loaded",
                image=image,
                item=label,
            )
        else:
            first_index[annotation_id] = index
        if record is None:
            report.error(f"image_id {image_id} is not in 'images'; skipped", item=label)
            continue
        if image_id in too_large:
            skipped_on_large[image_id] = skipped_on_large.get(image_id, 0) + 1
            continue
        category_id = aliases.get(category_id, category_id)
        if category_id not in categories:
            report.error(
                f"category_id {category_id} is not in 'categories'; skipped", image=image, item=label
            )
            continue
        decoded = _decode_annotation(obj, record, category_id, report, label)
        if decoded is None:
            continue
        mask, segment = decoded
        own = instances.setdefault(image_id, [])
        own.append(_Instance(len(own) + 1, annotation_id, segment, mask, mask.area))
    for image_id, count in skipped_on_large.items():
        report.error(
            f"{count} annotation(s) not loaded (the image is too large)", image=records[image_id].file_name
        )
    return instances


def _decode_annotation(
    obj: dict, record: ImageRecord, category_id: int, report: Report, label: str
) -> tuple[CroppedMask, Segment] | None:
    """Mask and segment of one annotation, its problems reported; None when it is skipped.

    A score makes the segment a model's (COCO results files carry scores), otherwise a person's.
    """
    image = record.file_name
    if "segmentation" not in obj:
        report.error("no segmentation (a box-only annotation); skipped", image=image, item=label)
        return None
    mask, kind, issues = decode_segmentation(obj["segmentation"], record.height, record.width)
    for issue in issues:
        report.add(issue.severity, issue.message, image, label)
    if mask is None:
        return None
    if mask.area == 0:
        report.error("the mask is empty (no pixel inside the image); skipped", image=image, item=label)
        return None
    _check_bbox_and_area(obj, mask, kind, report, image, label)
    iscrowd = obj.get("iscrowd", 0)
    if iscrowd not in (0, 1) or not isinstance(iscrowd, (bool, int)):
        report.warning(f"iscrowd must be 0 or 1, not {_kind(iscrowd)}; read as 0", image=image, item=label)
        iscrowd = 0
    score = obj.get("score")
    if score is not None and (type(score) not in (int, float) or not math.isfinite(score)):
        report.warning(f"score must be a number, not {_kind(score)}; ignored", image=image, item=label)
        score = None
    if score is None:
        return mask, Segment(category_id, bool(iscrowd), None, Source.PERSON)
    return mask, Segment(category_id, bool(iscrowd), float(score), Source.MODEL)


def _check_bbox_and_area(
    obj: dict, mask: CroppedMask, kind: str, report: Report, image: str, label: str
) -> None:
    bbox = obj.get("bbox")
    if bbox is not None:
        if not (
            isinstance(bbox, list)
            and len(bbox) == 4
            and all(type(v) in (int, float) for v in bbox)
            and all(math.isfinite(v) for v in bbox)
        ):
            report.warning(
                f"bbox must be [x, y, width, height], not {_kind(bbox)}; ignored", image=image, item=label
            )
        else:
            x, y, w, h = bbox
            ours = (mask.x, mask.y, mask.x + mask.width, mask.y + mask.height)
            if max(abs(a - b) for a, b in zip((x, y, x + w, y + h), ours, strict=True)) > _BBOX_TOLERANCE:
                box = [mask.x, mask.y, mask.width, mask.height]
                report.warning(f"bbox {bbox} disagrees with the mask's box {box}", image=image, item=label)
    area = obj.get("area")
    if area is None:
        return
    if type(area) not in (int, float) or not math.isfinite(area):
        report.warning(f"area must be a number, not {_kind(area)}; ignored", image=image, item=label)
    elif kind == "rle" and area != mask.area:
        report.error(f"area {area} differs from the RLE mask's {mask.area} pixels", image=image, item=label)
    elif kind == "polygon":
        off = abs(area - mask.area)
        if off > _POLYGON_AREA_PIXELS and off > _POLYGON_AREA_RATIO * mask.area:
            report.warning(
                f"area {area} differs from the mask's {mask.area} pixels by more than "
                f"{_POLYGON_AREA_RATIO:.0%}",
                image=image,
                item=label,
            )


def decode_segmentation(
    segmentation: object, height: int, width: int
) -> tuple[CroppedMask | None, str, list[Issue]]:
    """Decode a COCO segmentation (polygons, compressed or uncompressed RLE) of a height × width image.

    Returns the tight cropped mask (None when unusable), the kind ("polygon" or "rle") and the issues.
    Polygons are rasterised exactly as pycocotools does, parts outside the image clipped.
    """
    if isinstance(segmentation, list):
        return _decode_polygons(segmentation, height, width)
    if isinstance(segmentation, dict):
        return _decode_rle(segmentation, height, width)
    return _unusable("", f"segmentation must be polygons or RLE, not {_kind(segmentation)}")


def _unusable(kind: str, problem: str) -> tuple[None, str, list[Issue]]:
    return None, kind, [Issue(Severity.ERROR, f"{problem}; skipped")]


def _decode_polygons(polygons: list, height: int, width: int) -> tuple[CroppedMask | None, str, list[Issue]]:
    if not polygons:
        return _unusable("polygon", "segmentation is an empty list")
    if all(type(v) in (int, float) for v in polygons):
        return _unusable(
            "polygon", "segmentation is a flat list of numbers, not a list of polygons [[x0, y0, ...]]"
        )
    issues: list[Issue] = []
    usable: list[np.ndarray] = []
    for k, polygon in enumerate(polygons):
        coords, found = check_polygon(polygon, width, height)
        prefix = f"polygon {k}: " if len(polygons) > 1 else ""
        issues.extend(Issue(i.severity, prefix + i.message) for i in found)
        if coords is not None:
            usable.append(coords)
    if not usable:
        if len(polygons) == 1:
            return None, "polygon", [Issue(i.severity, f"{i.message}; skipped") for i in issues]
        return None, "polygon", [*issues, Issue(Severity.ERROR, "no usable polygon; skipped")]
    return rasterise_polygons(usable, height, width), "polygon", issues


def rasterise_polygons(polygons: list[np.ndarray], height: int, width: int) -> CroppedMask:
    """pycocotools' rasterisation of valid flat polygons, computed on their bounding box only.

    pycocotools rounds ``5 * coordinate + 0.5`` to an int; moving the polygons by whole pixels keeps
    every rounding the same unless a value is within rounding error of an integer (e.g. x = 100.3),
    in which case the whole image is rasterised instead, so the result is always pycocotools' own.
    """
    flat = np.concatenate(polygons)
    xs, ys = flat[0::2], flat[1::2]
    x0, y0 = max(math.floor(xs.min()), 0), max(math.floor(ys.min()), 0)
    x1, y1 = min(math.ceil(xs.max()) + 1, width), min(math.ceil(ys.max()) + 1, height)
    if x0 >= x1 or y0 >= y1:
        return CroppedMask(0, 0, np.zeros((0, 0), dtype=bool))
    if (x0 or y0) and not _shift_safe(flat):
        x0, y0, x1, y1 = 0, 0, width, height
    offset = np.array([x0, y0], dtype=np.float64)
    shifted = [(p.reshape(-1, 2) - offset).ravel().tolist() for p in polygons]
    rles = mask_utils.frPyObjects(shifted, y1 - y0, x1 - x0)
    return _tight(mask_utils.decode(mask_utils.merge(rles)), x0, y0)


def _tight(mask: np.ndarray, x0: int, y0: int) -> CroppedMask:
    """A uint8/bool mask at (x0, y0) cropped to its set pixels (cv2 finds the box in one pass)."""
    pixels = np.ascontiguousarray(mask, dtype=np.uint8)
    x, y, w, h = cv2.boundingRect(pixels)
    return CroppedMask(x0 + x, y0 + y, pixels[y : y + h, x : x + w].astype(bool))


def _shift_safe(coords: np.ndarray) -> bool:
    """True when int(5 * c + 0.5) cannot depend on rounding (or fused multiply-add) for any coordinate."""
    scaled = 5.0 * coords + 0.5
    risky = np.abs(scaled - np.rint(scaled)) < 1e-6
    if not risky.any():
        return True
    eighths = coords[risky] * 8.0  # multiples of 1/8 are computed exactly
    return bool(np.all(eighths == np.rint(eighths)))


def _decode_rle(rle: dict, height: int, width: int) -> tuple[CroppedMask | None, str, list[Issue]]:
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int for v in size)):
        return _unusable("rle", f"RLE size must be [height, width], not {_kind(size)}")
    if size != [height, width]:
        return _unusable("rle", f"RLE size {size} differs from the image size [{height}, {width}]")
    if isinstance(counts, str):
        runs = rle_counts_from_string(counts)
        if runs is None:
            return _unusable("rle", "RLE counts string is corrupt")
        total = int(runs.sum())
    elif isinstance(counts, list) and all(type(v) is int and v >= 0 for v in counts):
        runs, total = None, sum(counts)
    else:
        return _unusable(
            "rle", f"RLE counts must be a string or a list of non-negative integers, not {_kind(counts)}"
        )
    if total != height * width:
        return _unusable("rle", f"RLE counts add up to {total}, not height × width = {height * width}")
    if runs is None:
        runs = np.asarray(counts, dtype=np.int64)
    return runs_to_crop(runs, height, width), "rle", []


def runs_to_crop(runs: np.ndarray, height: int, width: int) -> CroppedMask:
    """The tight cropped mask of a COCO RLE given by its run lengths (column-major, background first,
    summing to height × width), decoded over the columns it spans only: pycocotools can only decode
    whole images, which costs a full-image array per instance."""
    bounds = np.concatenate(([0], np.cumsum(runs)))
    foreground = np.flatnonzero((runs > 0) & (np.arange(runs.size) % 2 == 1))
    if foreground.size == 0:
        return CroppedMask(0, 0, np.zeros((0, 0), dtype=bool))
    col0 = int(bounds[foreground[0]]) // height
    col1 = (int(bounds[foreground[-1] + 1]) - 1) // height + 1
    lengths = np.diff(np.clip(bounds, col0 * height, col1 * height))
    strip = np.repeat(np.arange(runs.size) % 2 == 1, lengths)
    return _tight(strip.reshape(col1 - col0, height).T, col0, 0)


def rle_counts_from_string(counts: str) -> np.ndarray | None:
    """Run lengths of a compressed COCO RLE string, or None when it is corrupt.

    pycocotools decodes such strings without checking them (a wrong total reads or writes past the
    mask), so segview decodes them here first: the same LEB128-like code of maskApi.c's ``rleFrString``
    (5 bits a character, offset 48, 0x20 = more, 0x10 = sign, counts after the second delta-coded),
    vectorised with numpy.
    """
    if not counts.isascii():
        return None
    chars = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if chars.size == 0 or chars.min() < 0 or chars.max() > 63:
        return None
    more = (chars & 0x20) != 0
    if more[-1]:
        return None
    ends = np.flatnonzero(~more)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 6:  # maskApi.c shifts a C int by 5 × position: more would overflow it
        return None
    position = np.arange(chars.size) - np.repeat(starts, lengths)
    values = np.add.reduceat((chars & 0x1F) << (5 * position), starts)
    negative = (chars[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * lengths[negative])
    runs = values.copy()
    runs[1::2] = np.cumsum(values[1::2])
    runs[2::2] = np.cumsum(values[2::2])
    return None if runs.min() < 0 else runs


def _paint(record: ImageRecord, items: list[_Instance], report: Report) -> None:
    """Paint one image's instances, the smaller one in front where they overlap; report what is hidden."""
    dtype = np.dtype(np.uint16) if len(items) <= np.iinfo(np.uint16).max else np.dtype(np.uint32)
    segment_map = np.zeros((record.height, record.width), dtype=dtype)
    hidden: dict[int, int] = {}
    # Largest first, so smaller instances (usually in front) overwrite them; equal areas keep file order.
    for item in sorted(items, key=lambda i: -i.area):
        target = segment_map[item.mask.slices]
        below = target[item.mask.mask]
        if below.any():
            ids, counts = np.unique(below[below != 0], return_counts=True)
            for sid, count in zip(ids.tolist(), counts.tolist(), strict=True):
                hidden[sid] = hidden.get(sid, 0) + count
        np.copyto(target, dtype.type(item.segment_id), where=item.mask.mask)
    segments = {i.segment_id: i.segment for i in items}
    for item in items:
        lost = hidden.get(item.segment_id, 0)
        label = f"annotation {item.annotation_id}"
        if lost == item.area:
            report.error(
                f"dropped: all its {lost} pixels overlap smaller instances, which keep them",
                image=record.file_name,
                item=label,
            )
            del segments[item.segment_id]
        elif lost:
            report.warning(
                f"{lost} of its {item.area} pixels overlap smaller instances and were given to "
                "them (a segment map holds one segment per pixel)",
                image=record.file_name,
                item=label,
            )
    record.annotation = Annotation(record.height, record.width, segment_map, segments)


# ------------------------------------------------------------------------------------------------ saving


def save_coco(
    dataset: Dataset,
    path: str | os.PathLike,
    *,
    mask_format: MaskFormat = "auto",
    category_id_base: int | None = None,
    workers: int | None = None,
    progress: ImageProgress | None = None,
) -> Report:
    """Write the dataset's *thing* segments and categories as a COCO instances file, atomically.

    ``mask_format``: "auto" writes polygons for segments without holes and compressed RLE for segments
    with holes and for crowd regions; "polygon" always writes polygons (holes are filled, a warning
    each, and area and bbox are those of the filled mask the polygons encode); "rle" always writes
    compressed RLE. ``category_id_base`` renumbers the categories
    contiguously from that id in display order (None keeps them). Area and bbox come from the masks via
    pycocotools. ``workers``: encoding processes; None uses 2 for large datasets where forking is safe
    (Linux, a single thread; the workers share the segment maps without copying), 1 encodes here.
    ``progress(done, total)`` is called here after each image of the dataset, as its annotations are
    written (an image without annotation is done at once).
    """
    if mask_format not in MASK_FORMATS:
        raise ValueError(f"mask_format must be one of {MASK_FORMATS}, not {mask_format!r}")
    report = Report()
    if category_id_base is None:
        categories, mapping = list(dataset.categories), {c.id: c.id for c in dataset.categories}
    else:
        categories, mapping = dataset.categories.renumbered(category_id_base)
    header = {
        "info": instances_info(dataset.image_root),
        "licenses": [],
        "images": [
            {"id": r.id, "file_name": r.file_name, "width": r.width, "height": r.height}
            for r in dataset.images
        ],
        "categories": instances_categories(categories),
    }
    things = frozenset(c.id for c in dataset.categories if c.isthing)
    annotated = [(n, r) for n, r in enumerate(dataset.images, 1) if r.annotation is not None]
    jobs = [_Job(r, things, mapping, mask_format) for _, r in annotated]
    stuff = 0
    next_id = 1
    done = 0  # images reported to progress
    with atomic_open(path, "w") as handle:
        handle.write(json.dumps(header, separators=(",", ":"))[:-1] + ',"annotations":[')
        # The encoder first, so zip runs it to its end (which shuts its workers down) before stopping.
        results = zip(_encode_all(jobs, workers), annotated, strict=True)
        for (encoded, issues, stuff_count), (number, _) in results:
            report.extend(issues)
            stuff += stuff_count
            for text in encoded:
                handle.write(f'{"," if next_id > 1 else ""}{{"id":{next_id},{text[1:]}')
                next_id += 1
            done = _images_done(progress, done, number, len(dataset.images))
        handle.write("]}")
    _images_done(progress, done, len(dataset.images), len(dataset.images))
    if stuff:
        report.info(
            f"{stuff} stuff segment(s) not exported: COCO instances holds things only "
            "(export COCO panoptic or semantic PNG for them)"
        )
    return report


def instances_info(image_root: Path | None) -> dict:
    """The "info" of an instances file segview writes: who, when, and the image folder."""
    return {
        "description": "exported by segview",
        "date_created": datetime.now(timezone.utc).isoformat(),
        **image_root_info(image_root),
    }


def instances_categories(categories: Iterable[Category]) -> list[dict]:
    """The "categories" of an instances file: the things only (stuff stays in panoptic and semantic
    outputs; the ids of things are the same there)."""
    return [
        {
            "id": c.id,
            "name": c.name,
            "supercategory": c.supercategory,
            "isthing": int(c.isthing),
            "color": list(c.color or ()),
        }
        for c in categories
        if c.isthing
    ]


def encode_instances(
    record: ImageRecord, things: frozenset[int], mapping: dict[int, int], mask_format: MaskFormat = "auto"
) -> tuple[list[str], Report, int]:
    """One annotated image's thing segments as COCO annotation JSON objects without their "id" (the file's
    writer numbers them), the issues, and how many stuff segments were left out. ``things``: the thing
    category ids; ``mapping``: category id → exported id."""
    return _encode_image(_Job(record, things, mapping, mask_format))


def _images_done(progress: ImageProgress | None, done: int, upto: int, total: int) -> int:
    """Report images ``done + 1`` .. ``upto`` of ``total`` to ``progress``, each once; returns ``upto``."""
    if progress is not None:
        for number in range(done + 1, upto + 1):
            progress(number, total)
    return upto


@dataclass(frozen=True)
class _Job:
    """What encoding one image needs: the record, thing category ids, old → new ids, the mask format."""

    record: ImageRecord
    things: frozenset[int]
    mapping: dict[int, int]
    mask_format: str


# The jobs of the export in progress, for forked worker processes (inherited, never pickled).
_FORKED_JOBS: list[_Job] = []
_FORK_LOCK = threading.Lock()


def _encode_forked(index: int) -> tuple[list[str], Report, int]:
    return _encode_image(_FORKED_JOBS[index])


def _encode_all(jobs: list[_Job], workers: int | None) -> Iterator[tuple[list[str], Report, int]]:
    """Encoded images in order, from this process or from forked workers.

    Worker processes, not threads: the per-segment work is many small numpy calls that hold the GIL.
    Forked workers read the segment maps in place (copy-on-write) instead of receiving copies. The
    automatic choice forks only on Linux and only while this process runs a single thread (forking
    beside other threads, e.g. the GUI's, risks deadlocks); elsewhere this process encodes.
    """
    if workers is None:
        instances = sum(len(job.record.annotation.segments) for job in jobs)  # type: ignore[union-attr]
        safe = sys.platform.startswith("linux") and threading.active_count() == 1
        workers = 2 if safe and instances >= _PARALLEL_MIN_INSTANCES else 1
    if workers <= 1 or len(jobs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_encode_image, jobs)
        return
    with _FORK_LOCK:
        _FORKED_JOBS[:] = jobs
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        try:
            chunk = max(1, min(16, len(jobs) // (8 * workers)))
            yield from pool.map(_encode_forked, range(len(jobs)), chunksize=chunk)
        finally:
            pool.shutdown(cancel_futures=True)  # after a failed write, do not wait for the rest
            _FORKED_JOBS.clear()


def _encode_image(job: _Job) -> tuple[list[str], Report, int]:
    """One image's thing segments as COCO annotation JSON objects without "id", its issues, its stuff count."""
    report = Report()
    record = job.record
    annotation = record.annotation
    assert annotation is not None
    name = record.file_name
    if (annotation.height, annotation.width) != (record.height, record.width):
        report.error(
            f"the segment map is {annotation.width}×{annotation.height} but the image is "
            f"{record.width}×{record.height}; its segments are not exported",
            image=name,
        )
        return [], report, 0
    segment_map = annotation.segment_map
    boxes = label_bounding_slices(segment_map)
    stuff = 0
    things: list[tuple[int, Segment, CroppedMask]] = []
    for sid, slices in boxes.items():
        segment = annotation.segments.get(sid)
        if segment is None:
            report.error(f"pixels carry segment id {sid}, which has no description; not exported", image=name)
        elif segment.category_id not in job.mapping:
            report.error(
                f"category {segment.category_id} is not in the dataset's categories; not exported",
                image=name,
                item=f"segment {sid}",
            )
        elif segment.category_id not in job.things:
            stuff += 1
        else:
            things.append(
                (sid, segment, CroppedMask(slices[1].start, slices[0].start, segment_map[slices] == sid))
            )
    for sid in sorted(set(annotation.segments) - boxes.keys()):
        report.warning("the segment has no pixels; not exported", image=name, item=f"segment {sid}")
    if job.mask_format == "rle":
        shapes = [([], False)] * len(things)
    else:  # all outlines of the image in one pass
        shapes = outlines_many([(crop.mask, crop.x, crop.y) for _, _, crop in things])
    out: list[str] = []
    for (sid, segment, crop), (polygons, holes) in zip(things, shapes, strict=True):
        use_rle = job.mask_format == "rle" or (job.mask_format == "auto" and (holes or segment.iscrowd))
        if holes and job.mask_format == "polygon":
            from scipy import ndimage  # ~0.2 s to import, and only this rare case needs it

            lost = int(np.count_nonzero(ndimage.binary_fill_holes(crop.mask))) - crop.area
            report.warning(
                f"the mask has holes ({lost} pixels) that COCO polygons cannot express; exported filled",
                image=name,
                item=f"segment {sid}",
            )
        if holes and not use_rle:  # the polygons encode the filled outline: area and bbox of that mask
            crop = rasterise_polygons([np.asarray(ring, dtype=np.float64) for ring in polygons], record.height,
                                      record.width)
        fields = _encode_segment(crop, None if use_rle else polygons, record)
        fields["category_id"] = job.mapping[segment.category_id]
        fields["iscrowd"] = int(segment.iscrowd)
        if segment.score is not None:
            fields["score"] = float(segment.score)
        out.append(json.dumps(fields, separators=(",", ":")))
    return out, report, stuff


def _encode_segment(crop: CroppedMask, polygons: list[np.ndarray] | None, record: ImageRecord) -> dict:
    """Segmentation (the polygons given, else compressed RLE), area and bbox of one segment; image_id
    first and category_id after it, to be set by the caller, so the JSON reads in COCO's usual order."""
    if polygons is None:
        rle = full_image_rle(crop, record.height, record.width)
        area, box = mask_utils.area(rle), mask_utils.toBbox(rle)
        segmentation: object = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    else:
        # The C-ordered crop's transpose is Fortran-ordered, so pycocotools encodes it without a copy;
        # area is the same and its box comes out as [y, x, h, w].
        local = mask_utils.encode(crop.mask.view(np.uint8).T)
        area = mask_utils.area(local)
        top, left, height, width = mask_utils.toBbox(local)
        box = (left + crop.x, top + crop.y, width, height)
        segmentation = [ring.tolist() for ring in polygons]
    return {
        "image_id": record.id,
        "category_id": 0,
        "segmentation": segmentation,
        "area": int(area),
        "bbox": [int(v) for v in box],
    }


def full_image_rle(crop: CroppedMask, height: int, width: int) -> dict:
    """Compressed RLE (bytes counts) of a cropped mask placed in a height × width image.

    Built from the crop's columns (column-major runs), never from a full-image mask.
    """
    strip = np.zeros((height, crop.width), dtype=np.uint8, order="F")
    strip[crop.y : crop.y + crop.height] = crop.mask
    flat = strip.ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], changes, [flat.size])))
    if flat[0]:
        runs = np.concatenate(([0], runs))
    runs[0] += crop.x * height
    after = (width - crop.x - crop.width) * height
    if len(runs) % 2:  # ends with background: extend it
        runs[-1] += after
    elif after:
        runs = np.concatenate((runs, [after]))
    return mask_utils.frPyObjects({"size": [height, width], "counts": runs.tolist()}, height, width)
