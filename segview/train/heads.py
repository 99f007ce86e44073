"""Class-head surgery: a base model's weights in a model built for other classes.

Everything but the class layers (backbone, FPN, RPN, the box and mask heads' hidden layers) is copied from
the base as it is. In a class layer — one row (or, for box regression, four rows) of weights per class —
the rows of a class the base model also knows (matched by name, ignoring case; a detector's background
row 0 always) are copied from the base; the rows of new classes keep their fresh initialisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from segview.train.plan import TrainingError

CLASS_LAYERS: dict[str, int] = {
    "roi_heads.box_predictor.cls_score": 1,  # Mask R-CNN
    "roi_heads.box_predictor.bbox_pred": 4,
    "roi_heads.mask_predictor.mask_fcn_logits": 1,
    "classifier.low_classifier": 1,  # LR-ASPP
    "classifier.high_classifier": 1,
    "classifier.4": 1,  # DeepLabV3, FCN
    "aux_classifier.4": 1,
}
"""Module → rows per class, for the architectures segview can train (torchvision's and its own)."""


@dataclass(frozen=True)
class Surgery:
    """What a transplant did: the class layers found, and the new labels taken from the base (label →
    base label) or left fresh."""

    layers: tuple[str, ...]
    kept: dict[int, int]
    fresh: tuple[int, ...]


def label_pairs(new: Mapping[int, str], base: Mapping[int, str], *, background: bool) -> dict[int, int]:
    """New label → base label for the classes both know by name (case ignored); with ``background``
    (detectors) label 0 maps to label 0."""
    base_by_name = {name.casefold(): label for label, name in base.items()}
    pairs = {label: base_by_name[name.casefold()] for label, name in new.items() if name.casefold() in base_by_name}
    if background:
        pairs[0] = 0
    return pairs


def transplant(base_state: Mapping[str, torch.Tensor], model: torch.nn.Module, num_classes: int,
               pairs: Mapping[int, int]) -> Surgery:
    """Load ``base_state`` into ``model`` (built with ``num_classes`` classes, freshly initialised) with
    the class layers' rows of the classes in ``pairs`` (new label → base label) copied from the base.

    A model whose class layers are unknown, or whose other weights do not fit the base's, cannot be trained
    from this base: a TrainingError says so."""
    state = model.state_dict()
    layers = tuple(name for name in CLASS_LAYERS if f"{name}.weight" in state)
    if not layers:
        raise TrainingError(f"segview does not know the class layers of {type(model).__name__}, so it cannot "
                            "train it: choose a Mask R-CNN, DeepLabV3, FCN or LR-ASPP base model.")
    class_keys = {f"{name}.{kind}": CLASS_LAYERS[name] for name in layers for kind in ("weight", "bias")}
    first = base_state.get(f"{layers[0]}.weight")
    base_num_classes = first.shape[0] // CLASS_LAYERS[layers[0]] if first is not None else 0
    misfits = [key for key, value in state.items() if key not in class_keys
               and (key not in base_state or base_state[key].shape != value.shape)]
    if misfits:
        raise TrainingError(f"The base model's weights do not fit its architecture ({len(misfits)} tensors, such "
                            f"as {misfits[0]!r}): choose another base model.")
    merged = {key: (base_state[key] if key not in class_keys else state[key].clone()) for key in state}
    for key, rows in class_keys.items():
        if key not in state:
            continue
        new, old = merged[key], base_state.get(key)
        if (old is None or old.shape[0] != rows * base_num_classes or new.shape[0] != rows * num_classes
                or old.shape[1:] != new.shape[1:]):
            raise TrainingError(f"The base model's class layer {key!r} does not have {rows} row(s) per class: "
                                "choose another base model.")
        for label, base_label in pairs.items():
            new[rows * label: rows * (label + 1)] = old[rows * base_label: rows * (base_label + 1)]
    model.load_state_dict(merged, strict=True)
    return Surgery(layers, dict(pairs), tuple(label for label in range(num_classes) if label not in pairs))
