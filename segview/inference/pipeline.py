"""From a model card to a loaded model that turns an RGB image into a Prediction.

A card's categories are mapped into segview's category space (positive ids, 0 = void): instance
labels keep their ids; a semantic model's label 0 (``__background__``) would collide with void, so
a semantic card's labels are shifted by one; a panoptic pair maps semantic classes by name.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass, field

import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.prediction import Prediction
from segview.inference.cards import (
    PREDICT_TASKS,
    CardError,
    ModelCard,
    get_card,
    resolve_categories,
    weight_cards,
)
from segview.inference.device import DeviceChoice, choose_device, is_out_of_memory
from segview.inference.weights import Progress, WeightsError, check_fits, ensure_weights, load_checkpoint
from segview.io.pixel_budget import check_pixels


@dataclass(frozen=True)
class CategorySpace:
    """The categories a model's results use, and how its raw labels map into them."""

    categories: CategorySet
    instance_labels: dict[int, int] = field(default_factory=dict)
    semantic_labels: dict[int, int] = field(default_factory=dict)


def category_space(card: ModelCard) -> CategorySpace:
    """Categories (segview ids) of a card's results and its label → category id maps."""
    if card.task == "instance":
        cats = resolve_categories(card)
        return CategorySpace(
            CategorySet(Category(c.id, c.name, c.isthing) for c in cats),
            instance_labels={c.id: c.id for c in cats},
        )
    if card.task == "semantic":
        cats = resolve_categories(card)
        shift = 1 if any(c.id == 0 for c in cats) else 0
        return CategorySpace(
            CategorySet(Category(c.id + shift, c.name, c.isthing) for c in cats),
            semantic_labels={c.id: c.id + shift for c in cats},
        )
    fused = resolve_categories(card)
    categories = CategorySet(Category(c.id, c.name, c.isthing) for c in fused)
    instance_card, semantic_card = weight_cards(card)
    by_name = {c.name: c.id for c in fused}
    semantic_labels = {
        c.id: by_name[card.mapping[c.name].category]
        for c in resolve_categories(semantic_card)
        if c.name in card.mapping
    }
    instance_labels = {c.id: c.id for c in resolve_categories(instance_card)}
    return CategorySpace(categories, instance_labels, semantic_labels)


def build_model(card: ModelCard, state_dict: dict | None = None):
    """Build the card's torchvision architecture with no weights (``weights=None``)."""
    module_name, _, function_name = card.builder.rpartition(".")
    builder = getattr(importlib.import_module(module_name), function_name)
    kwargs = dict(card.builder_kwargs)
    if card.task == "instance" and card.input is not None:
        if card.input.min_size:
            kwargs.setdefault("min_size", card.input.min_size)
        if card.input.max_size:
            kwargs.setdefault("max_size", card.input.max_size)
    if state_dict is not None and any(k.startswith("aux_classifier.") for k in state_dict):
        kwargs.setdefault("aux_loss", True)
    if card.builder.endswith(".sam") and state_dict is not None:  # SAM sizes (ViT-B/L/H, SlimSAM) are in its weights
        from segview.inference.architectures import sam_vision_config_of, tie_sam_weights
        from segview.inference.sam_keys import rename_in_place

        rename_in_place(state_dict)  # Meta's original files (segment_anything names) to SamModel's
        tie_sam_weights(state_dict)
        kwargs.update(sam_vision_config_of(state_dict))
    return builder(weights=None, weights_backbone=None, **kwargs)


def load_weights_into_model(
    card: ModelCard,
    *,
    weights_path: str | os.PathLike | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
):
    """Find (or download) a single card's weights, build its model and load them strictly."""
    from segview.inference.architectures import add_timm_prefix, unused_keys_of

    path = ensure_weights(card, weights_path, allow_download=allow_download, progress=progress, cancel=cancel)
    checkpoint = load_checkpoint(path)
    model = build_model(card, checkpoint.state_dict)
    add_timm_prefix(model, checkpoint.state_dict)
    for key in unused_keys_of(model, checkpoint.state_dict):
        del checkpoint.state_dict[key]
    check_fits(model, checkpoint.state_dict, path)
    return model.eval()


