"""The image folder a segview export records in a COCO or COCO panoptic JSON, and finding it again."""

from __future__ import annotations

import os
from pathlib import Path

from segview.core.report import Report
from segview.io.file_names import is_file

IMAGE_ROOT_KEY = "segview_image_root"
"""The key of the image folder (absolute) in the ``info`` of the COCO and COCO panoptic JSON segview
writes. COCO's ``info`` is free-form: pycocotools, panopticapi, Detectron2 and torchvision ignore it."""
_SAMPLE = 20


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
