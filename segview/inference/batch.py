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
from segview.io.folder_images import collect_images
from segview.io.images import read_image


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
