"""Class names → pre-labels: an open-vocabulary detector finds boxes, a prompt model (Segment Anything)
turns each box into a mask, and the result is an ordinary :class:`~segview.core.prediction.Prediction`.

Its instances carry the class the detector found and the detector's score, as bbox-cropped masks, so the
window's accept / reject / threshold / fusion flow and every export take it unchanged. The window runs it in
the model process (the ``grounded`` job, :func:`grounded_job`); ``segview predict --model grounded:NAME``
runs :class:`GroundedModel` through the same batch code as any model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from segview.core.categories import CategorySet
from segview.core.class_names import categories_for_names
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.errors import SegviewError
from segview.inference.cards import DEFAULT_PROMPT_MODEL, get_card
from segview.inference.detectors import OpenVocabularyDetector, detector_card, load_detector
from segview.inference.jobs import JobContext
from segview.inference.weights import WeightsError, missing_files, missing_files_message, unchecked_missing
from segview.io.pixel_budget import check_pixels

PREFIX = "grounded:"
BOX_THRESHOLD = 0.1  # OWLv2's scores are low (0.1-0.4 for clear objects): the window's threshold filters more
DECODE_CHUNK = 4  # boxes decoded together: SAM gives full-image masks (a 48 MP image: 240 MB each with its logits)


class GroundedError(SegviewError):
    """A grounded model cannot be set up as asked."""


class GroundedModel:
    """A detector and a prompt model as one model: ``predict(image)`` gives a Prediction of ``categories``
    (the names looked for, in their order; ids as :func:`categories_for_names` gives them)."""

    def __init__(self, detector: OpenVocabularyDetector, prompt_model, categories: CategorySet,
                 box_threshold: float = BOX_THRESHOLD) -> None:
        if not len(categories):
            raise GroundedError("Give at least one class name to look for.")
        self.detector = detector
        self.prompt_model = prompt_model
        self.categories = categories
        self.box_threshold = box_threshold
        self.name = f"{PREFIX}{detector.name}+{prompt_model.name}"

    @property
    def device(self) -> str:
        return str(self.detector.device)

    def predict(self, image: np.ndarray, embedding=None) -> Prediction:
        """Detect the categories' names in an (h, w, 3) uint8 RGB image and segment each box; ``embedding``
        is the prompt model's embedding of the image when it is at hand (cached), else it is computed."""
        check_pixels(image.shape[1], image.shape[0], "the image")
        height, width = image.shape[:2]
        ids = [c.id for c in self.categories]
        detections = self.detector.detect(image, [c.name for c in self.categories], self.box_threshold)
        prediction = Prediction(height, width, model=self.name, device=self.device)
        if not detections:
            return prediction
        if embedding is None:
            embedding = self.prompt_model.embed(image)
        for start in range(0, len(detections), DECODE_CHUNK):
            chunk = detections[start:start + DECODE_CHUNK]
            masks = self.prompt_model.decode_boxes(embedding, [d.box for d in chunk])
            for detection, (mask, _iou) in zip(chunk, masks, strict=True):
                crop = CroppedMask.from_full(mask)
                if crop.area:
                    prediction.instances.append(InstancePrediction(ids[detection.label], detection.score, crop))
        return prediction


def split_model_name(model: str) -> str | None:
    """The detector card of ``grounded:NAME``, or None for any other model name."""
    if not model.startswith(PREFIX):
        return None
    name = model[len(PREFIX):].strip()
    if not name:
        raise GroundedError(f"--model {model!r} names no detector: write grounded:NAME with a detector card "
                            "(`segview models list` shows them), e.g. grounded:owlv2_base.")
    return name


def prompt_card_name(name: str | None) -> str:
    """The prompt model to segment with (the default when None), checked to be one."""
    name = name or DEFAULT_PROMPT_MODEL
    card = get_card(name)
    if card.task != "prompt":
        raise GroundedError(f"Model {name!r} is a {card.task} model, not a prompt model: choose one of task "
                            "'prompt' (EdgeTAM, SlimSAM, SAM; see `segview models list`).")
    return name


