"""labelme JSON (v5+) import: polygons, rectangles, circles and masks become one segment map per image.

Geometry follows labelme's canvas, where pixel ``(c, r)`` is the square ``[c, c + 1] × [r, r + 1]``: a
pixel belongs to a shape when its centre ``(c + 0.5, r + 0.5)`` does. Polygons are rasterised by
pycocotools, which implements that rule on a 1/5-pixel grid (a centre exactly on an edge counts for the
side above or left of it); rectangles use the same rule exactly, so a rectangle and its four-corner
polygon give the same pixels; circles take the pixels whose centre is within the radius.

Shapes are painted in file order, later ones on top, as labelme draws them; shapes sharing
``(label, group_id)`` form one instance. Everything that cannot be carried over is an issue in the
returned report.
"""

from __future__ import annotations

import base64
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import numpy as np
import shapely

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.masks import CroppedMask, polygons_to_mask
from segview.core.report import Report
from segview.core.segments import Annotation, Segment, Source
from segview.errors import FormatError, ImageReadError
from segview.io import images
from segview.io.file_names import file_name_problem, is_file, shown, text_problem
from segview.io.listing import list_tree
from segview.io.pixel_budget import budget_message, over_budget

IGNORED_LABELS = ("__ignore__", "_background_")
_POLYGON_TYPES = ("polygon", "oriented_rectangle")
_AREA_TYPES = (*_POLYGON_TYPES, "rectangle", "circle", "mask")
_NO_AREA_TYPES = ("line", "linestrip", "point", "points")
# Coordinates further out than this are nonsense (and would overflow the geometry): the shape is skipped.
_MAX_COORDINATE = 1e9
_FIX = "Fix it in labelme or a text editor, or move the file out of the dataset."


@dataclass(frozen=True)
class _Shape:
    index: int
    label: str
    shape_type: str
    points: np.ndarray  # (n, 2) float64, x then y
    group_id: int | None
    mask: str | None
    flags: tuple[str, ...]  # the names of the flags that are set
    description: str

    @property
    def item(self) -> str:
        return f"shapes[{self.index}] {self.label!r}"


@dataclass(frozen=True)
class _Document:
    shapes: list[_Shape]
    image_path: str
    image_data: str | None
    width: int | None
    height: int | None
    flags: tuple[str, ...]


def load_labelme(path: str | os.PathLike, *, check_images: bool = True) -> tuple[Dataset, Report]:
    """Load a labelme JSON file, or every ``*.json`` under a folder (recursive, sorted by path).

    The dataset's image root is the folder given, or the JSON file's folder; ``file_name`` is the
    image's path relative to it. With ``check_images`` the image files (or the embedded ``imageData``
    when the file is missing) are opened to compare their size with ``imageHeight``/``imageWidth``;
    without it, images are opened only when the JSON lacks that size. Embedded images are never
    written out. Categories are the labels of area shapes, ids 1..N in order of first appearance.
    A broken single file raises ``FormatError``; in a folder it is an error in the report and the
    other files still load (``FormatError`` only when none could be loaded).
    """
    path = Path(path)
    report = Report()
    labels: dict[str, int] = {}
    records: list[ImageRecord] = []
    if path.is_file():
        root = path.parent
        document, file_name = _read_document(path, root)
        records.append(_to_record(document, path, file_name, 1, labels, check_images, report))
    elif path.is_dir():
        root = path
        listing = list_tree(path, "*.json")
        for line in listing.not_searched:
            report.error(f"{line}; labelme files there are not loaded")
        entries = sorted(listing.entries, key=lambda p: p.relative_to(root).as_posix())
        files = [p for p in entries if p.is_file()]
        for entry in entries:
            if not entry.is_file():
                report.error(f"skipped: {_not_a_file(entry)}", image=entry.relative_to(root).as_posix())
        if not files:
            raise FormatError(f"{path} holds no labelme JSON files (*.json). Give a labelme file or folder.")
        annotated_by: dict[str, str] = {}
        failures: list[str] = []
        for json_path in files:
            rel = json_path.relative_to(root).as_posix()
            try:
                document, file_name = _read_document(json_path, root)
                if file_name in annotated_by:
                    report.error(f"skipped: {file_name} is already annotated by {annotated_by[file_name]}. "
                                 "Keep one labelme file per image.", image=rel)
                    continue
                record = _to_record(document, json_path, file_name, len(records) + 1, labels, check_images, report)
            except FormatError as exc:
                failures.append(str(exc))
                report.error(f"skipped: {exc}", image=rel)
                continue
            annotated_by[file_name] = rel
            records.append(record)
        if not records:
            raise FormatError(
                f"None of the {len(files)} JSON files under {path} could be loaded; the first problem: {failures[0]}"
            )
    else:
        raise FormatError(f"{path} does not exist. Give a labelme JSON file or a folder of them.")
    categories = CategorySet(Category(cid, name, isthing=True) for name, cid in labels.items())
    return Dataset(categories, records, image_root=root), report


