"""The image files of a dataset folder that its annotation files do not list (a labelme folder lists only
the images someone annotated): they join the dataset as images without an annotation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Report
from segview.errors import ImageReadError
from segview.io.images import is_image_file, read_image_size


def image_files(folder: Path) -> Iterator[Path]:
    """Image files under ``folder``, skipping hidden files and folders (a .segview project among them)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file in sorted(files):
            if is_image_file(file) and not file.startswith("."):
                yield Path(root) / file


def add_unlisted_images(dataset: Dataset, report: Report) -> int:
    """Add every image under the dataset's image root that it does not list, without an annotation (the
    sizes read from the headers; an unreadable file is a warning in ``report``); the images are then
    sorted by file name. Returns how many were added."""
    root = dataset.image_root
    if root is None or not root.is_dir():
        return 0
    listed = {r.file_name for r in dataset.images}
    next_id = max((r.id for r in dataset.images), default=0) + 1
    added = 0
    for path in image_files(root):
        name = path.relative_to(root).as_posix()
        if name in listed:
            continue
        try:
            width, height = read_image_size(path, name=name)
        except ImageReadError as exc:
            report.warning(f"not listed: {exc}", name)
            continue
        dataset.images.append(ImageRecord(next_id + added, name, width, height))
        added += 1
    dataset.images.sort(key=lambda r: r.file_name)
    return added
