"""The images a training run learns from: a project folder's corrected images, or a dataset file or folder
(with the edits its segview project holds). Torch-free: the window reads it to show the images and split."""

from __future__ import annotations

from pathlib import Path

from segview.core.dataset import Dataset
from segview.errors import FormatError
from segview.io.dataset_edits import load_edited_dataset
from segview.io.detect import detect_format
from segview.io.project import DB_DIR, DB_NAME, Project
from segview.train.plan import TrainingError


def load_training_data(source: str | Path) -> Dataset:
    """The annotated images of ``source``: a segview project folder (its corrected images; read without the
    lock, which a window may hold) or anything ``segview validate`` reads (with the edits made on it in
    segview). Only images with an annotation are kept."""
    path = Path(source).expanduser()
    if not path.exists():
        raise TrainingError(f"{path} does not exist: give a dataset (COCO, COCO panoptic, labelme, semantic PNG) "
                            "or a folder opened in segview.")
    if path.is_dir() and _dataset_format(path) is None:
        if not (path / DB_DIR / DB_NAME).is_file():
            raise TrainingError(f"{path} is neither a dataset nor a segview project: open it in segview and "
                                "correct some images, or give a dataset file.")
        with Project.open_read_only(path) as project:
            dataset = project.dataset("corrected")
    else:
        dataset, _report = load_edited_dataset(path)
    dataset.images = [r for r in dataset.images if r.annotation is not None]
    return dataset


def _dataset_format(folder: Path):
    """The dataset format of a folder, or None for a plain folder (of images, maybe a segview project)."""
    try:
        return detect_format(folder)
    except FormatError:
        return None
