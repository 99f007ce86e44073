"""Segment everything: masks for a whole image from a grid of point prompts, as unlabeled candidates.

As Segment Anything's automatic mask generator does (Kirillov et al., 2023, section 7.1 and appendix): one
positive point per grid cell, three masks per point; a mask is kept when the model's predicted IoU and its
stability (the IoU of the mask thresholded at +1 and at -1 logits) are high; overlapping masks are
suppressed by box NMS, best first. Everything is filtered at the decoder's resolution; only the masks kept
are upsampled to the image. The image's embedding is the prompt tool's (computed once, cached).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torchvision.ops import masks_to_boxes, nms

from segview.core.candidates import Candidates, EverythingParams
from segview.core.masks import CroppedMask
from segview.core.prompts import ImageEmbedding, logits_to_image
from segview.inference.jobs import JobContext


def point_grid(height: int, width: int, per_side: int) -> np.ndarray:
    """Cell centres of a ``per_side`` × ``per_side`` grid over the image (N × 2, x then y)."""
    steps = (np.arange(per_side) + 0.5) / per_side
    xs, ys = np.meshgrid(steps * width, steps * height)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


class EverythingRun:
    """Segment everything a batch of points at a time: ``decode_batch`` until ``finished``, then
    ``candidates`` filters and upsamples what was kept."""

    def __init__(self, predictor, embedding: ImageEmbedding, params: EverythingParams | None = None) -> None:
        self.predictor, self.embedding = predictor, embedding
        self.params = params or EverythingParams()
        self.grid = point_grid(embedding.height, embedding.width, self.params.points_per_side)
        self.done = 0  # points decoded so far
        self._logits: list[torch.Tensor] = []
        self._scores: list[torch.Tensor] = []

    @property
    def total(self) -> int:
        """The points of the grid."""
        return len(self.grid)

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def decode_batch(self) -> None:
        """Decode the next ``points_per_batch`` points and keep their masks that pass the filters."""
        params = self.params
        batch = self.grid[self.done:self.done + params.points_per_batch]
        logits, scores = self.predictor.decode_points(self.embedding, batch)
        logits = torch.from_numpy(logits).flatten(0, 1)  # (points × 3, S, S)
        scores = torch.from_numpy(scores).flatten()
        inner = (logits > params.stability_offset).sum((1, 2))
        outer = (logits > -params.stability_offset).sum((1, 2))
        stability = inner / outer.clamp(min=1)
        keep = (scores >= params.iou_threshold) & (stability >= params.stability_threshold) & (inner > 0)
        self._logits.append(logits[keep])
        self._scores.append(scores[keep])
        self.done += len(batch)

    def candidates(self) -> Candidates:
        """The kept masks after box NMS, upsampled to the image, best first."""
        embedding, params = self.embedding, self.params
        logits, scores = torch.cat(self._logits), torch.cat(self._scores)
        crops, kept = [], []
        if len(logits):
            boxes = masks_to_boxes(logits > 0).float()
            for index in nms(boxes, scores, params.nms_iou).tolist():  # best first
                mask = logits_to_image(logits[index].numpy(), embedding.height, embedding.width, embedding.long_side,
                                       embedding.stretch)
                crop = CroppedMask.from_full(mask > 0)
                if crop.area >= params.min_area:
                    crops.append(crop)
                    kept.append(float(scores[index]))
        return Candidates(embedding.height, embedding.width, tuple(crops), tuple(kept))


def segment_everything(predictor, embedding: ImageEmbedding, params: EverythingParams | None = None,
                       stale=lambda: False) -> Candidates | None:
    """The image's candidates (None when ``stale`` says the request is obsolete), best first."""
    run = EverythingRun(predictor, embedding, params)
    while not run.finished:
        if stale():
            return None
        run.decode_batch()
    return run.candidates()


class EverythingJob:
    """The sliced job of one image: its embedding in the first step, then batches of points for about a
    slice each (more urgent work, and a cancel, get in between), each step's ``("progress", (points decoded,
    points in all))`` as an event."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.run: EverythingRun | None = None
        self._events: list[tuple[str, Any]] = []
        self._result: Candidates | tuple | None = None

    def step(self, budget_s: float) -> bool:
        if self.run is None:
            from segview.inference.prompt_jobs import PromptWeightsMissing, predictor_and_embedding

            name, device, max_pixels, params = self.context.payload
            try:
                predictor, embedding = predictor_and_embedding(self.context.key[1], name, device, max_pixels,
                                                               self.context.is_stale)
            except PromptWeightsMissing as missing:  # the window offers them, as for the prompt tool
                self._result = missing.answer
                return True
            if embedding is None:
                return True  # stale already: no result
            self.run = EverythingRun(predictor, embedding, params)
            self._events.append(("progress", (0, self.run.total)))
            return False
        end = time.monotonic() + budget_s
        while not self.run.finished and time.monotonic() < end:
            self.run.decode_batch()
        self._events.append(("progress", (self.run.done, self.run.total)))
        if self.run.finished:
            self._result = self.run.candidates()
        return self.run.finished

    def events(self) -> list[tuple[str, Any]]:
        events, self._events = self._events, []
        return events

    def result(self) -> Candidates | tuple | None:
        """The candidates; ``("missing", model, message, files)`` when the prompt model's weights are not here."""
        return self._result


def everything_job(context: JobContext) -> EverythingJob:
    """The model process's ``everything`` job: key ``("everything", image path)``, payload ``(prompt model,
    device, max_pixels, EverythingParams or None)``; the prompt model and the embedding are the prompt tool's
    (``prompt_jobs``), and so is its answer when the model's weights are not here."""
    return EverythingJob(context)
