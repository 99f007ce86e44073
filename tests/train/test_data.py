"""Training data: a project folder's corrected images (even while a window holds the project), or a dataset."""

from __future__ import annotations

import pytest

from segview.io.project import Project
from segview.train.data import load_training_data
from segview.train.plan import TrainingError
from segview.train.scenes import DEMO_CATEGORIES
from tests.train.helpers import write_scenes, write_scenes_panoptic


def test_a_project_gives_its_corrected_images_while_a_window_holds_it(tmp_path):
    scenes = write_scenes(tmp_path / "photos", range(3))
    with Project.open(tmp_path / "photos") as project:  # as a window would: it holds the lock
        project.set_categories(DEMO_CATEGORIES)
        for record in scenes.images[:2]:
            project.save_annotation(record.file_name, record.annotation)
        dataset = load_training_data(tmp_path / "photos")
    assert [r.file_name for r in dataset.images] == [r.file_name for r in scenes.images[:2]]
    assert dataset.categories == DEMO_CATEGORIES and dataset.image_root == (tmp_path / "photos").resolve()
    assert all(r.annotation.segments for r in dataset.images)


def test_a_dataset_file_gives_its_annotated_images(tmp_path):
    dataset = load_training_data(write_scenes_panoptic(tmp_path / "scenes", count=3))
    assert len(dataset.images) == 3 and [c.name for c in dataset.categories][:2] == ["ball", "crate"]


def test_neither_a_dataset_nor_a_project(tmp_path):
    with pytest.raises(TrainingError, match="does not exist"):
        load_training_data(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(TrainingError, match="neither a dataset nor a segview project"):
        load_training_data(tmp_path / "plain")