def _not_a_file(path: Path) -> str:
    """Why a ``*.json`` entry of a folder cannot be read as a labelme file."""
    if path.is_symlink() and not path.exists():
        return f"a symbolic link to {os.readlink(path)}, which does not exist"
    if path.is_dir():
        return "a folder, not a labelme JSON file"
    return "not a regular file (a device, socket or pipe), so not a labelme JSON file"


def _read_document(json_path: Path, root: Path) -> tuple[_Document, str]:
    """The validated document and its image's file name relative to ``root``."""
    document = _parse(_read_json(json_path), json_path)
    image_file = os.path.normpath(json_path.parent / document.image_path)
    try:
        return document, Path(os.path.relpath(image_file, root)).as_posix()
    except ValueError:  # on another Windows drive than the root: keep the absolute path
        return document, Path(image_file).as_posix()


def _to_record(
    document: _Document,
    json_path: Path,
    file_name: str,
    image_id: int,
    labels: dict[str, int],
    check_images: bool,
    report: Report,
) -> ImageRecord:
    """One labelme document to an image record; a FormatError comes before any label is registered."""
    image_file = json_path.parent / document.image_path
    width, height = _image_size(document, json_path, image_file, file_name, check_images, report)
    if document.flags:
        report.info(f"image flags {', '.join(document.flags)} are not carried over", image=file_name)
    annotation = _rasterise_shapes(document.shapes, height, width, labels, file_name, report)
    return ImageRecord(image_id, file_name, width, height, annotation)


# --- reading and validating the JSON -------------------------------------------------------------


def _read_json(json_path: Path) -> object:
    try:
        text = json_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{json_path} is not UTF-8 text ({exc}). Save it again from labelme.") from exc
    except OSError as exc:
        raise FormatError(f"Could not read {json_path}: {exc.strerror or exc}. Check the file.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{json_path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). {_FIX}"
        ) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer too long to convert, absurd nesting
        raise FormatError(f"{json_path} is not valid JSON ({exc}). {_FIX}") from exc


