"""Batch prediction over images and folders: the pipeline behind `segview predict` and "run on all"."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from segview.core.dataset import Dataset, ImageRecord
from segview.core.fusion import FusionParams, fuse
from segview.core.report import Report
from segview.errors import SegviewError
from segview.inference.pipeline import LoadedModel
from segview.io.detect import (
    EXPORT_MANIFEST,
    DatasetFormat,
    detect_format,
    manifest_files,
    read_export_manifest,
)
from segview.io.images import is_image_file, read_image


def collect_images(
    paths: Iterable[str | os.PathLike], report: Report | None = None
) -> tuple[Path, list[Path]]:
    """Image files named directly or found (recursively, sorted) in folders, and their common root.

    Folders skip segview's own files: ``.segview`` (the project) and an export's staging folders, every
    file a segview export's manifest (``.segview-export.json``) lists, and, for exports written before
    manifests, the PNGs of a semantic-PNG folder (one holding both classes.json and classes.txt) and of a
    panoptic PNG folder (``X/`` beside a COCO panoptic ``X.json``). They are label masks, not photos; a
    note in ``report`` says how many were skipped and where.
    """
    found: list[Path] = []
    skipped: dict[Path, int] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(_images_in(path, skipped))
        elif path.is_file():
            found.append(path)
        else:
            raise SegviewError(f"{path} does not exist. Give image files or folders of images.")
    masks = sum(skipped.values())
    if not found:
        also = f" ({masks} label mask(s) of a segview export were skipped)" if masks else ""
        raise SegviewError(f"No images found (looked for .jpg, .jpeg, .png, .bmp, .tif, .tiff, .webp){also}.")
    if masks and report is not None:
        places = ", ".join(str(folder) for folder in sorted(skipped)[:3]) + (" …" if len(skipped) > 3 else "")
        report.info(f"{masks} file(s) not opened as images: they are the label masks of a segview export "
                    f"({places})")
    resolved = [p.resolve() for p in found]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    return root, resolved


def _segview_folder(name: str) -> bool:
    """The project folder, an export's staging folder or a folder an export is replacing."""
    return name == ".segview" or name.startswith(".segview-export-") or (name.startswith(".") and ".old-" in name)


def _is_panoptic_json(path: Path) -> bool:
    try:
        return path.is_file() and detect_format(path) is DatasetFormat.COCO_PANOPTIC
    except (SegviewError, OSError):
        return False


def _images_in(folder: Path, skipped: dict[Path, int]) -> list[Path]:
    """The image files under ``folder``, sorted; the label masks of segview exports are counted in
    ``skipped`` (by their folder) instead."""
    found: list[Path] = []
    own: set[Path] = set()  # files listed by an export manifest
    mask_folders: set[Path] = set()  # semantic / panoptic PNG folders of exports without a manifest
    for parent, dirs, files in os.walk(folder):
        here = Path(parent)
        dirs[:] = [d for d in dirs if not _segview_folder(d)]
        manifest = read_export_manifest(here) if EXPORT_MANIFEST in files else None
        own.update(here / name for name in manifest_files(manifest))
        if manifest is None:
            if "classes.json" in files and "classes.txt" in files:
                mask_folders.add(here)
            mask_folders.update(here / d for d in dirs if _is_panoptic_json(here / f"{d}.json"))
        in_masks = here in mask_folders or any(m in here.parents for m in mask_folders)
        for name in files:
            path = here / name
            if not is_image_file(path) or not path.is_file():
                continue
            if path in own or (in_masks and path.suffix.lower() == ".png"):
                skipped[path.parent] = skipped.get(path.parent, 0) + 1
            else:
                found.append(path)
    return sorted(found)


def predict_images(
    paths: Iterable[str | os.PathLike],
    model: LoadedModel,
    params: FusionParams | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
) -> tuple[Dataset, Report]:
    """Run a model over images; an image that cannot be read or predicted (corrupt, over the pixel budget,
    too thin for the model) is reported and skipped, the rest is predicted."""
    report = Report()
    root, files = collect_images(paths, report)
    dataset = Dataset(model.categories, image_root=root)
    for index, path in enumerate(files):
        name = path.relative_to(root).as_posix()
        try:
            image = read_image(path)
            prediction = model.predict(image)
        except SegviewError as exc:  # unreadable, over the pixel budget, a shape the model cannot take
            report.error(f"skipped: {exc}", image=name)
        else:
            annotation = fuse(prediction, model.categories, params or FusionParams())
            dataset.images.append(
                ImageRecord(len(dataset.images) + 1, name, image.shape[1], image.shape[0], annotation)
            )
        if progress is not None:
            progress(index + 1, len(files), path)
    return dataset, report
