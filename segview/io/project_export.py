"""Exporting a project for `segview export`: validate first, then write each format
atomically into one folder (``instances.json``, ``panoptic.json`` + ``panoptic/``, ``semantic/``).

Each format is written into a hidden staging folder inside the output folder and renamed into place
when complete, so a crash or a full disk leaves the previous export or the new one, never a mix.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from segview.core.dataset import Dataset
from segview.core.report import Report
from segview.errors import WriteError
from segview.io.detect import DatasetFormat, save_dataset

TARGETS = {
    DatasetFormat.COCO: ("instances.json",),
    DatasetFormat.COCO_PANOPTIC: ("panoptic", "panoptic.json"),  # PNGs first, the JSON that lists them last
    DatasetFormat.SEMANTIC_PNG: ("semantic",),
}


def validate_dataset(dataset: Dataset, *, check_images: bool = True) -> Report:
    """Everything an export would drop or get wrong, before anything is written."""
    report = Report()
    if not len(dataset.categories):
        report.error("there are no categories; define them before exporting")
    annotated = [r for r in dataset.images if r.annotation is not None]
    if not annotated:
        report.warning("no image has an annotation; the export lists the images only")
    for record in dataset.images:
        path = dataset.image_path(record)
        if check_images and path is not None and not path.is_file():
            report.warning("the image file is missing; its annotation is exported anyway", record.file_name)
        if record.annotation is not None:
            _validate_annotation(dataset, record, report)
    return report


def _validate_annotation(dataset: Dataset, record, report: Report) -> None:
    """Size, stray ids, unknown categories, empty segments and crowd stuff of one annotation."""
    annotation, name = record.annotation, record.file_name
    if (annotation.height, annotation.width) != (record.height, record.width):
        report.error(f"the annotation is {annotation.width}×{annotation.height} but the image is "
                     f"{record.width}×{record.height}", name)
    stray = annotation.unknown_ids()
    if stray:
        report.error(f"pixels hold id(s) {sorted(stray)[:10]} that no segment describes", name)
    areas = annotation.areas()
    for sid, segment in sorted(annotation.segments.items()):
        item = f"segment {sid}"
        if segment.category_id not in dataset.categories:
            report.error(f"its category id {segment.category_id} is not a category of the project", name, item)
        elif segment.iscrowd and not dataset.categories.is_thing(segment.category_id):
            report.warning("a crowd region of a stuff category (crowd is meant for things)", name, item)
        if areas.get(sid, 0) == 0:
            report.warning("it has no pixels and is not exported", name, item)


def write_formats(
    dataset: Dataset,
    formats: list[DatasetFormat],
    out_dir: str | os.PathLike,
    *,
    mask_format: str = "auto",
    category_id_base: int | None = None,
) -> dict[DatasetFormat, Report]:
    """Write each format into ``out_dir`` atomically; returns each writer's report."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"Could not create the output folder {out_dir}: {exc.strerror or exc}.") from None
    reports = {}
    for fmt in formats:
        reports[fmt] = _export_one(dataset, DatasetFormat(fmt), out_dir, mask_format, category_id_base)
    return reports


def _export_one(dataset: Dataset, fmt: DatasetFormat, out_dir: Path, mask_format: str,
                category_id_base: int | None) -> Report:
    """Write one format into a staging folder, then rename its outputs into place."""
    names = TARGETS[fmt]
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".export-{fmt.value}-", dir=out_dir))
    except OSError as exc:
        raise WriteError(f"Could not write into {out_dir}: {exc.strerror or exc}.") from None
    try:
        kwargs = {"mask_format": mask_format} if fmt is DatasetFormat.COCO else {}
        target = staging / names[-1]  # the JSON file, or the folder of a format without one
        report = save_dataset(dataset, fmt, target, category_id_base=category_id_base, **kwargs)
        for name in names:
            if (staging / name).exists():
                _replace(staging / name, out_dir / name)
        return report
    except OSError as exc:
        raise WriteError(f"Could not write {fmt.value} into {out_dir}: {exc.strerror or exc}.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace(source: Path, target: Path) -> None:
    """Rename ``source`` onto ``target``; an existing folder is moved aside first, then deleted."""
    if source.is_dir() and target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
        os.replace(target, aside / target.name)
        os.replace(source, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(source, target)