def _bad(json_path: Path, where: str, problem: str) -> FormatError:
    return FormatError(f"{json_path}: {where} {problem}. {_FIX}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def _finite(value: object) -> float | None:
    """The value as a float when it is a finite JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _set_flags(value: object, json_path: Path, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise _bad(json_path, where, f"must be an object of name: true/false, not {_kind(value)}")
    return tuple(str(name) for name, on in value.items() if on)


def _optional_size(doc: dict, key: str, json_path: Path) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _bad(json_path, key, f"must be a positive integer, not {_short(value)}")
    return value


def _parse(doc: object, json_path: Path) -> _Document:
    if not isinstance(doc, dict):
        raise _bad(json_path, "the top level", f"must be an object, not {_kind(doc)}")
    if "shapes" not in doc:
        raise _bad(json_path, "shapes", "is missing: this is not a labelme file")
    raw_shapes = doc["shapes"]
    if not isinstance(raw_shapes, list):
        raise _bad(json_path, "shapes", f"must be a list, not {_kind(raw_shapes)}")
    image_path = doc.get("imagePath")
    if not isinstance(image_path, str) or not image_path.strip():
        raise _bad(json_path, "imagePath", f"must name the image file, not {_short(image_path)}")
    problem = file_name_problem(image_path)
    if problem is not None:
        raise _bad(json_path, f"imagePath {shown(image_path)}", problem)
    image_data = doc.get("imageData")
    if image_data is not None and not isinstance(image_data, str):
        raise _bad(json_path, "imageData", f"must be base64 text or null, not {_kind(image_data)}")
    width, height = _optional_size(doc, "imageWidth", json_path), _optional_size(doc, "imageHeight", json_path)
    if width is not None and height is not None and over_budget(width, height):
        raise FormatError(f"{json_path}: {budget_message('imageWidth × imageHeight', width, height)} {_FIX}")
    return _Document(
        shapes=[_parse_shape(raw, i, json_path) for i, raw in enumerate(raw_shapes)],
        image_path=PureWindowsPath(image_path).as_posix(),  # labelme on Windows writes backslashes
        image_data=image_data,
        width=width,
        height=height,
        flags=_set_flags(doc.get("flags"), json_path, "flags"),
    )


def _parse_shape(raw: object, index: int, json_path: Path) -> _Shape:
    where = f"shapes[{index}]"
    if not isinstance(raw, dict):
        raise _bad(json_path, where, f"must be an object, not {_kind(raw)}")
    label = raw.get("label")
    if not isinstance(label, str):
        raise _bad(json_path, f"{where}.label", f"must be a string, not {_kind(label)}")
    problem = text_problem(label)
    if problem is not None:
        raise _bad(json_path, f"{where}.label {shown(label)}", problem)
    shape_type = raw.get("shape_type")
    if shape_type is None:
        shape_type = "polygon"  # labelme before 3.x wrote no shape_type
    elif not isinstance(shape_type, str):
        raise _bad(json_path, f"{where}.shape_type", f"must be a string, not {_kind(shape_type)}")
    raw_points = raw.get("points")
    if not isinstance(raw_points, list):
        raise _bad(json_path, f"{where}.points", f"must be a list of [x, y] pairs, not {_kind(raw_points)}")
    points = np.zeros((len(raw_points), 2))
    for j, point in enumerate(raw_points):
        xy = [_finite(v) for v in point] if isinstance(point, list) else []
        if len(xy) != 2 or None in xy:
            raise _bad(json_path, f"{where}.points[{j}]", f"must be [x, y] with two finite numbers, not {_short(point)}")
        points[j] = xy
    group_id = raw.get("group_id")
    if group_id is not None and (isinstance(group_id, bool) or not isinstance(group_id, int)):
        raise _bad(json_path, f"{where}.group_id", f"must be an integer or null, not {_short(group_id)}")
    mask = raw.get("mask")
    if mask is not None and not isinstance(mask, str):
        raise _bad(json_path, f"{where}.mask", f"must be a base64 PNG or null, not {_kind(mask)}")
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        raise _bad(json_path, f"{where}.description", f"must be a string or null, not {_kind(description)}")
    return _Shape(
        index=index,
        label=label,
        shape_type=shape_type,
        points=points,
        group_id=group_id,
        mask=mask,
        flags=_set_flags(raw.get("flags"), json_path, f"{where}.flags"),
        description=description or "",
    )


# --- the image and its size ----------------------------------------------------------------------


def _image_size(
    document: _Document, json_path: Path, image_file: Path, file_name: str, check_images: bool, report: Report
) -> tuple[int, int]:
    """(width, height) of the annotation: the actual image's when it can be read, else the JSON's."""
    declared = None if document.width is None or document.height is None else (document.width, document.height)
    if declared is not None and not check_images:
        return declared
    actual = _actual_size(document, json_path, image_file, file_name, report)
    if actual is None:
        if declared is None:
            raise _bad(json_path, "imageHeight/imageWidth", "are missing and the image cannot be read")
        return declared
    if declared is None:
        report.info(f"imageHeight/imageWidth missing; size {actual[0]}×{actual[1]} taken from the image",
                    image=file_name)
    elif declared != actual:
        report.error(
            f"imageWidth×imageHeight in {json_path.name} is {declared[0]}×{declared[1]} but the image is "
            f"{actual[0]}×{actual[1]}; the image's size is used (labelme does the same). Check that the "
            "JSON belongs to this image.",
            image=file_name,
        )
    return actual


def _actual_size(
    document: _Document, json_path: Path, image_file: Path, file_name: str, report: Report
) -> tuple[int, int] | None:
    """The displayed size of the image file, or of the embedded imageData when the file is missing."""
    source: Path | bytes = image_file
    name = file_name
    if not is_file(image_file) and document.image_data is not None:
        report.info(
            f"the image file does not exist; its pixels are embedded in {json_path.name} (imageData). "
            f"Save them as {file_name} to view the image in segview.",
            image=file_name,
        )
        try:
            source = base64.b64decode(document.image_data)
        except ValueError as exc:  # binascii.Error, or non-ASCII text
            report.error(f"imageData of {json_path.name} is not valid base64 ({exc})", image=file_name)
            return None
        name = f"imageData of {json_path.name}"
    try:
        return images.read_image_size(source, name=name)
    except ImageReadError as exc:
        report.error(str(exc), image=file_name)
        return None


# --- shapes to a segment map ---------------------------------------------------------------------


def _rasterise_shapes(
    shapes: list[_Shape], height: int, width: int, labels: dict[str, int], file_name: str, report: Report
) -> Annotation:
    """Paint the shapes in order, later on top; segments get ids 1..M by first appearance, losses reported."""
    painted: list[tuple[_Shape, int, CroppedMask]] = []
    instances: dict[tuple, int] = {}
    for shape in shapes:
        crop = _shape_mask(shape, height, width, file_name, report)
        if crop is None:
            continue
        key = (shape.label, shape.group_id, None if shape.group_id is not None else shape.index)
        instance = instances.setdefault(key, len(instances) + 1)
        labels.setdefault(shape.label, len(labels) + 1)
        painted.append((shape, instance, crop))

    by_instance = np.zeros((height, width), dtype=np.int32)
    for _, instance, crop in painted:
        by_instance[crop.slices][crop.mask] = instance
    for shape, instance, crop in painted:
        kept = int(np.count_nonzero(by_instance[crop.slices][crop.mask] == instance))
        if crop.area == 0:
            report.error("dropped: the shape covers no pixel centre (too thin, or outside the image)",
                         image=file_name, item=shape.item)
        elif kept == 0:
            report.error(f"dropped: all its {crop.area} pixels are covered by later shapes",
                         image=file_name, item=shape.item)
        elif kept < crop.area:
            report.warning(f"{crop.area - kept} of its {crop.area} pixels are covered by later shapes",
                           image=file_name, item=shape.item)

    present = np.flatnonzero(np.bincount(by_instance.ravel(), minlength=len(instances) + 1)[1:]) + 1
    new_ids = np.zeros(len(instances) + 1, dtype=np.uint32)
    new_ids[present] = np.arange(1, present.size + 1)
    label_of = {instance: key[0] for key, instance in instances.items()}
    segments = {
        int(new_ids[i]): Segment(labels[label_of[int(i)]], source=Source.PERSON)
        for i in present
    }
    dtype = np.uint16 if present.size <= np.iinfo(np.uint16).max else np.uint32
    return Annotation(height, width, new_ids.astype(dtype)[by_instance], segments)


def _shape_mask(shape: _Shape, height: int, width: int, file_name: str, report: Report) -> CroppedMask | None:
    """The shape's pixels inside the image, or None when it is skipped (reported)."""
    where = {"image": file_name, "item": shape.item}
    if shape.label in IGNORED_LABELS:
        report.info(f"skipped: label {shape.label!r} marks an area to ignore, not an object", **where)
        return None
    if not shape.label.strip():
        report.error("skipped: the shape has an empty label", **where)
        return None
    if shape.shape_type in _NO_AREA_TYPES:
        report.warning(f"skipped: a {shape.shape_type} has no area, so it cannot be a segment", **where)
        return None
    if shape.shape_type not in _AREA_TYPES:
        report.error(f"skipped: unknown shape_type {shape.shape_type!r} (expected one of "
                     f"{', '.join(_AREA_TYPES + _NO_AREA_TYPES)})", **where)
        return None
    if shape.description:
        report.info(f"its description {shape.description!r} is not carried over", **where)
    if shape.flags:
        report.info(f"its flags {', '.join(shape.flags)} are not carried over", **where)

    points = shape.points
    if np.abs(points).max(initial=0.0) > _MAX_COORDINATE:
        report.error(f"skipped: its points are absurdly far outside the image (beyond ±{_MAX_COORDINATE:g})", **where)
        return None
    if shape.shape_type == "mask":
        crop = _mask_crop(shape, report, where)
    elif shape.shape_type in _POLYGON_TYPES:
        if len(points) < 3:
            report.error(f"skipped: a polygon needs at least 3 points, this one has {len(points)}", **where)
            return None
        _check_simple(points, report, where)
        clipped = _clip_polygon(points, height, width)
        crop = (
            CroppedMask.from_full(polygons_to_mask([clipped.ravel()], height, width))
            if len(clipped) >= 3
            else CroppedMask(0, 0, np.zeros((0, 0), dtype=bool))
        )
    elif len(points) != 2:
        report.error(f"skipped: a {shape.shape_type} needs exactly 2 points, this one has {len(points)}", **where)
        return None
    elif shape.shape_type == "rectangle":
        crop = _rectangle(points, height, width)
    else:
        crop = _circle(points, height, width)
    if crop is None:
        return None

    extent = _extent(shape, crop)
    if extent[0] < 0 or extent[1] < 0 or extent[2] > width or extent[3] > height:
        x0, y0, x1, y1 = (round(v, 1) for v in extent)
        report.warning(f"extends outside the {width}×{height} image (x {x0}..{x1}, y {y0}..{y1}); "
                       "the part outside is clipped", **where)
    slices, sub = crop.clipped(height, width)
    return CroppedMask(slices[1].start, slices[0].start, sub)


def _extent(shape: _Shape, crop: CroppedMask) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the shape as drawn, before clipping to the image."""
    if shape.shape_type == "mask":
        return crop.x, crop.y, crop.x + crop.width, crop.y + crop.height
    if shape.shape_type == "circle":
        (cx, cy), rim = shape.points
        radius = math.hypot(*(rim - (cx, cy)))
        return cx - radius, cy - radius, cx + radius, cy + radius
    (x0, y0), (x1, y1) = shape.points.min(axis=0), shape.points.max(axis=0)
    return x0, y0, x1, y1


def _check_simple(points: np.ndarray, report: Report, where: dict) -> None:
    reason = shapely.is_valid_reason(shapely.Polygon(points))
    if "Self-intersection" in reason:
        report.warning(f"the polygon intersects itself ({reason}); its pixels may not be what was meant", **where)


def _clip_polygon(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Clip to the image rectangle (Sutherland–Hodgman), so pycocotools gets bounded coordinates.

    Clipping to a convex box keeps the winding number of every point inside it, so the pixel-centre rule
    selects the pixels of the unclipped polygon (pycocotools itself rounds negative coordinates the wrong
    way). A polygon inside the image comes back unchanged; one that misses it, with fewer than 3 points.
    """
    polygon = points
    for axis, bound, sign in ((0, 0.0, 1), (0, float(width), -1), (1, 0.0, 1), (1, float(height), -1)):
        inside = sign * (polygon[:, axis] - bound) >= 0
        if inside.all():
            continue
        clipped = []
        for k in range(len(polygon)):
            if inside[k] != inside[k - 1]:
                previous, current = polygon[k - 1], polygon[k]
                t = (bound - previous[axis]) / (current[axis] - previous[axis])
                clipped.append(previous + t * (current - previous))
            if inside[k]:
                clipped.append(polygon[k])
        polygon = np.array(clipped).reshape(-1, 2)
    return polygon


def _rectangle(points: np.ndarray, height: int, width: int) -> CroppedMask:
    """Pixels whose centre (c + 0.5) lies in (x0, x1] × (y0, y1], the pycocotools tie rule."""
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    c0, c1 = (int(np.clip(math.floor(v - 0.5) + 1, 0, width)) for v in (x0, x1))
    r0, r1 = (int(np.clip(math.floor(v - 0.5) + 1, 0, height)) for v in (y0, y1))
    return CroppedMask(c0, r0, np.ones((r1 - r0, c1 - c0), dtype=bool))


def _circle(points: np.ndarray, height: int, width: int) -> CroppedMask:
    """Pixels whose centre lies within the radius (centre to the second point)."""
    (cx, cy), rim = points
    radius = math.hypot(*(rim - (cx, cy)))
    c0 = int(np.clip(math.ceil(cx - radius - 0.5), 0, width))
    c1 = int(np.clip(math.floor(cx + radius - 0.5) + 1, c0, width))
    r0 = int(np.clip(math.ceil(cy - radius - 0.5), 0, height))
    r1 = int(np.clip(math.floor(cy + radius - 0.5) + 1, r0, height))
    xs = np.arange(c0, c1) + 0.5 - cx
    ys = np.arange(r0, r1) + 0.5 - cy
    return CroppedMask(c0, r0, xs[None, :] ** 2 + ys[:, None] ** 2 <= radius * radius)


def _mask_crop(shape: _Shape, report: Report, where: dict) -> CroppedMask | None:
    """labelme 5's mask shape: a base64 PNG of the bbox crop, its top-left corner at points[0]."""
    if shape.mask is None or len(shape.points) < 1:
        report.error("skipped: a mask shape needs its mask (base64 PNG) and its corner in points", **where)
        return None
    try:
        pixels = images.read_image(base64.b64decode(shape.mask), name=f"the mask of {shape.item}")
    except ValueError as exc:  # binascii.Error, or non-ASCII text
        report.error(f"skipped: its mask is not valid base64 ({exc})", **where)
        return None
    except ImageReadError as exc:
        report.error(f"skipped: {exc}", **where)
        return None
    x, y = (round(v) for v in shape.points[0])
    return CroppedMask(x, y, pixels.any(axis=2))
