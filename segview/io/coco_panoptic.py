"""COCO panoptic (panopticapi / Detectron2): one JSON plus one RGB PNG per image.

In the PNGs a pixel's segment id is ``R + 256·G + 256²·B`` (panopticapi's code; its docstring says
otherwise). Real files use large RGB-derived ids; on load they are relabelled to compact ids 1..N in
``segments_info`` order, because segview's lookup-table views need compact ids.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from segview.core.categories import CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.masks import label_bounding_slices
from segview.core.report import Report
from segview.core.segments import VOID, Annotation, Segment, Source
from segview.errors import ImageReadError
from segview.io.atomic import atomic_write_bytes, atomic_write_text
from segview.io.category_json import category_json, export_categories, read_categories
from segview.io.image_root import image_root_info, json_image_root
from segview.io.images import read_image_size
from segview.io.json_reader import JsonReader
from segview.io.mask_png import encode_png, png_name
from segview.io.pixel_budget import budget_message
from segview.io.progress import ImageProgress, counted

MAX_SEGMENT_ID = (1 << 24) - 1
"""The largest id an RGB pixel can hold."""
MAX_IMAGE_ID = (1 << 63) - 1
"""Image ids are 64-bit signed integers in the project store and in most COCO tools."""

def rgb2id(rgb: np.ndarray) -> np.ndarray:
    """Segment ids (uint32) of an (..., 3) RGB array: ``R + 256·G + 256²·B``."""
    rgb = np.asarray(rgb)
    if rgb.ndim == 0 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an (..., 3) RGB array, got shape {rgb.shape}")
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def id2rgb(ids: np.ndarray | int) -> np.ndarray:
    """The (..., 3) uint8 RGB encoding of segment ids in 0 .. 2²⁴-1 (inverse of :func:`rgb2id`)."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "ui":
        ids = ids.astype(np.int64)
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) > MAX_SEGMENT_ID):
        raise ValueError(f"segment ids must lie in 0..{MAX_SEGMENT_ID} to be encoded as RGB")
    rgb = np.empty((*ids.shape, 3), dtype=np.uint8)
    for channel in range(3):  # one channel at a time: a few bytes a pixel, not 24 (int64 × 3)
        rgb[..., channel] = (ids >> (8 * channel)) & 0xFF
    return rgb


# --- loading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SegmentInfo:
    path: str
    id: int
    category_id: int
    iscrowd: bool
    area: float | None
    bbox: list[float] | None
    score: float | None


@dataclass(frozen=True)
class _AnnotationEntry:
    path: str
    image_id: int
    file_name: str
    segments: list[_SegmentInfo]


