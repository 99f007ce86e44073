"""Detect a dataset's format from its path, and load or save any supported format by name."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from segview.core.dataset import Dataset
from segview.core.report import Report
from segview.errors import FormatError
from segview.io.file_names import check_path
from segview.io.listing import list_tree

_SNIFF_BYTES = 4 << 20

class DatasetFormat(str, Enum):
    COCO = "coco"
    COCO_PANOPTIC = "coco-panoptic"
    SEMANTIC_PNG = "semantic-png"
    LABELME = "labelme"


def _sniff_json(path: Path) -> DatasetFormat | None:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if b'"segments_info"' in head:
        return DatasetFormat.COCO_PANOPTIC
    if b'"shapes"' in head:
        return DatasetFormat.LABELME
    if b'"annotations"' in head or b'"images"' in head:
        return DatasetFormat.COCO
    return None


def detect_format(path: str | os.PathLike) -> DatasetFormat:
    """Guess the format of a JSON file or folder; raise FormatError when nothing fits."""
    path = Path(path)
    check_path(path)
    if not path.exists():
        raise FormatError(f"{path} does not exist. Give a COCO or panoptic JSON file, or a labelme folder.")
    if path.is_file():
        from segview.io.images import is_image_file

        if is_image_file(path):
            raise FormatError(f"{path} is an image, not a dataset: give the COCO or panoptic JSON file, or "
                              "the labelme folder, that describes it.")
        if path.suffix.lower() == ".json":
            try:
                found = _sniff_json(path)
            except OSError as exc:
                raise FormatError(f"Cannot read {path}: {exc.strerror or exc}. Check its permissions.") from exc
            if found is not None:
                return found
        raise FormatError(
            f"{path} is not a COCO instances, COCO panoptic or labelme JSON file "
            "(no 'annotations', 'segments_info' or 'shapes' key found)."
        )
    if (path / "classes.json").is_file() or (path / "classes.txt").is_file():
        return DatasetFormat.SEMANTIC_PNG
    for candidate in list_tree(path, "*.json").entries:
        try:  # a folder named *.json, a dangling link, an unreadable file: the labelme reader reports it
            found = _sniff_json(candidate) if candidate.is_file() else None
        except OSError:
            continue
        if found is DatasetFormat.LABELME:
            return DatasetFormat.LABELME
    raise FormatError(
        f"{path} holds no labelme JSON files and no semantic-PNG class list (classes.json). "
        "For COCO or panoptic data, give the JSON file itself."
    )


def load_dataset(
    path: str | os.PathLike,
    fmt: DatasetFormat | None = None,
    *,
    image_root: str | os.PathLike | None = None,
    png_dir: str | os.PathLike | None = None,
    check_images: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Dataset, Report]:
    """Load a dataset of any supported format (detected when ``fmt`` is None) and its report.

    ``image_root`` is where the images are; None: beside the JSON (the mask folder's images are not
    looked up for semantic PNG), or, when they are not there, the image folder a segview export recorded
    (COCO, COCO panoptic: in the JSON's ``info``; semantic PNG: in the export folder's manifest), named in
    the report. ``progress(done, total)`` goes to the COCO, COCO panoptic and semantic PNG readers (not labelme's).
    """
    check_path(Path(path))
    fmt = DatasetFormat(fmt) if fmt is not None else detect_format(path)
    if fmt is DatasetFormat.COCO:
        from segview.io.coco import load_coco

        return load_coco(path, image_root, check_images=check_images, progress=progress)
    if fmt is DatasetFormat.COCO_PANOPTIC:
        from segview.io.coco_panoptic import load_coco_panoptic

        return load_coco_panoptic(path, png_dir, image_root, check_images=check_images, progress=progress)
    if fmt is DatasetFormat.SEMANTIC_PNG:
        from segview.io.semantic_png import load_semantic_png

        return load_semantic_png(path, image_root, check_images=check_images, progress=progress)
    from segview.io.labelme import load_labelme

    return load_labelme(path, check_images=check_images)


def save_dataset(
    dataset: Dataset,
    fmt: DatasetFormat,
    out: str | os.PathLike,
    *,
    mask_format: str = "auto",
    category_id_base: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Write a dataset in one export format; returns what could not be carried over.

    ``progress(done, total)`` is called by the writer after each image of the dataset.
    """
    fmt = DatasetFormat(fmt)
    if fmt is DatasetFormat.COCO:
        from segview.io.coco import save_coco

        return save_coco(
            dataset, out, mask_format=mask_format, category_id_base=category_id_base, progress=progress
        )
    if fmt is DatasetFormat.COCO_PANOPTIC:
        from segview.io.coco_panoptic import save_coco_panoptic

        return save_coco_panoptic(dataset, out, category_id_base=category_id_base, progress=progress)
    if fmt is DatasetFormat.SEMANTIC_PNG:
        from segview.io.semantic_png import save_semantic_png

        return save_semantic_png(dataset, out, category_id_base=category_id_base, progress=progress)
    raise FormatError("labelme is an import format only; export to coco, coco-panoptic or semantic-png.")
