"""Tiny random-weight base cards and generated-scene datasets on disk, for the training tests (tests/train and
tests/cli)."""

from __future__ import annotations

from pathlib import Path

import cv2
import torch

from segview.core.dataset import Dataset, ImageRecord
from segview.inference.cards import user_models_dir
from segview.io.export import export_dataset
from segview.train.scenes import DEMO_CATEGORIES, generate_dataset
from tests.inference.tiny_models import SEMANTIC_CATEGORIES, THING_CATEGORIES, write_card

TINY_INSTANCE_KWARGS = ("num_classes = 3\nfpn_channels = 16\nrpn_pre_nms_top_n_train = 100\nrpn_post_nms_top_n_train = 50\n"
                        "rpn_pre_nms_top_n_test = 50\nrpn_post_nms_top_n_test = 20\nrpn_batch_size_per_image = 32\n"
                        "box_batch_size_per_image = 32\nbox_detections_per_img = 10")
TINY_PAIR = """name = "tiny_pair"
title = "tiny pair"
task = "panoptic"
instance = "tiny_inst"
semantic = "tiny_sem"
licence = "MIT"
description = "test"

[mapping]
sky = { category = "sky", isthing = false }
ball = { category = "ball", isthing = true }
grass = { category = "grass", isthing = false }
"""


def write_tiny_bases(folder: Path) -> None:
    """tiny_inst: a small lite-FPN Mask R-CNN (64-pixel input; ball, crate); tiny_sem: an LR-ASPP (sky, ball,
    grass); tiny_pair: both."""
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    from segview.inference.architectures import maskrcnn_mobilenet_v3_lite_fpn

    torch.manual_seed(0)
    kwargs = dict(line.split(" = ") for line in TINY_INSTANCE_KWARGS.splitlines())
    instance = maskrcnn_mobilenet_v3_lite_fpn(min_size=64, max_size=128, **{k: int(v) for k, v in kwargs.items()})
    write_card(folder, "tiny_inst", "instance", "segview.inference.architectures.maskrcnn_mobilenet_v3_lite_fpn",
               TINY_INSTANCE_KWARGS, THING_CATEGORIES, instance, "[input]\nmin_size = 64\nmax_size = 128\n")
    semantic = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    write_card(folder, "tiny_sem", "semantic", "torchvision.models.segmentation.lraspp_mobilenet_v3_large",
               "num_classes = 3", SEMANTIC_CATEGORIES, semantic, "[input]\nresize = 64\n")
    (folder / "tiny_pair.toml").write_text(TINY_PAIR)


def write_scenes(folder: Path, seeds: range, size: int = 64) -> Dataset:
    """Generated scenes of ``seeds`` as PNG files in ``folder`` and their Dataset (the demo's categories)."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i, (name, image, annotation) in enumerate(generate_dataset(seeds, size, size), start=1):
        cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        records.append(ImageRecord(i, name, size, size, annotation))
    return Dataset(DEMO_CATEGORIES, records, folder)


def use_tiny_bases(monkeypatch, tmp_path: Path) -> Path:
    """Point segview's data folder into ``tmp_path`` and write the tiny bases into its models folder."""
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = user_models_dir()
    write_tiny_bases(folder)
    return folder


def write_scenes_panoptic(folder: Path, count: int = 6) -> Path:
    """``count`` 64-pixel scenes as a COCO panoptic dataset in ``folder`` (and as COCO instances, beside it);
    returns the panoptic JSON file."""
    report, paths = export_dataset(write_scenes(folder, range(count)), folder, ["coco-panoptic", "coco"])
    assert report.ok, report
    return next(p for p in paths if p.suffix == ".json" and "panoptic" in p.name)