def _regions(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Distinct ids, the index of each pixel's id among them, pixel counts and bounding slices."""
    from scipy import ndimage  # ~0.2 s to import, and only reading needs it: writers start without it

    values, index = np.unique(ids.ravel(), return_inverse=True)
    index = index.reshape(ids.shape)
    counts = np.bincount(index.ravel(), minlength=values.size)
    slices = ndimage.find_objects(index + 1, max_label=values.size)
    return values, index, counts, slices


def _bbox_of(slices: tuple[slice, slice]) -> list[int]:
    rows, cols = slices
    return [cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start]


def _parse(
    reader: JsonReader, doc: Any
) -> tuple[CategorySet, list[tuple[str, ImageRecord]], list[_AnnotationEntry]]:
    doc = reader.check(doc, "", "dict")
    categories = read_categories(reader, reader.items(doc, "", "categories"))
    images = []
    for path, item in reader.items(doc, "", "images"):
        width, height = reader.get(item, path, "width", "int"), reader.get(item, path, "height", "int")
        if width <= 0 or height <= 0:
            reader.fail(path, f"has a size of {width}×{height}; width and height must be positive")
        images.append(
            (
                path,
                ImageRecord(
                    reader.integer(item, path, "id", 0, MAX_IMAGE_ID),
                    reader.file_name(item, path),
                    width,
                    height,
                ),
            )
        )
    annotations = []
    for path, item in reader.items(doc, "", "annotations"):
        infos = []
        for info_path, info in reader.items(item, path, "segments_info"):
            bbox = reader.get(info, info_path, "bbox", "list", None)
            if bbox is not None:
                if len(bbox) != 4:
                    reader.fail(f"{info_path}.bbox", f"must be [x, y, w, h], not {len(bbox)} numbers")
                bbox = [reader.check(v, f"{info_path}.bbox[{i}]", "number") for i, v in enumerate(bbox)]
            infos.append(
                _SegmentInfo(
                    info_path,
                    reader.get(info, info_path, "id", "int"),
                    reader.get(info, info_path, "category_id", "int"),
                    reader.get(info, info_path, "iscrowd", "flag", False),
                    reader.get(info, info_path, "area", "number", None),
                    bbox,
                    reader.get(info, info_path, "score", "number", None),
                )
            )
        annotations.append(
            _AnnotationEntry(
                path,
                reader.integer(item, path, "image_id", 0, MAX_IMAGE_ID),
                reader.file_name(item, path),
                infos,
            )
        )
    return categories, images, annotations


def _read_png(path: Path, image: str, report: Report) -> np.ndarray | None:
    """The (h, w, 3) uint8 array of a panoptic PNG, or None with an error in the report."""
    try:
        if not path.is_file():
            report.error(f"panoptic PNG {path} is missing; the image has no annotation", image)
            return None
        with Image.open(path) as png:
            if png.mode not in ("RGB", "RGBA"):
                report.error(
                    f"panoptic PNG {path} is of mode {png.mode}, not RGB; the image has no annotation", image
                )
                return None
            return np.asarray(png.convert("RGB"))
    except Image.DecompressionBombError:  # Pillow's limit is the pixel budget: refused before decoding
        report.error(budget_message(f"panoptic PNG {path}") + " The image has no annotation.", image)
        return None
    except (OSError, ValueError, SyntaxError) as exc:
        report.error(f"panoptic PNG {path} cannot be read ({exc}); the image has no annotation", image)
        return None


def _decode(
    entry: _AnnotationEntry, record: ImageRecord, rgb: np.ndarray, categories: CategorySet, report: Report
) -> Annotation:
    """The annotation of one PNG: ids relabelled 1..N in segments_info order, every mismatch reported."""
    name = record.file_name
    values, index, counts, slices = _regions(rgb2id(rgb))
    position = {int(v): k for k, v in enumerate(values)}
    lut = np.zeros(values.size, dtype=np.uint32)
    segments: dict[int, Segment] = {}
    described: set[int] = set()
    for info in entry.segments:
        item = f"{info.path} (segment {info.id})"
        if not 0 < info.id <= MAX_SEGMENT_ID:
            report.error(
                f"segment id {info.id} cannot be stored in an RGB PNG (1..{MAX_SEGMENT_ID}); left out",
                name,
                item,
            )
            continue
        if info.id in described:
            report.error(f"segment id {info.id} is described twice; the later entry is ignored", name, item)
            continue
        described.add(info.id)
        category = categories.get(info.category_id)
        if category is None:
            report.error(
                f"unknown category_id {info.category_id}; the segment is left out, its pixels are void",
                name,
                item,
            )
            continue
        k = position.get(info.id)
        if k is None:
            report.error(f"segment id {info.id} has no pixels in {entry.file_name}; left out", name, item)
            continue
        if info.area is not None and info.area != counts[k]:
            report.error(f"area is {info.area:g} but the mask has {counts[k]} pixels", name, item)
        box = _bbox_of(slices[k])
        if info.bbox is not None and not np.allclose(info.bbox, box, rtol=0, atol=1e-6):
            report.error(f"bbox is {info.bbox} but the mask's box is {box}", name, item)
        if info.iscrowd and not category.isthing:
            report.warning(f"iscrowd is set on stuff class {category.name!r}", name, item)
        compact = len(segments) + 1
        lut[k] = compact
        source = Source.PERSON if info.score is None else Source.MODEL
        segments[compact] = Segment(info.category_id, info.iscrowd, info.score, source)
    orphans = [int(v) for v in values if v != VOID and int(v) not in described]
    if orphans:
        shown = ", ".join(map(str, orphans[:10])) + (" ..." if len(orphans) > 10 else "")
        pixels = int(sum(counts[position[v]] for v in orphans))
        report.error(
            f"{len(orphans)} id(s) in {entry.file_name} have no segments_info entry ({shown}); "
            f"their {pixels} pixels are void",
            name,
            entry.path,
        )
    dtype = np.uint16 if len(segments) <= np.iinfo(np.uint16).max else np.uint32
    return Annotation(record.height, record.width, lut.astype(dtype)[index], segments)


def _check_image(root: Path, record: ImageRecord, report: Report) -> None:
    try:
        size = read_image_size(root / record.file_name)
    except (ImageReadError, OSError, ValueError, SyntaxError) as exc:
        report.error(str(exc), record.file_name)
        return
    if size != (record.width, record.height):
        report.error(
            f"the image file is {size[0]}×{size[1]} but the JSON says {record.width}×{record.height}",
            record.file_name,
        )


def default_png_dir(json_path: Path) -> Path:
    """The PNG folder beside a panoptic JSON: its path without the suffix (panoptic_val2017.json →
    panoptic_val2017/), or with ``_png`` appended when the JSON path has no suffix."""
    return json_path.with_suffix("") if json_path.suffix else json_path.with_name(json_path.name + "_png")


def load_coco_panoptic(
    json_path: str | os.PathLike,
    png_dir: str | os.PathLike | None = None,
    image_root: str | os.PathLike | None = None,
    *,
    check_images: bool = True,
    progress: ImageProgress | None = None,
) -> tuple[Dataset, Report]:
    """Read a COCO panoptic JSON and its PNGs; every inconsistency found is an issue in the report.

    ``png_dir`` defaults to the JSON path without its suffix, ``image_root`` to the JSON's folder (or,
    when the images are not there, to the folder a segview export recorded in ``info``).
    ``progress(done, total)`` is called after each annotation (one PNG) is read; total: the annotations.
    A malformed document raises :class:`FormatError` naming the file and the JSON path.
    """
    json_path = Path(json_path)
    png_dir = default_png_dir(json_path) if png_dir is None else Path(png_dir)
    given = image_root
    image_root = json_path.parent if image_root is None else Path(image_root)
    reader = JsonReader(json_path)
    doc = reader.load()
    categories, image_entries, annotations = _parse(reader, doc)
    report = Report()
    if given is None:
        names = [record.file_name for _, record in image_entries]
        image_root = json_image_root(image_root, doc, names, report, json_path.name)
    records: dict[int, ImageRecord] = {}
    for path, record in image_entries:
        if record.id in records:
            report.error(f"image id {record.id} is used twice; this entry is ignored", record.file_name, path)
        else:
            records[record.id] = record
    annotated: set[int] = set()
    for entry in counted(annotations, progress):
        record = records.get(entry.image_id)
        if record is None:
            report.error(
                f"annotation for image id {entry.image_id}, which is not in 'images'; ignored",
                entry.file_name,
                entry.path,
            )
            continue
        if entry.image_id in annotated:
            report.error(
                f"a second annotation for image id {entry.image_id}; ignored", record.file_name, entry.path
            )
            continue
        annotated.add(entry.image_id)
        rgb = _read_png(png_dir / entry.file_name, record.file_name, report)
        if rgb is None:
            continue
        if rgb.shape[:2] != (record.height, record.width):
            report.error(
                f"panoptic PNG {entry.file_name} is {rgb.shape[1]}×{rgb.shape[0]} but the image is "
                f"{record.width}×{record.height}; the image has no annotation",
                record.file_name,
                entry.path,
            )
            continue
        record.annotation = _decode(entry, record, rgb, categories, report)
    for record in records.values():
        if record.id not in annotated:
            report.warning("the image has no annotation", record.file_name)
        if check_images:
            _check_image(image_root, record, report)
    return Dataset(categories, list(records.values()), image_root), report


# --- saving --------------------------------------------------------------------------------------------


def encode_panoptic(
    ann: Annotation, name: str, mapping: dict[int, int], report: Report
) -> tuple[bytes, list[dict]]:
    """The PNG file (bytes) and segments_info of one annotation; what cannot be written is reported.

    ``mapping``: category id → exported id. Areas are counted in each segment's box; ids that cannot be
    written are made void by one table lookup, skipped when every id is written as it is.
    """
    ids, infos = _encode(ann, name, mapping, report)
    return encode_png(id2rgb(ids)), infos


def _encode(
    ann: Annotation, name: str, mapping: dict[int, int], report: Report
) -> tuple[np.ndarray, list[dict]]:
    """The segment ids to write (a map) and segments_info of one annotation."""
    ids = ann.segment_map
    boxes = label_bounding_slices(ids)
    top = max(boxes, default=0)
    if top > MAX_SEGMENT_ID:  # ids no RGB pixel can hold (reported below): one void entry for them all
        ids = np.minimum(ids, MAX_SEGMENT_ID + 1)
        top = MAX_SEGMENT_ID + 1
    lut = np.zeros(top + 1, dtype=np.uint32)
    infos = []
    for sid in sorted(ann.segments):
        segment = ann.segments[sid]
        item = f"segment {sid}"
        box = boxes.get(sid)
        if box is None:
            report.info("the segment has no pixels; left out", name, item)
        elif sid > MAX_SEGMENT_ID:
            report.error(
                f"segment id {sid} does not fit in 24 bits (RGB); left out, its pixels are void", name, item
            )
        elif segment.category_id not in mapping:
            report.error(
                f"unknown category id {segment.category_id}; left out, its pixels are void", name, item
            )
        else:
            lut[sid] = sid
            info = {
                "id": sid,
                "category_id": mapping[segment.category_id],
                "area": int(np.count_nonzero(ann.segment_map[box] == sid)),
                "bbox": _bbox_of(box),
                "iscrowd": int(segment.iscrowd),
            }
            if segment.score is not None:
                info["score"] = float(segment.score)
            infos.append(info)
    unknown = sorted(v for v in boxes if v not in ann.segments)
    if unknown:
        report.error(
            f"pixels painted with id(s) {unknown[:10]} that no segment describes are written as void", name
        )
    if top <= MAX_SEGMENT_ID and all(lut[sid] == sid for sid in boxes):
        return ids, infos  # every id is written as it is: no lookup
    return lut[ids], infos


def save_coco_panoptic(
    dataset: Dataset,
    json_path: str | os.PathLike,
    png_dir: str | os.PathLike | None = None,
    *,
    category_id_base: int | None = None,
    progress: ImageProgress | None = None,
) -> Report:
    """Write a COCO panoptic JSON and one RGB PNG per annotated image (PNGs first, the JSON last).

    ``png_dir`` defaults to the JSON path without its suffix; PNGs keep the images' subfolders. The
    image folder is recorded in ``info`` (see :func:`segview.io.image_root.image_root_info`).
    ``category_id_base`` None keeps category ids; an int renumbers them contiguously from that base.
    ``progress(done, total)`` is called after each image of the dataset (written or left out).
    """
    json_path = Path(json_path)
    png_dir = default_png_dir(json_path) if png_dir is None else Path(png_dir)
    report = Report()
    exported = export_categories(dataset.categories, category_id_base, 0, report)
    if exported is None:
        return report
    categories, mapping = exported
    images, annotations = [], []
    seen_ids: set[int] = set()
    written: dict[str, str] = {}
    for record in counted(dataset.images, progress):
        if record.id in seen_ids:
            report.error(f"image id {record.id} is used twice; this image is left out", record.file_name)
            continue
        seen_ids.add(record.id)
        images.append(
            {"id": record.id, "file_name": record.file_name, "width": record.width, "height": record.height}
        )
        if record.annotation is None:
            report.info("the image has no annotation; it is listed without one", record.file_name)
            continue
        name = png_name(record)
        if name in written:
            report.error(
                f"its PNG name {name} is already used by {written[name]}; the annotation is left out",
                record.file_name,
            )
            continue
        written[name] = record.file_name
        png, infos = encode_panoptic(record.annotation, record.file_name, mapping, report)
        atomic_write_bytes(png_dir / name, png)
        annotations.append({"image_id": record.id, "file_name": name, "segments_info": infos})
    document = {
        "info": {"description": "exported by segview", **image_root_info(dataset.image_root)},
        "images": images,
        "annotations": annotations,
        "categories": [category_json(c) for c in categories],
    }
    atomic_write_text(json_path, json.dumps(document))
    return report