def missing_model_files(*names: str) -> dict[str, list[tuple[str, Path]]]:
    """The missing files ((URL, where segview looks for it)) of each card named that lacks any: the detector's
    and the prompt model's together, so that one round of getting files is enough."""
    return {name: files for name in names if (files := missing_files(get_card(name)))}


def load_grounded(
    detector: str,
    names: Sequence[str],
    *,
    prompt_model: str | None = None,
    known: CategorySet | None = None,
    device: str = "auto",
    weights_path: str | os.PathLike | None = None,
    box_threshold: float = BOX_THRESHOLD,
) -> GroundedModel:
    """A grounded model for ``names`` (their categories from ``known``, the project's, where the names
    match); ``weights_path`` replaces the detector's weights. Missing files of either model are all named."""
    from segview.inference.sam import SamPredictor

    prompt_name = prompt_card_name(prompt_model)
    detector = detector_card(detector).name
    missing = missing_model_files(*([] if weights_path is not None else [detector]), prompt_name)
    if missing:
        files = [pair for found in missing.values() for pair in found]
        downloadable = [name for name in missing if not unchecked_missing(get_card(name))]
        raise WeightsError(missing_files_message(f"{PREFIX}{detector} ({' and '.join(missing)})", files, downloadable))
    found = load_detector(detector, device=device, weights_path=weights_path)
    prompt = SamPredictor.from_card(prompt_name, device=device)
    return GroundedModel(found, prompt, categories_for_names(names, known), box_threshold)


_detectors: dict[tuple[str, str], OpenVocabularyDetector] = {}  # the model process's detector in use


def grounded_job(context: JobContext) -> tuple[Prediction, CategorySet] | tuple[str, str, list, list] | None:
    """The model process's ``grounded`` job: key ``("grounded", image path)``, payload a dict with
    ``detector``, ``prompt_model`` (None: the default), ``device``, ``names``, ``known`` (a CategorySet or
    None), ``max_pixels`` and optionally ``box_threshold``. The prompt model and the image's embedding are
    the prompt tool's (``prompt_jobs``: loaded once, embeddings cached); the detector stays loaded. When files
    of the detector or the prompt model are not here, it answers ``("missing", "A and B", [(URL, path it goes
    to)], [card names])``: the models lacking files, every file of both, and the cards to download when
    segview can check every one of those files (else none)."""
    from segview.inference.prompt_jobs import predictor_and_embedding
    from segview.io.images import read_image
    from segview.io.pixel_budget import set_max_pixels

    payload, path = context.payload, Path(context.key[1])
    device = payload.get("device", "auto")
    if payload.get("max_pixels"):
        set_max_pixels(payload["max_pixels"])
    prompt_name = prompt_card_name(payload.get("prompt_model"))
    key = (payload["detector"], device)
    missing = missing_model_files(*([] if key in _detectors else [payload["detector"]]), prompt_name)
    if missing:  # the window names each file and where it goes, and offers to download them when it can
        files = [(url, str(where)) for found in missing.values() for url, where in found]
        checkable = not any(unchecked_missing(get_card(name)) for name in missing)
        return ("missing", " and ".join(missing), files, list(missing) if checkable else [])
    if key not in _detectors:
        _detectors.clear()  # one at a time: they are hundreds of megabytes
        _detectors[key] = load_detector(payload["detector"], device=device)
    image = read_image(path)
    predictor, embedding = predictor_and_embedding(path, prompt_name, device, payload.get("max_pixels"),
                                                   context.is_stale)
    if embedding is None or context.is_stale():
        return None
    categories = categories_for_names(payload["names"], payload.get("known"))
    model = GroundedModel(_detectors[key], predictor, categories, payload.get("box_threshold", BOX_THRESHOLD))
    return model.predict(image, embedding), categories
