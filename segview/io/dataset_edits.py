"""A dataset as its project holds it: the edits made in segview over the dataset's own annotations."""

from __future__ import annotations

import os
from pathlib import Path

from segview.core.dataset import Dataset
from segview.core.report import Report
from segview.io.detect import DatasetFormat, detect_format, load_dataset
from segview.io.folder_images import add_unlisted_images
from segview.io.project import DB_NAME, Project, dataset_store


def load_listed_dataset(path: str | os.PathLike) -> tuple[Dataset, Report]:
    """The dataset at ``path`` as segview lists it: a labelme folder with every image in it, annotated
    or not."""
    path = Path(path)
    dataset, report = load_dataset(path)
    if path.is_dir() and detect_format(path) is DatasetFormat.LABELME:
        add_unlisted_images(dataset, report)
    return dataset, report


def load_edited_dataset(path: str | os.PathLike) -> tuple[Dataset, Report]:
    """The dataset at ``path`` (``load_listed_dataset``) with, for each image edited in segview, the
    annotation its project stores, and the project's categories once it stored some. The project is read
    without its lock (a window may hold it) and never created."""
    dataset, report = load_listed_dataset(path)
    store = dataset_store(path)
    if dataset.image_root is None or not (store / DB_NAME).is_file():
        return dataset, report
    with Project.open_read_only(dataset.image_root, store=store) as project:
        known = set(project.image_names())
        for record in dataset.images:
            stored = project.load_annotation(record.file_name) if record.file_name in known else None
            if stored is not None:
                record.annotation = stored
        if len(categories := project.categories()):
            dataset.categories = categories
    return dataset, report
