"""Open-vocabulary detection: class names → boxes, with transformers' OWLv2 (``Owlv2ForObjectDetection``).

A detector card (task ``detector``) builds the architecture (``segview.inference.architectures.owlv2``),
loads its weights like every card (``weights.ensure_weights``: the user's file or a checked download) and
its tokenizer, CLIP's byte-pair encoding, from the card's ``[tokenizer]`` files. Each name is asked as
"a photo of a NAME"; OWLv2 scores every image patch's box against every name, and the boxes are returned in
image pixels after a per-class non-maximum suppression (OWLv2 answers one box per patch, so neighbours
repeat an object).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import batched_nms

from segview.errors import SegviewError
from segview.inference.cards import ModelCard, get_card
from segview.inference.device import DeviceChoice, choose_device
from segview.inference.weights import (
    Progress,
    WeightsError,
    check_fits,
    ensure_weights,
    load_checkpoint,
    missing_files,
    missing_files_message,
    unchecked_missing,
)

PROMPT_TEMPLATE = "a photo of a {}"
MAX_QUERY_TOKENS = 16  # OWLv2's text position embeddings


class DetectorError(SegviewError):
    """A detector cannot run as asked (no class names, a card of another task)."""


@dataclass(frozen=True)
class Detection:
    """One box found for one of the asked names: ``label`` indexes the names, ``box`` is (x0, y0, x1, y1)
    in image pixels."""

    box: tuple[float, float, float, float]
    label: int
    score: float


class OpenVocabularyDetector:
    """An OWLv2 model with its tokenizer and image processor: ``detect(image, names)`` → detections."""

    def __init__(self, model, tokenizer, device: DeviceChoice, name: str = "") -> None:
        from transformers import Owlv2ImageProcessor

        self.model = model.eval().to(device.device)
        self.tokenizer = tokenizer
        side = int(model.config.vision_config.image_size)
        self.image_processor = Owlv2ImageProcessor(size={"height": side, "width": side})
        self.device = device
        self.name = name

    @torch.inference_mode()
    def detect(
        self,
        image: np.ndarray,
        names: Sequence[str],
        score_threshold: float = 0.1,
        nms_iou: float = 0.5,
        max_detections: int = 100,
    ) -> list[Detection]:
        """Boxes for ``names`` in an (h, w, 3) uint8 RGB image, best first, at most ``max_detections``."""
        if not names:
            raise DetectorError("Give at least one class name to look for.")
        height, width = image.shape[:2]
        texts = [PROMPT_TEMPLATE.format(name) for name in names]
        tokens = self.tokenizer(texts, padding="max_length", max_length=MAX_QUERY_TOKENS, truncation=True,
                                return_tensors="pt")
        pixels = self.image_processor(images=np.ascontiguousarray(image), return_tensors="pt")["pixel_values"]
        device = self.device.device
        outputs = self.model(
            input_ids=tokens["input_ids"].to(device),
            attention_mask=tokens["attention_mask"].to(device),
            pixel_values=pixels.to(device),
        )
        side = max(height, width)  # OWLv2's boxes are relative to the image padded to a square
        result = self.image_processor.post_process_object_detection(
            outputs, threshold=score_threshold, target_sizes=[(side, side)]
        )[0]
        boxes = result["boxes"].float().cpu()
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
        scores, labels = result["scores"].float().cpu(), result["labels"].cpu()
        keep = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        kept = batched_nms(boxes, scores, labels, nms_iou)[:max_detections]
        return [
            Detection(tuple(float(v) for v in boxes[i].tolist()), int(labels[i]), float(scores[i]))
            for i in kept.tolist()
        ]


def tokenizer_files(
    card: ModelCard, *, allow_download: bool = False, progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Path]:
    """The card's tokenizer files (role → path), found or downloaded like weights."""
    return {
        role: ensure_weights(dataclasses.replace(card, weights=source), allow_download=allow_download,
                             progress=progress, cancel=cancel)
        for role, source in card.tokenizer.items()
    }


def load_tokenizer(files: dict[str, Path]):
    """CLIP's tokenizer (OWL-ViT and OWLv2 pad their queries with "!") from its vocab and merges files."""
    from transformers import CLIPTokenizer

    return CLIPTokenizer(vocab=str(files["vocab"]), merges=str(files["merges"]), pad_token="!")


def detector_card(card: ModelCard | str) -> ModelCard:
    """The card (or the card named), checked to be an open-vocabulary detector's."""
    card = get_card(card) if isinstance(card, str) else card
    if card.task != "detector":
        raise DetectorError(f"Model {card.name!r} is a {card.task} model, not an open-vocabulary detector: "
                            "choose a detector card (`segview models list` shows each card's task).")
    return card


def load_detector(
    card: ModelCard | str,
    *,
    device: str = "auto",
    weights_path: str | os.PathLike | None = None,
    allow_download: bool = False,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> OpenVocabularyDetector:
    """A detector card's model, weights and tokenizer on a device (see ``pipeline.load_model`` for the
    weights rules: a ``weights_path`` is loaded strictly)."""
    from segview.inference.pipeline import build_model

    card = detector_card(card)
    missing = [] if allow_download or weights_path is not None else missing_files(card)
    if missing:
        raise WeightsError(missing_files_message(f"Model {card.name!r}", missing,
                                                 [] if unchecked_missing(card) else [card.name]))
    options = dict(allow_download=allow_download, progress=progress, cancel=cancel)
    files = tokenizer_files(card, **options)
    path = ensure_weights(card, weights_path, **options)
    state_dict = load_checkpoint(path).state_dict
    model = build_model(card)
    expected = model.state_dict()
    # Checkpoints written by older transformers still hold the text model's position_ids buffer.
    state_dict = {k: v for k, v in state_dict.items() if k in expected or not k.endswith("position_ids")}
    check_fits(model, state_dict, path)
    return OpenVocabularyDetector(model, load_tokenizer(files), choose_device(device), card.name)
