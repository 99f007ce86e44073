"""Segment Anything: an image's embedding once, then a mask for each prompt in milliseconds.

:class:`SamPredictor` wraps transformers' ``SamModel`` (SAM ViT-B/L/H and SlimSAM share it) or a model of
the SAM 2 family (``EdgeTamModel``: a multi-scale embedding, the image stretched to the square frame) built
from a prompt card (``segview.inference.architectures.sam`` / ``edgetam``). ``embed`` runs the heavy image
encoder and returns a picklable :class:`ImageEmbedding` (numpy, the image's size), which the model process
keeps and caches on disk; ``decode`` turns a :class:`~segview.core.prompts.PromptSet` into masks at the
image's size, best first (the mask decoder split at the image: ``segview.inference.sam_decoder``). The
coordinate transforms are ``segview.core.prompts``' (pure, property-tested).
"""

from __future__ import annotations

import os

import numpy as np

from segview.core.masks import CroppedMask
from segview.core.prompts import (
    LONG_SIDE,
    ImageEmbedding,
    PromptBox,
    PromptSet,
    image_to_frame,
    logits_to_mask,
    prompt_arrays,
    resized_shape,
    to_model_frame,
)
from segview.inference.cards import ModelCard, get_card
from segview.inference.device import DeviceChoice, choose_device
from segview.inference.sam_decoder import PreparedImage

# SAM's normalisation of 0-255 RGB (ImageNet statistics).
PIXEL_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
PIXEL_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
# transformers' prompt encoder adds half a pixel to coordinates it takes for pixel indices; segview's are
# continuous (pixel c covers [c, c+1)), so half a pixel comes off first.
_INDEX_SHIFT = 0.5

Candidate = tuple[np.ndarray, float]  # mask (H×W bool at the image's size), predicted IoU