class LoadedModel:
    """A card's model(s) on a device: ``predict(image)`` gives a Prediction (and retries on the CPU
    when the GPU runs out of memory, saying so in ``Prediction.device``)."""

    def __init__(
        self,
        card: ModelCard,
        space: CategorySpace,
        device: DeviceChoice,
        instance_model=None,
        semantic_model=None,
    ) -> None:
        from segview.inference.predictors import InstancePredictor, SemanticPredictor

        self.card = card
        self.space = space
        self.device = device
        self._instance = (
            InstancePredictor(instance_model, space.instance_labels, device)
            if instance_model is not None
            else None
        )
        resize = None
        if semantic_model is not None:
            semantic_card = weight_cards(card)[-1]
            resize = semantic_card.input.resize if semantic_card.input else None
        self._semantic = (
            SemanticPredictor(semantic_model, space.semantic_labels, device, resize)
            if semantic_model is not None
            else None
        )

    @property
    def categories(self) -> CategorySet:
        return self.space.categories

    @property
    def name(self) -> str:
        """The card's name (as a grounded model's ``name`` says what it combines)."""
        return self.card.name

    def predict(self, image: np.ndarray) -> Prediction:
        """Run the model(s) on an (h, w, 3) uint8 RGB image; one over the pixel budget is refused
        (:class:`segview.io.pixel_budget.PixelBudgetError`) before anything is allocated for it."""
        check_pixels(image.shape[1], image.shape[0], "the image")
        try:
            return self._predict(image, str(self.device))
        except Exception as exc:
            if not (self.device.device.startswith("cuda") and is_out_of_memory(exc)):
                raise
            self._move_to(DeviceChoice("cpu", "CPU"))
            return self._predict(image, "CPU (the GPU ran out of memory)")

    def _predict(self, image: np.ndarray, device_name: str) -> Prediction:
        height, width = image.shape[:2]
        prediction = Prediction(height, width, model=self.card.name, device=device_name)
        if self._instance is not None:
            prediction.instances = self._instance(image)
        if self._semantic is not None:
            prediction.semantic, prediction.semantic_confidence = self._semantic(image)
        return prediction

    def _move_to(self, device: DeviceChoice) -> None:
        import torch

        self.device = device
        for predictor in (self._instance, self._semantic):
            if predictor is not None:
                predictor.model.to(device.device)
                predictor.device = device
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def load_model(
    card: ModelCard | str,
    *,
    device: str = "auto",
    weights_path: str | os.PathLike | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> LoadedModel:
    """Load a card (by name or parsed) with its weights on a device, ready to predict.

    ``weights_path`` replaces a single model's weights (loaded strictly: a checkpoint of another
    architecture is a WeightsError); a panoptic pair refuses it, having two models to load."""
    card = get_card(card) if isinstance(card, str) else card
    if card.task not in PREDICT_TASKS:
        raise CardError(f"Model {card.name!r} is a {card.task} model: it does not segment whole images by itself. "
                        + ("In the window it is the prompt tool's (T: click an object)." if card.task == "prompt" else
                           "It finds class names with a prompt model (Find by name…).")
                        + " Choose an instance, semantic or panoptic model (segview models list).")
    choice = choose_device(device)
    options = dict(allow_download=allow_download, progress=progress, cancel=cancel)
    space = category_space(card)
    if card.task == "panoptic":
        instance_card, semantic_card = weight_cards(card)
        if weights_path is not None:
            raise WeightsError(
                f"Model {card.name!r} is a pair of models ({instance_card.name} for things, {semantic_card.name} "
                f"for stuff), so one weights file cannot replace its weights. Use --model {instance_card.name} or "
                f"--model {semantic_card.name} with the file, or register your checkpoints as models of their own "
                "with `segview models import NAME FILE --base CARD`."
            )
        return LoadedModel(
            card,
            space,
            choice,
            instance_model=load_weights_into_model(instance_card, **options),
            semantic_model=load_weights_into_model(semantic_card, **options),
        )
    model = load_weights_into_model(card, weights_path=weights_path, **options)
    if card.task == "instance":
        return LoadedModel(card, space, choice, instance_model=model)
    return LoadedModel(card, space, choice, semantic_model=model)
