"""Opening a dataset for editing: its images (for a labelme folder, every image in it, annotated or not),
its annotations as the starting state, and its project, where edits are journaled; and telling a dataset
folder (or a segview export) from a plain folder of images."""

from __future__ import annotations

from pathlib import Path

from segview.core.categories import CategorySet
from segview.core.workspace import ImageEntry
from segview.errors import SegviewError
from segview.io.dataset_edits import load_listed_dataset
from segview.ui.project_link import ProjectLink


def open_dataset(path: Path, link: ProjectLink) -> tuple[list[ImageEntry], CategorySet, str]:
    """The dataset's images as entries (stored edits loaded over the dataset's annotations), its
    categories and a status-bar message (the reader's report, recovery), possibly empty. SegviewError
    when it cannot be read: then the open project is left as it was."""
    dataset, report = load_listed_dataset(path)
    entries = [ImageEntry(dataset.image_path(r), annotation=r.annotation) for r in dataset.images]
    categories, message = link.open_dataset(path, dataset, entries)
    if report.issues:
        first = (report.errors or report.issues)[0]  # say what is wrong, not only how much
        message = f"{path.name}: {report.summary()}; {first}" + (f" {message}" if message else "")
    return entries, categories, message


def exported_dataset(folder: Path) -> Path | None:
    """The richest dataset of a segview export folder (panoptic, else instances, else semantic PNG)."""
    from segview.io.manifest import read_export_manifest

    if read_export_manifest(folder) is None:
        return None
    for name in ("panoptic.json", "instances.json", "semantic"):
        if (folder / name).exists():
            return folder / name
    return None


def looks_like_dataset(folder: Path) -> bool:
    """Whether ``folder`` is a dataset segview reads (labelme, COCO, panoptic…), not a plain image folder."""
    from segview.io.detect import detect_format

    try:
        detect_format(folder)
    except SegviewError:
        return False
    return True