class SamPredictor:
    """A prompt model on a device: ``embed`` an image, ``decode`` prompts against its embedding."""

    def __init__(self, model, name: str, long_side: int = LONG_SIDE, device: DeviceChoice | None = None,
                 weights_stamp: str = "", bf16: bool | None = None) -> None:
        import torch

        self.device = device or choose_device("cpu")
        # SAM 2's decoder takes the encoder's finer feature maps too (its 1x1 convolutions for them), and
        # SAM 2 stretches the image to the square frame instead of padding it.
        self.stretch = hasattr(model.mask_decoder, "conv_s0")
        # SAM's ViT encoder under CPU bfloat16 autocast: ~0.9x the CPU time of float32 where the CPU computes
        # bfloat16 natively (AVX512-BF16, AMX; bench/prompt_candidates.py), the embedding within ~0.5 % of
        # float32's. Elsewhere (bfloat16 would be emulated), on GPUs and for the SAM 2 family (not measured)
        # it stays float32. None: decide so.
        if bf16 is None:
            bf16 = cpu_has_native_bf16() and self.device.device == "cpu" and not self.stretch
        self.bf16 = bf16
        self.model = model.to(self.device.device).eval()
        self.name = name
        # Embeddings are cached under the model's name and its weights file's size and time: other weights
        # under the same name (a copy given with "Use a local file…") never get the old ones' embeddings.
        self.cache_name = f"{name}@{weights_stamp}" if weights_stamp else name
        self.long_side = long_side
        self._torch = torch
        self._prepared: tuple[ImageEmbedding, PreparedImage] | None = None

    @classmethod
    def from_card(cls, card: ModelCard | str, *, weights_path: str | os.PathLike | None = None,
                  device: str = "auto") -> SamPredictor:
        """Build the card's model and load its weights (a copy the user gave, or the card's file)."""
        from segview.inference.pipeline import load_weights_into_model
        from segview.inference.weights import find_weights

        card = get_card(card) if isinstance(card, str) else card
        model = load_weights_into_model(card, weights_path=weights_path)
        stat = find_weights(card, weights_path).stat()
        return cls(model, card.name, _long_side(card), choose_device(device), f"{stat.st_size:x}-{stat.st_mtime_ns:x}")

    @classmethod
    def random(cls, card: ModelCard, device: str = "cpu", seed: int = 0) -> SamPredictor:
        """The card's architecture with random weights (tests and benchmarks: same speed as real ones)."""
        import torch

        from segview.inference.pipeline import build_model

        torch.manual_seed(seed)
        return cls(build_model(card), card.name, _long_side(card), choose_device(device))

    # --- the heavy part: once per image ----------------------------------------------------------------

    def embed(self, image: np.ndarray) -> ImageEmbedding:
        """The embedding of an (H, W, 3) uint8 RGB image."""
        torch = self._torch
        height, width = image.shape[:2]
        frame = image_to_frame(image, self.long_side, self.stretch)
        new_h, new_w = resized_shape(height, width, self.long_side, self.stretch)
        frame[:new_h, :new_w] = (frame[:new_h, :new_w] - PIXEL_MEAN) / PIXEL_STD  # padding stays 0
        pixels = torch.from_numpy(frame).permute(2, 0, 1)[None].to(self.device.device)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            features = self.model.get_image_embeddings(pixels)
        high_res = ()
        if isinstance(features, (list, tuple)):  # the SAM 2 family: finer maps first, the decoder's last
            *finer, features = features
            high_res = tuple(level[0].float().cpu().numpy() for level in finer)
        return ImageEmbedding(features[0].float().cpu().numpy(), height, width, self.long_side, self.cache_name,
                              high_res, self.stretch)

    # --- the light part: once per prompt ---------------------------------------------------------------

    def decode(self, embedding: ImageEmbedding, prompts: PromptSet, multimask: bool = True) -> list[Candidate]:
        """Masks for a prompt at the image's size with their predicted IoU, best first (three candidates
        with ``multimask``, else one). An empty prompt has no mask."""
        return [(crop.to_full(embedding.height, embedding.width), score)
                for crop, score in self.decode_cropped(embedding, prompts, multimask)]

    def decode_cropped(self, embedding: ImageEmbedding, prompts: PromptSet,
                       multimask: bool = True) -> list[tuple[CroppedMask, float]]:
        """As :meth:`decode`, each mask cropped to its box (only that box is resampled to the image's size:
        what the window's preview gets, fast on a 48-megapixel photo)."""
        if not prompts:
            return []
        points, labels, box = prompt_arrays(prompts, embedding.height, embedding.width, embedding.long_side,
                                            embedding.stretch)
        torch = self._torch
        inputs = {}
        if len(points):
            inputs["input_points"] = torch.from_numpy(points - _INDEX_SHIFT)[None, None]
            inputs["input_labels"] = torch.from_numpy(labels)[None, None]
        if box is not None:
            inputs["input_boxes"] = torch.from_numpy(box - _INDEX_SHIFT)[None, None]
        logits, scores = self._run(embedding, inputs, multimask)
        order = np.argsort(-scores[0])
        return [(logits_to_mask(logits[0, i], embedding.height, embedding.width, embedding.long_side,
                                embedding.stretch), float(scores[0, i])) for i in order]

    def decode_boxes(self, embedding: ImageEmbedding, boxes: list[PromptBox]) -> list[Candidate]:
        """One mask per box (image coordinates x0, y0, x1, y1), in the boxes' order: the open-vocabulary
        detector's boxes to masks, decoded together."""
        if not boxes:
            return []
        corners = np.asarray(boxes, dtype=np.float64).reshape(-1, 2, 2)
        corners = np.clip(corners, 0.0, [embedding.width, embedding.height])
        frame = to_model_frame(corners, embedding.height, embedding.width, embedding.long_side, embedding.stretch)
        torch = self._torch
        inputs = {"input_boxes": torch.from_numpy(frame.reshape(-1, 4).astype(np.float32) - _INDEX_SHIFT)[None]}
        logits, scores = self._run(embedding, inputs, multimask=False)
        return [(logits_to_mask(logits[i, 0], embedding.height, embedding.width, embedding.long_side,
                                embedding.stretch).to_full(embedding.height, embedding.width), float(scores[i, 0]))
                for i in range(len(boxes))]

    def decode_points(self, embedding: ImageEmbedding, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """N single positive points (image coordinates, N × 2) decoded together, three candidates each, as
        low-resolution logits over the model frame (N × 3 × S × S) and predicted IoUs (N × 3): segment
        everything's point grid (``segview.inference.everything``) filters them before upsampling any."""
        frame = to_model_frame(np.asarray(points, dtype=np.float64).reshape(-1, 2), embedding.height,
                               embedding.width, embedding.long_side, embedding.stretch)
        torch = self._torch
        inputs = {"input_points": torch.from_numpy(frame.astype(np.float32) - _INDEX_SHIFT)[None, :, None, :],
                  "input_labels": torch.ones((1, len(frame), 1), dtype=torch.int64)}
        return self._run(embedding, inputs, multimask=True)

    def _run(self, embedding: ImageEmbedding, inputs: dict, multimask: bool) -> tuple[np.ndarray, np.ndarray]:
        """Low-resolution logits (prompts × candidates × S × S) and their IoU scores."""
        torch = self._torch
        target = self.device.device
        with torch.inference_mode():
            prepared = self._prepared_image(embedding)
            prompt = {k: v.to(target) for k, v in inputs.items()}
            sparse, _ = self.model.prompt_encoder(input_points=prompt.get("input_points"),
                                                  input_labels=prompt.get("input_labels"),
                                                  input_boxes=prompt.get("input_boxes"), input_masks=None)
            masks, scores = prepared.decode(sparse, multimask)
        return masks.float().cpu().numpy(), scores.float().cpu().numpy()

    def _prepared_image(self, embedding: ImageEmbedding) -> PreparedImage:
        """The decoder's image-only part for this embedding (kept for the last one: its prompts follow)."""
        if self._prepared is None or self._prepared[0] is not embedding:
            torch, target = self._torch, self.device.device
            levels = [torch.from_numpy(level)[None].to(target) for level in embedding.high_res]
            features = torch.from_numpy(embedding.features)[None].to(target)
            self._prepared = (embedding, PreparedImage(self.model, features, levels))
        return self._prepared[1]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (AVX512-BF16 or AMX, as torch.cpu sees it)."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check is not None and check() for check in checks)


def _long_side(card: ModelCard) -> int:
    return card.input.long_side if card.input is not None and card.input.long_side else LONG_SIDE
