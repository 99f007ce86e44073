"""The torch-free training plan: names, the deterministic split, refusals before any work."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.segments import Annotation, Segment
from segview.train.plan import (
    OutcomeRow,
    TrainingError,
    TrainingOutcome,
    TrainingPlan,
    TrainingProgress,
    check_trainable,
    next_model_name,
    split_images,
    trainable_builder,
)

CATS = CategorySet([Category(1, "cell", True), Category(2, "dish", False), Category(3, "debris", True)])


def _dataset(tmp_path, segments_per_image: list[dict[int, Segment]]) -> Dataset:
    records = []
    for i, segments in enumerate(segments_per_image):
        (tmp_path / f"img{i}.png").write_bytes(b"x")  # only its presence is checked here
        labels = np.zeros((8, 8), np.uint16)
        for sid in segments:
            labels[sid - 1] = sid
        records.append(ImageRecord(i + 1, f"img{i}.png", 8, 8, Annotation(8, 8, labels, segments)))
    return Dataset(CATS, records, tmp_path)


def test_plan_needs_a_budget_and_sane_values():
    with pytest.raises(TrainingError, match="budget"):
        TrainingPlan("data", "demo_panoptic", "mine")
    with pytest.raises(TrainingError, match="between 0 and 1"):
        TrainingPlan("data", "demo_panoptic", "mine", steps=5, val_fraction=1.0)
    with pytest.raises(TrainingError, match="device"):
        TrainingPlan("data", "demo_panoptic", "mine", steps=5, device="gpu")
    with pytest.raises(TrainingError, match="steps"):
        TrainingPlan("data", "demo_panoptic", "mine", steps=0)
    plan = TrainingPlan("data", "demo_panoptic", "mine", minutes=1.5, device="cuda:1")
    assert pickle.loads(pickle.dumps(plan)) == plan


def test_next_model_name_counts_versions_and_cleans_the_project_name():
    assert next_model_name("parts", []) == "parts-v1"
    assert next_model_name("parts", ["parts-v1", "parts-v2", "other-v3"]) == "parts-v3"
    assert next_model_name("my photos (2026)", []) == "my-photos-2026-v1"
    assert next_model_name("  ", []) == "model-v1"


def test_split_is_deterministic_per_file_and_keeps_one_on_each_side():
    names = [f"image_{i:03d}.png" for i in range(200)]
    train, val = split_images(names, 0.2)
    assert sorted(train + val) == sorted(names) and not set(train) & set(val)
    assert 25 <= len(val) <= 55  # about a fifth
    assert split_images(list(reversed(names)), 0.2) == (train, val)
    # adding images never moves an image that was already there
    more_train, more_val = split_images(names + [f"new_{i}.png" for i in range(50)], 0.2)
    assert set(val) <= set(more_val) and set(train) <= set(more_train)
    for count in (2, 3, 5):
        few_train, few_val = split_images(names[:count], 0.01)
        assert len(few_val) == 1 and len(few_train) == count - 1
        few_train, few_val = split_images(names[:count], 0.99)
        assert len(few_train) == 1 and len(few_val) == count - 1


def test_refusals_before_any_work(tmp_path):
    cell, dish, debris = Segment(1), Segment(2), Segment(3)
    with pytest.raises(TrainingError, match="at least 2 annotated images, and the dataset has 1"):
        check_trainable(_dataset(tmp_path, [{1: cell}]), "instance")
    stuff_only = _dataset(tmp_path, [{1: dish}, {1: dish}])
    with pytest.raises(TrainingError, match="no thing instance"):
        check_trainable(stuff_only, "instance")
    with pytest.raises(TrainingError, match="one class only .'dish'"):
        check_trainable(stuff_only, "semantic")
    with pytest.raises(TrainingError, match="one stuff class only"):
        check_trainable(stuff_only, "panoptic")
    with pytest.raises(TrainingError, match="no segment"):
        check_trainable(_dataset(tmp_path, [{}, {}]), "panoptic")
    one_thing = _dataset(tmp_path, [{1: cell}, {1: cell, 2: Segment(1)}])
    check_trainable(one_thing, "instance")  # a detector of one class still tells it from the background
    with pytest.raises(TrainingError, match="one class only"):
        check_trainable(one_thing, "semantic")
    check_trainable(_dataset(tmp_path, [{1: cell, 2: dish}, {1: debris}]), "semantic")
    missing = _dataset(tmp_path, [{1: cell}, {1: cell}])
    (tmp_path / "img1.png").unlink()
    with pytest.raises(TrainingError, match="1 annotated image.s. are missing .* 'img1.png'"):
        check_trainable(missing, "instance")


def test_outcome_table_and_progress_are_plain_records():
    outcome = TrainingOutcome("mine", "/m/mine.toml", (OutcomeRow("mask AP", "all", 0.0, 0.612),
                                                       OutcomeRow("IoU", "dish", 0.5, None)),
                              ("a.png",), ("b.png",), 10, 0.5, "cpu")
    table = outcome.table()
    assert "mask AP  all     0.0  61.2   +61.2" in table and table.splitlines()[2].endswith("-")
    progress = TrainingProgress(3, 10, [(1, 2.0), (2, 1.5), (3, 1.2)], 4.0, 7.0, 1.5)
    assert pickle.loads(pickle.dumps(progress)) == progress
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_plan_and_data_modules_import_no_torch():
    code = "import sys, segview.train.plan, segview.train.data; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_trainable_builders():
    assert trainable_builder("torchvision.models.detection.maskrcnn_resnet50_fpn_v2")
    assert trainable_builder("segview.inference.architectures.maskrcnn_mobilenet_v3_lite_fpn")
    assert trainable_builder("torchvision.models.segmentation.lraspp_mobilenet_v3_large")
    assert not trainable_builder("segview.inference.architectures.owlv2") and not trainable_builder(None)
