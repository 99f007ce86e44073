"""Detect a dataset's format from its path, and load or save any supported format by name."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from segview.core.dataset import Dataset
from segview.core.report import Report
from segview.errors import FormatError
from segview.io.file_names import is_file
from segview.io.listing import list_tree

_SNIFF_BYTES = 4 << 20

EXPORT_MANIFEST = ".segview-export.json"
"""The file list segview's export writes into its folder (see :mod:`segview.io.export`)."""
IMAGE_ROOT_KEY = "segview_image_root"
"""The key of the image folder (absolute) in the ``info`` of the COCO and COCO panoptic JSON segview
writes. COCO's ``info`` is free-form: pycocotools, panopticapi, Detectron2 and torchvision ignore it."""
_SAMPLE = 20


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


def check_path(path: Path) -> None:
    """Raise FormatError when the operating system refuses to look ``path`` up (a name too long, a
    symbolic link loop, a folder above it that cannot be entered); a path that does not exist passes."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise FormatError(f"Cannot open {path}: {exc.strerror or exc}. Check the path.") from exc


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


def read_export_manifest(folder: str | os.PathLike) -> dict | None:
    """The manifest of a segview export in ``folder`` (:data:`EXPORT_MANIFEST`), or None when there is
    none or it is not one (unreadable, not JSON, not written by segview)."""
    try:
        with open(Path(folder) / EXPORT_MANIFEST, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("written_by") != "segview export":
        return None
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict) or not all(
        isinstance(files, list) and all(isinstance(f, str) for f in files) for files in outputs.values()
    ):
        return None
    return manifest


def manifest_files(manifest: dict | None) -> set[str]:
    """Every file (path relative to the export folder, with ``/``) a manifest says segview wrote."""
    if manifest is None:
        return set()
    return {name for files in manifest["outputs"].values() for name in files}


def image_root_info(image_root: str | os.PathLike | None) -> dict[str, str]:
    """What a writer adds to a JSON's ``info`` so that readers find the images without being told where."""
    return {} if image_root is None else {IMAGE_ROOT_KEY: str(Path(image_root).resolve())}


def json_image_root(beside: Path, doc: object, file_names: list[str], report: Report, what: str) -> Path:
    """Where to look for the images of a COCO or COCO panoptic ``doc`` when no image folder was given:
    ``beside`` (the dataset's own folder) while any of the first images is there or nothing was recorded,
    else the folder a segview export recorded in ``info`` when the images are there, said in the report."""
    info = doc.get("info") if isinstance(doc, dict) else None
    recorded = info.get(IMAGE_ROOT_KEY) if isinstance(info, dict) else None
    if not isinstance(recorded, str) or not recorded or not file_names:
        return beside
    sample = file_names[:_SAMPLE]
    if any(is_file(beside / name) for name in sample):
        return beside
    root = Path(recorded)
    if root == beside or not any(is_file(root / name) for name in sample):
        return beside
    report.info(
        f"the images are not beside {what}; using the image folder recorded by the segview export: {root} "
        "(give an image folder, --images, to use another)"
    )
    return root


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
