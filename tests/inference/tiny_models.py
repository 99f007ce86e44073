"""Tiny random-weight models saved as local-file model cards, for tests that run the real pipeline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from segview.inference.cards import ModelCard, load_card

THING_CATEGORIES = """
[[categories]]
id = 1
name = "ball"
isthing = true
[[categories]]
id = 2
name = "crate"
isthing = true
"""
SEMANTIC_CATEGORIES = """
[[categories]]
id = 0
name = "sky"
isthing = false
[[categories]]
id = 1
name = "ball"
isthing = true
[[categories]]
id = 2
name = "grass"
isthing = false
"""


def write_card(
    folder: Path,
    name: str,
    task: str,
    builder: str,
    kwargs: str,
    categories: str,
    model: torch.nn.Module,
    extra: str = "",
) -> ModelCard:
    """Save ``model``'s weights beside a card that names them with their sha256; return the parsed card."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}.pt"
    torch.save({"model": model.state_dict()}, weights)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    text = (
        f'name = "{name}"\ntitle = "{name}"\ntask = "{task}"\nbuilder = "{builder}"\nlicence = "MIT"\n'
        f'description = "test"\n{categories}\n[builder_kwargs]\n{kwargs}\n'
        f'[weights]\nfile = "{name}.pt"\nsha256 = "{sha}"\n{extra}'
    )
    (folder / f"{name}.toml").write_text(text)
    return load_card(folder / f"{name}.toml")


def write_tiny_cards(folder: Path) -> tuple[ModelCard, ModelCard]:
    """A MobileNetV3 Mask R-CNN ('tiny_inst', score threshold 0) and an LR-ASPP ('tiny_sem')."""
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    from segview.inference.architectures import maskrcnn_mobilenet_v3_large_fpn

    torch.manual_seed(0)
    inst_model = maskrcnn_mobilenet_v3_large_fpn(
        num_classes=3, min_size=96, max_size=128, box_score_thresh=0.0
    )
    inst = write_card(
        folder,
        "tiny_inst",
        "instance",
        "segview.inference.architectures.maskrcnn_mobilenet_v3_large_fpn",
        "num_classes = 3\nbox_score_thresh = 0.0",
        THING_CATEGORIES,
        inst_model,
        "[input]\nmin_size = 96\nmax_size = 128\n",
    )
    sem_model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    sem = write_card(
        folder,
        "tiny_sem",
        "semantic",
        "torchvision.models.segmentation.lraspp_mobilenet_v3_large",
        "num_classes = 3",
        SEMANTIC_CATEGORIES,
        sem_model,
        "[input]\nresize = 64\n",
    )
    return inst, sem
