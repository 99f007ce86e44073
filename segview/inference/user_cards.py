"""Registering a user's own (fine-tuned) checkpoint as a model card in the user's model folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import tomli_w

from segview.inference.cards import (
    NAME_RE,
    CardError,
    ModelCard,
    ModelCategory,
    card_index,
    get_card,
    load_card,
    parse_card,
    parse_categories,
    user_models_dir,
)
from segview.inference.weights import load_checkpoint, sha256_of
from segview.io.atomic import atomic_write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def register_checkpoint(
    name: str,
    checkpoint_path: str | os.PathLike,
    base_card_name: str,
    categories: Sequence[ModelCategory | Mapping[str, Any]] | None = None,
    *,
    overwrite: bool = False,
) -> ModelCard:
    """Write a user card for a local (fine-tuned) checkpoint built like ``base_card_name``.

    Categories come from the checkpoint when it stores them, else from ``categories``; the card
    records the checkpoint's absolute path and sha256. Returns the new card.
    """
    if not NAME_RE.match(name):
        raise CardError(f"Model name {name!r} is not allowed: use letters, digits, '_', '-' and '.'.")
    index = card_index()
    target = user_models_dir() / f"{name}.toml"
    if name in index and not (overwrite and index[name] == target):
        kind = "user" if index[name] == target else "bundled"
        raise CardError(f"A {kind} model called {name!r} exists already ({index[name]}). Choose another name"
                        + (" or pass overwrite=True." if kind == "user" else "."))
    base = get_card(base_card_name)
    if base.task == "panoptic":
        raise CardError(f"{base_card_name!r} is a panoptic pair: register the checkpoint against an instance "
                        "or semantic card, such as maskrcnn_resnet50_fpn_v2 or deeplabv3_resnet50.")
    checkpoint = Path(checkpoint_path).expanduser().resolve()
    loaded = load_checkpoint(checkpoint)
    given = parse_categories([asdict(c) if isinstance(c, ModelCategory) else dict(c) for c in categories],
                             "the categories given") if categories is not None else None
    if loaded.categories is not None and given is not None and loaded.categories != given:
        raise CardError(f"{checkpoint} stores categories that differ from the ones given: "
                        "leave the categories out to use the checkpoint's.")
    chosen = loaded.categories if loaded.categories is not None else given
    if chosen is None:
        raise CardError(f"{checkpoint} stores no categories: give them as a list of {{id, name, isthing}}, "
                        "where id is the label the model outputs for the class.")
    kwargs = dict(base.builder_kwargs, num_classes=max(c.id for c in chosen) + 1)
    if any(key.startswith("aux_classifier.") for key in loaded.state_dict):
        kwargs["aux_loss"] = True
    assert base.input is not None
    data = {
        "name": name,
        "title": f"{name} (fine-tuned {base.title})",
        "task": base.task,
        "licence": f"Fine-tuned from {base.name}: {base.licence}",
        "description": f"A checkpoint registered from `{checkpoint}`, built like `{base.name}` "
                       f"({base.builder}). Categories from "
                       f"{'the checkpoint' if loaded.categories is not None else 'the registration'}.\n",
        "builder": base.builder,
        "builder_kwargs": kwargs,
        "weights": {"file": str(checkpoint), "sha256": sha256_of(checkpoint)},
        "categories": [asdict(c) for c in chosen],
        "input": {k: v for k, v in asdict(base.input).items() if v is not None},
    }
    text = tomli_w.dumps(data, multiline_strings=True)
    card = parse_card(target.resolve(), tomllib.loads(text))  # validate before writing anything
    atomic_write_text(target, text)
    return card


def check_new_name(name: str, base: ModelCard) -> None:
    """Refuse a name a new (trained) card cannot take: not a valid name, the base's own name, or the name of
    a card that exists (bundled or the user's: a trained model never replaces another)."""
    if not NAME_RE.match(name):
        raise CardError(f"Model name {name!r} is not allowed: use letters, digits, '_', '-' and '.', starting "
                        "with a letter or digit.")
    if name == base.name:
        raise CardError(f"{name!r} is the base model's name, and training never writes over the base model: "
                        "choose a new name.")
    existing = card_index().get(name)
    if existing is not None:
        kind = "the user's" if existing.parent == user_models_dir() else "a bundled"
        raise CardError(f"{name!r} is {kind} model already ({existing}): choose another name"
                        + (", or delete that card to replace it." if kind == "the user's" else "."))


def write_trained_card(
    name: str,
    base: ModelCard,
    weights: str | os.PathLike,
    categories: Sequence[Mapping[str, Any]],
    num_classes: int,
    *,
    description: str,
    hint: str = "",
) -> ModelCard:
    """Write (atomically, validated) the card of a model trained from the single-model card ``base``: its
    builder and input size, ``num_classes`` outputs, the ``categories`` ({id: label, name, isthing}), the
    weights file (absolute path and sha256) and a ``description`` of how it was made."""
    weights = Path(weights).resolve()
    kwargs = dict(base.builder_kwargs, num_classes=num_classes)
    if any(key.startswith("aux_classifier.") for key in load_checkpoint(weights).state_dict):
        kwargs["aux_loss"] = True
    assert base.input is not None
    data = {
        "name": name,
        "title": f"{name} (trained from {base.name})",
        "hint": hint,
        "task": base.task,
        "licence": f"Trained by segview from {base.name}: {base.licence}",
        "description": description,
        "builder": base.builder,
        "builder_kwargs": kwargs,
        "weights": {"file": str(weights), "sha256": sha256_of(weights)},
        "categories": [dict(c) for c in categories],
        "input": {k: v for k, v in asdict(base.input).items() if v is not None},
    }
    return _write_card(name, {k: v for k, v in data.items() if v != ""})


def write_trained_pair(name: str, base: ModelCard, instance: ModelCard, semantic: ModelCard, *,
                       description: str, hint: str = "") -> ModelCard:
    """Write (atomically, validated) the panoptic pair ``name`` of two trained member cards: each semantic
    class maps to the category of its name, a thing where the instance model has it."""
    things = {c.name for c in instance.categories if not isinstance(c, str)}
    data = {
        "name": name,
        "title": f"{name} (trained from {base.name})",
        "hint": hint,
        "task": "panoptic",
        "instance": instance.name,
        "semantic": semantic.name,
        "licence": f"Trained by segview from {base.name}: {base.licence}",
        "description": description,
        "mapping": {c.name: {"category": c.name, "isthing": c.name in things} for c in semantic.categories
                    if not isinstance(c, str)},
    }
    return _write_card(name, {k: v for k, v in data.items() if v != ""})


def _write_card(name: str, data: dict[str, Any]) -> ModelCard:
    target = user_models_dir() / f"{name}.toml"
    text = tomli_w.dumps(data, multiline_strings=True)
    parse_card(target.resolve(), tomllib.loads(text))  # validate before writing anything
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, text)
    return load_card(target)
