"""Semantic PNG masks: one single-channel PNG per image holding the category id per pixel (0 = void).

A folder of masks carries its class list as ``classes.json`` (list of {id, name, isthing, color,
supercategory}) and ``classes.txt`` (one "id name" per line). Semantic masks have no instances: on load,
each connected component of a thing class becomes one instance.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Report
from segview.core.segments import VOID, Annotation, Segment
from segview.errors import FormatError, ImageReadError
from segview.io.atomic import atomic_write_bytes, atomic_write_text
from segview.io.category_json import category_json, export_categories, read_categories
from segview.io.images import is_image_file, read_image_size
from segview.io.json_reader import JsonReader
from segview.io.listing import list_tree
from segview.io.manifest import read_export_manifest
from segview.io.mask_png import encode_png, png_name, write_png
from segview.io.pixel_budget import budget_message
from segview.io.progress import ImageProgress, counted

CLASSES_JSON = "classes.json"
CLASSES_TXT = "classes.txt"
_DTYPES = {"uint8": np.uint8, "uint16": np.uint16}
_LABEL_MODES = ("L", "P", "I", "I;16", "I;16B", "I;16L")
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def _label_lut(annotation: Annotation, mapping: dict[int, int], name: str, report: Report) -> np.ndarray:
    """Lookup table segment id → written class id; segments of unknown categories are void (reported)."""
    lut = np.zeros(max(annotation.segments, default=0) + 1, dtype=np.uint32)
    unknown: dict[int, int] = {}
    for sid, segment in annotation.segments.items():
        if segment.category_id in mapping:
            lut[sid] = mapping[segment.category_id]
        else:
            unknown[segment.category_id] = unknown.get(segment.category_id, 0) + 1
    for category_id, count in sorted(unknown.items()):
        report.error(f"{count} segment(s) of unknown category id {category_id} are written as void", name)
    top = int(annotation.segment_map.max(initial=0))
    # Ids 1..top all described (a fused prediction's always are): no stray id, without a full-map np.unique.
    described = top <= len(annotation.segments) and all(i in annotation.segments for i in range(1, top + 1))
    stray = set() if described else annotation.unknown_ids()
    if stray:
        report.error(
            f"pixels painted with id(s) {sorted(stray)[:10]} that no segment describes are written as void",
            name,
        )
    return lut


def class_map(
    annotation: Annotation, mapping: dict[int, int], dtype: str, name: str, report: Report
) -> np.ndarray | None:
    """The written class id of every pixel as ``dtype`` (uint8 or uint16), or None (reported) when the ids
    do not fit; ``mapping``: category id → written id (unknown categories are void, reported)."""
    lut = _label_lut(annotation, mapping, name, report)
    ids = annotation.segment_map
    top = int(ids.max(initial=0))
    if top >= lut.size:
        ids = np.where(ids < lut.size, ids, VOID)
    limit = int(np.iinfo(_DTYPES[dtype]).max)
    high = int(lut.max(initial=0))
    if high > limit:  # a class id too large: is it on a pixel?
        high = int(lut[ids].max(initial=0))
    if high > limit:
        report.error(
            f"class ids up to {high} do not fit in {dtype}; no mask written "
            + ("(use dtype='auto' or category_id_base=1)" if high <= 0xFFFF else
               "(renumber the classes from 1: --category-id-base 1, or 'Renumber from' 1 in the export dialog)"),
            name,
        )
        return None
    table = lut.astype(_DTYPES[dtype])
    if top <= 255 and table.size <= 256 and ids.dtype != np.uint8:  # OpenCV's byte lookup: ~8x numpy's
        return cv2.LUT(ids.astype(np.uint8), np.pad(table, (0, 256 - table.size)))
    return table[ids]


def save_semantic_png(
    dataset: Dataset,
    out_dir: str | os.PathLike,
    *,
    dtype: str = "auto",
    palette: bool = False,
    category_id_base: int | None = None,
    progress: ImageProgress | None = None,
) -> Report:
    """Write one class-id PNG per annotated image (image stem + ``.png``) plus classes.json and classes.txt.

    ``dtype`` "auto" writes uint8 when every category id fits and uint16 otherwise; "uint8" or "uint16"
    force it (an image whose ids do not fit is reported and not written). ``palette=True`` writes 8-bit
    palette PNGs whose colours are the category colours. ``category_id_base`` None keeps category ids;
    an int renumbers them contiguously from that base. ``progress(done, total)`` is called after each
    image of the dataset (written or not).
    """
    if dtype not in ("auto", *_DTYPES):
        raise ValueError(f"dtype must be 'auto', 'uint8' or 'uint16', not {dtype!r}")
    if palette and dtype == "uint16":
        raise ValueError("palette PNGs are 8-bit: use dtype='uint8' or 'auto' with palette=True")
    out_dir = Path(out_dir)
    report = Report()
    exported = export_categories(dataset.categories, category_id_base, 1, report)  # class 0 is void
    if exported is None:
        return report
    categories, mapping = exported
    if dtype == "auto":
        dtype = "uint8" if palette or max(mapping.values(), default=0) <= 255 else "uint16"
    colors = np.zeros((256, 3), dtype=np.uint8)
    for category in categories:
        if category.id <= 255:
            colors[category.id] = category.color
    written: dict[str, str] = {}
    for record in counted(dataset.images, progress):
        name = record.file_name
        if record.annotation is None:
            report.info("the image has no annotation; no mask written", name)
            continue
        target = png_name(record)
        if target in written:
            report.error(
                f"its mask name {target} is already used by {written[target]}; no mask written", name
            )
            continue
        labels = class_map(record.annotation, mapping, dtype, name, report)
        if labels is None:
            continue
        written[target] = name
        if palette:
            image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), labels.tobytes())
            image.putpalette(colors.ravel().tolist())
            write_png(out_dir / target, image)
        else:
            atomic_write_bytes(out_dir / target, encode_png(labels))
    atomic_write_text(out_dir / CLASSES_JSON, json.dumps([category_json(c) for c in categories], indent=1))
    atomic_write_text(out_dir / CLASSES_TXT, "".join(f"{c.id} {c.name}\n" for c in categories))
    return report


def _read_classes(mask_dir: Path, report: Report) -> CategorySet:
    """The class list of a mask folder: classes.json, else classes.txt (all stuff), else a FormatError."""
    json_path, txt_path = mask_dir / CLASSES_JSON, mask_dir / CLASSES_TXT
    if json_path.is_file():
        reader = JsonReader(json_path)
        entries = reader.check(reader.load(), "", "list")
        return read_categories(reader, [(f"[{i}]", item) for i, item in enumerate(entries)])
    if not txt_path.is_file():
        raise FormatError(
            f"{mask_dir} has no {CLASSES_JSON} or {CLASSES_TXT}, so its class ids have no names. "
            f"Add a {CLASSES_TXT} with one 'id name' line per class."
        )
    categories = CategorySet()
    try:
        lines = txt_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"Could not read {txt_path} as UTF-8 text ({exc}).") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        try:
            categories.add(Category(int(parts[0]), parts[1].strip(), isthing=False))
        except (ValueError, IndexError) as exc:
            raise FormatError(
                f"{txt_path}, line {number}: {line.strip()!r} is not 'id name' with a unique positive id and "
                f"a unique name ({exc}). Fix the line."
            ) from exc
    report.info(
        f"{CLASSES_TXT} has no thing/stuff flags: every class is read as stuff "
        f"(write a {CLASSES_JSON} with isthing to get instances)"
    )
    return categories


def _image_index(image_root: Path, masks: list[Path]) -> dict[str, list[str]]:
    """Image files under ``image_root`` (the masks themselves excepted) by relative path without suffix."""
    index: dict[str, list[str]] = {}
    skip = {mask.resolve() for mask in masks}
    for path in list_tree(image_root).entries:
        if is_image_file(path) and path.is_file() and path.resolve() not in skip:
            rel = path.relative_to(image_root).as_posix()
            index.setdefault(rel.rsplit(".", 1)[0], []).append(rel)
    return index


def _read_mask(path: Path, name: str, report: Report) -> np.ndarray | None:
    """The class ids of a mask PNG as int64, or None with an error in the report."""
    try:
        with Image.open(path) as png:
            if png.mode not in _LABEL_MODES:
                report.error(
                    f"mask {path} is of mode {png.mode}, not a single-channel class-id PNG; "
                    "the image has no annotation",
                    name,
                )
                return None
            return np.asarray(png).astype(np.int64)
    except Image.DecompressionBombError:  # Pillow's limit is the pixel budget: refused before decoding
        report.error(budget_message(f"mask {path}") + " The image has no annotation.", name)
        return None
    except (OSError, ValueError, SyntaxError) as exc:
        report.error(f"mask {path} cannot be read ({exc}); the image has no annotation", name)
        return None


def _annotation(labels: np.ndarray, categories: CategorySet, name: str, report: Report) -> Annotation:
    """Stuff classes become one segment each, every connected component of a thing class one instance."""
    from scipy import ndimage  # ~0.2 s to import, and only reading needs it: writers start without it

    segment_map = np.zeros(labels.shape, dtype=np.uint32)
    segments: dict[int, Segment] = {}
    values, index = np.unique(labels, return_inverse=True)
    index = index.reshape(labels.shape)
    unknown, pixels = [], 0
    for k, (value, box) in enumerate(zip(values.tolist(), ndimage.find_objects(index + 1), strict=True)):
        if value == VOID:
            continue
        mask = index[box] == k
        if value not in categories:
            unknown.append(value)
            pixels += int(np.count_nonzero(mask))
            continue
        target, base = segment_map[box], len(segments)
        if categories.is_thing(value):
            components, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
            target[mask] = components[mask] + base
        else:
            target[mask], count = base + 1, 1
        segments.update((base + i, Segment(value)) for i in range(1, count + 1))
    if unknown:
        report.error(
            f"class value(s) {unknown[:10]} are not in the class list; their {pixels} pixels are void", name
        )
    dtype = np.uint16 if len(segments) <= np.iinfo(np.uint16).max else np.uint32
    return Annotation(labels.shape[0], labels.shape[1], segment_map.astype(dtype), segments)


def _recorded_image_root(mask_dir: Path, report: Report) -> Path | None:
    """The image folder a segview export recorded for ``mask_dir`` (one of its outputs), if it exists."""
    manifest = read_export_manifest(mask_dir.parent)
    if manifest is None or not isinstance(manifest.get("image_root"), str):
        return None
    prefix = f"{mask_dir.resolve().name}/"
    if not any(name.startswith(prefix) for name in manifest["outputs"].get("semantic-png", ())):
        return None
    root = Path(manifest["image_root"])
    try:
        if not root.is_dir():
            return None
    except OSError:  # a recorded name too long to look up: not an image folder
        return None
    report.info(f"using the image folder recorded by the segview export: {root} (give an image folder, "
                "--images, to use another)")
    return root


def load_semantic_png(
    mask_dir: str | os.PathLike,
    image_root: str | os.PathLike | None = None,
    *,
    check_images: bool = True,
    progress: ImageProgress | None = None,
) -> tuple[Dataset, Report]:
    """Read a folder of class-id PNGs and its class list (classes.json, else classes.txt).

    With ``image_root``, the image of mask ``a/b.png`` is ``a/b.<any image suffix>`` there (checked for
    existence and size when ``check_images``); without it, the image folder recorded in the manifest of
    the segview export the mask folder is part of (a note says so), and else file names are the mask paths.
    ``progress(done, total)`` is called after each mask is read; total: the masks.
    """
    mask_dir = Path(mask_dir)
    if not mask_dir.is_dir():
        raise FormatError(f"{mask_dir} is not a folder. Give the folder that holds the semantic PNG masks.")
    report = Report()
    categories = _read_classes(mask_dir, report)
    root = _recorded_image_root(mask_dir, report) if image_root is None else Path(image_root)
    listing = list_tree(mask_dir, "*.png")
    for line in listing.not_searched:
        report.error(f"{line}; masks there are not loaded")
    masks = [p for p in listing.entries if p.is_file()]
    index = {} if root is None else _image_index(root, masks)
    dataset = Dataset(categories, image_root=root)
    if not masks:
        report.warning(f"{mask_dir} holds no PNG masks")
    for image_id, path in enumerate(counted(masks, progress), 1):
        rel = path.relative_to(mask_dir).as_posix()
        candidates = index.get(rel[: -len(".png")], [])
        name = candidates[0] if candidates else rel
        if len(candidates) > 1:
            report.warning(f"several images match mask {rel} ({', '.join(candidates)}); using {name}", name)
        labels = _read_mask(path, name, report)
        if labels is None:
            continue
        height, width = labels.shape
        if root is not None and check_images:
            if not candidates:
                report.error(f"no image for mask {rel} in {root}", name)
            else:
                try:
                    width, height = read_image_size(root / name)
                except ImageReadError as exc:
                    report.error(str(exc), name)
        record = ImageRecord(image_id, name, width, height)
        dataset.images.append(record)
        if labels.shape != (height, width):
            report.error(
                f"mask {rel} is {labels.shape[1]}×{labels.shape[0]} but the image is {width}×{height}; "
                "the image has no annotation",
                name,
            )
            continue
        record.annotation = _annotation(labels, categories, name, report)
    if any(
        categories.is_thing(seg.category_id)
        for record in dataset.images
        if record.annotation
        for seg in record.annotation.segments.values()
    ):
        report.info(
            "semantic masks hold no instances: each 8-connected component of a thing class became "
            "one instance"
        )
    return dataset, report
