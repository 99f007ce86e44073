"""Batch prediction over images and folders: the pipeline behind `segview predict` and "run on all"."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from segview.core.dataset import Dataset, ImageRecord
from segview.core.fusion import FusionParams, fuse
from segview.core.report import Report
from segview.errors import ImageReadError, SegviewError
from segview.inference.pipeline import LoadedModel
from segview.io.images import is_image_file, read_image


def collect_images(paths: Iterable[str | os.PathLike]) -> tuple[Path, list[Path]]:
    """Image files named directly or found (recursively, sorted) in folders, and their common root."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p)))
        elif path.is_file():
            found.append(path)
        else:
            raise SegviewError(f"{path} does not exist. Give image files or folders of images.")
    if not found:
        raise SegviewError("No images found (looked for .jpg, .jpeg, .png, .bmp, .tif, .tiff, .webp).")
    resolved = [p.resolve() for p in found]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    return root, resolved


def predict_images(
    paths: Iterable[str | os.PathLike],
    model: LoadedModel,
    params: FusionParams | None = None,
    progress: Callable[[int, int, Path], None] | None = None,
) -> tuple[Dataset, Report]:
    """Run a model over images; a corrupt image is reported and skipped, the rest is predicted."""
    root, files = collect_images(paths)
    dataset = Dataset(model.categories, image_root=root)
    report = Report()
    for index, path in enumerate(files):
        name = path.relative_to(root).as_posix()
        try:
            image = read_image(path)
        except ImageReadError as exc:
            report.error(f"skipped: {exc}", image=name)
        else:
            prediction = model.predict(image)
            annotation = fuse(prediction, model.categories, params or FusionParams())
            dataset.images.append(
                ImageRecord(len(dataset.images) + 1, name, image.shape[1], image.shape[0], annotation)
            )
        if progress is not None:
            progress(index + 1, len(files), path)
    return dataset, report
