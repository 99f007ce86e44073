"""Fine-tune torchvision instance and semantic models on a segview Dataset (e.g. from ``load_coco``).

``SegmentationSamples`` turns annotated images (files under a Dataset's image root, or in-memory pairs such
as generated scenes) into torchvision's targets: for detection ``boxes`` (XYXY), ``labels`` and one mask per
non-crowd thing segment; for semantic segmentation a label per pixel (``IGNORE_INDEX`` on void). Light
augmentation: scale jitter, horizontal flip, random crop/pad to a square. ``train_instance_model`` and
``train_semantic_model`` run AdamW with linear warmup and cosine decay and save checkpoints in the format
``segview.inference.weights.load_checkpoint`` reads: ``{"model": state_dict, "categories": [...]}``.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch.utils.data import DataLoader, RandomSampler

from segview.core.categories import CategorySet
from segview.core.dataset import Dataset
from segview.core.segments import VOID, Annotation
from segview.inference.predictors import IMAGENET_MEAN, IMAGENET_STD
from segview.io.atomic import atomic_open
from segview.io.images import read_image
from segview.train.plan import TrainingError  # lives in the torch-free plan.py (ADR 13)

IGNORE_INDEX = 255
"""Semantic target of void (and unmapped) pixels: no loss there."""
MIN_INSTANCE_AREA = 4
"""A thing cut down to fewer pixels than this by cropping is not a training target."""


@dataclass(frozen=True)
class Augment:
    """Scale jitter by a factor in ``scale``, a horizontal flip with probability ``flip``, then a random
    crop (or a pad with void) to ``size`` × ``size``; ``size`` None keeps each image's own size. The scale
    is relative to the image resized so that its shorter side is ``size``."""

    scale: tuple[float, float] = (0.8, 1.25)
    flip: float = 0.5
    size: int | None = None


class SegmentationSamples(torch.utils.data.Dataset):
    """Annotated images as ``(image, target)``: image (3, h, w) float in [0, 1]; target has ``boxes``,
    ``labels``, ``masks`` (things, crowd skipped) and ``semantic`` ((h, w) int64 labels).

    ``thing_labels`` maps thing category ids to detector labels (default: the ids themselves, as the cards
    of instance models say); ``semantic_labels`` maps category ids to semantic labels (default: 0, 1, ...
    in category order). Randomness comes from torch's generator (seed it with ``torch.manual_seed``).
    """

    def __init__(
        self,
        items: Sequence[tuple[np.ndarray | Path, Annotation]],
        categories: CategorySet,
        *,
        thing_labels: Mapping[int, int] | None = None,
        semantic_labels: Mapping[int, int] | None = None,
        augment: Augment | None = None,
    ) -> None:
        if not items:
            raise TrainingError("There are no annotated images to train on: annotate some images first.")
        self.items = list(items)
        self.categories = categories
        self.thing_labels = dict(
            thing_labels if thing_labels is not None else {c.id: c.id for c in categories if c.isthing}
        )
        self.semantic_labels = dict(
            semantic_labels if semantic_labels is not None else {c.id: i for i, c in enumerate(categories)}
        )
        if not self.thing_labels and not self.semantic_labels:
            raise TrainingError("The dataset has no categories to learn: add categories first.")
        self.augment = augment

    @classmethod
    def from_dataset(cls, dataset: Dataset, **kwargs) -> SegmentationSamples:
        """The annotated images of a Dataset, read from its ``image_root`` when used."""
        if dataset.image_root is None:
            raise TrainingError("The dataset has no image folder: load it with the folder of its images.")
        items = [(dataset.image_path(r), r.annotation) for r in dataset.images if r.annotation is not None]
        return cls(items, dataset.categories, **kwargs)

    def __len__(self) -> int:
        return len(self.items)

    def instance_categories(self) -> list[dict]:
        """The detector's classes as checkpoint categories ``{id: label, name, isthing}``."""
        return [{"id": label, "name": self.categories[cid].name, "isthing": True}
                for cid, label in sorted(self.thing_labels.items(), key=lambda item: item[1])]

    def semantic_categories(self) -> list[dict]:
        """The semantic model's classes as checkpoint categories ``{id: label, name, isthing}``."""
        return [{"id": label, "name": self.categories[cid].name, "isthing": self.categories[cid].isthing}
                for cid, label in sorted(self.semantic_labels.items(), key=lambda item: item[1])]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        source, annotation = self.items[index]
        image = read_image(source) if isinstance(source, Path) else source
        if image.shape[:2] != annotation.segment_map.shape:
            raise TrainingError(f"Image {source if isinstance(source, Path) else index} is "
                                f"{image.shape[1]}×{image.shape[0]} but its annotation is "
                                f"{annotation.width}×{annotation.height}: fix the dataset.")
        segment_map = annotation.segment_map
        if self.augment is not None:
            image, segment_map = augment(image, segment_map, self.augment)
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        return tensor, self.targets(segment_map, annotation)

    def targets(self, segment_map: np.ndarray, annotation: Annotation) -> dict[str, torch.Tensor]:
        """torchvision targets of one (possibly augmented) segment map whose ids are ``annotation``'s."""
        size = max(annotation.segments, default=0) + 1
        semantic_lut = np.full(size, IGNORE_INDEX, np.int64)
        for sid, segment in annotation.segments.items():
            semantic_lut[sid] = self.semantic_labels.get(segment.category_id, IGNORE_INDEX)
        ids = np.where(segment_map < size, segment_map, VOID)
        boxes, labels, masks = [], [], []
        for sid, slices in enumerate(ndimage.find_objects(ids), start=1):
            segment = annotation.segments.get(sid)
            if slices is None or segment is None or segment.iscrowd or segment.category_id not in self.thing_labels:
                continue
            mask = ids == sid
            if np.count_nonzero(mask[slices]) < MIN_INSTANCE_AREA:
                continue
            rows, cols = slices
            boxes.append([cols.start, rows.start, cols.stop, rows.stop])
            labels.append(self.thing_labels[segment.category_id])
            masks.append(mask)
        h, w = ids.shape
        return {
            "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.tensor(labels, dtype=torch.int64),
            "masks": torch.from_numpy(np.stack(masks) if masks else np.zeros((0, h, w), bool)).to(torch.uint8),
            "semantic": torch.from_numpy(semantic_lut[ids]),
        }


def augment(image: np.ndarray, segment_map: np.ndarray, params: Augment) -> tuple[np.ndarray, np.ndarray]:
    """Scale jitter, flip and crop/pad an image and its segment map alike (the map with nearest neighbour,
    padding with void)."""
    h, w = segment_map.shape
    lo, hi = params.scale
    factor = (params.size / min(h, w) if params.size else 1.0) * float(torch.empty(()).uniform_(lo, hi))
    new_h, new_w = max(1, round(h * factor)), max(1, round(w * factor))
    if (new_h, new_w) != (h, w):
        interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        segment_map = cv2.resize(segment_map.astype(np.float32), (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        segment_map = segment_map.astype(np.uint32)
    if float(torch.rand(())) < params.flip:
        image, segment_map = image[:, ::-1], segment_map[:, ::-1]
    out_h, out_w = (params.size, params.size) if params.size else (h, w)
    y0 = int(torch.randint(0, new_h - out_h + 1, ())) if new_h > out_h else 0
    x0 = int(torch.randint(0, new_w - out_w + 1, ())) if new_w > out_w else 0
    image, segment_map = image[y0 : y0 + out_h, x0 : x0 + out_w], segment_map[y0 : y0 + out_h, x0 : x0 + out_w]
    if image.shape[:2] != (out_h, out_w):
        pad = ((0, out_h - image.shape[0]), (0, out_w - image.shape[1]))
        image = np.pad(image, (*pad, (0, 0)))
        segment_map = np.pad(segment_map, pad, constant_values=VOID)
    return np.ascontiguousarray(image), np.ascontiguousarray(segment_map)


# ----------------------------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainProgress:
    """One training step, as passed to the ``log`` callback."""

    step: int
    steps: int
    loss: float
    losses: dict[str, float]
    lr: float
    seconds: float


@dataclass
class TrainResult:
    """What a training run did: steps, wall time, and the total loss of every step."""

    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps, 1)


@dataclass(frozen=True)
class TrainOptions:
    """How a training run goes: ``steps`` batches of ``batch_size`` through AdamW (``lr``,
    ``weight_decay``) with ``warmup`` steps of linear warmup (default: a tenth, at most 200) then a cosine
    decay; ``checkpoint`` saved every ``checkpoint_every`` steps and at the end; ``threads`` sets torch's
    CPU threads (None leaves them); BatchNorm statistics recomputed over ``bn_batches`` batches at the
    end (``recalibrate_batch_norm``)."""

    steps: int
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: int | None = None
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int | None = None
    device: str = "cpu"
    threads: int | None = 2
    bn_batches: int = 50


def warmup_cosine(step: int, steps: int, warmup: int, final: float = 0.01) -> float:
    """The learning-rate factor at ``step``: linear from 0.001 to 1 over ``warmup`` steps, then a cosine
    from 1 to ``final`` at ``steps``."""
    if step < warmup:
        return 0.001 + (1 - 0.001) * step / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))


def instance_loss(model: torch.nn.Module, device: str) -> Callable[[list], dict[str, torch.Tensor]]:
    """The loss dict of a torchvision detector (Mask R-CNN) on a batch of samples' things."""

    def loss_of(batch: list) -> dict[str, torch.Tensor]:
        images = [image.to(device) for image, _ in batch]
        targets = [{k: target[k].to(device) for k in ("boxes", "labels", "masks")} for _, target in batch]
        return model(images, targets)

    return loss_of


def semantic_loss(model: torch.nn.Module, device: str, aux_weight: float = 0.5) -> Callable[[list], dict[str, torch.Tensor]]:
    """Cross-entropy of a torchvision segmentation model (LR-ASPP, DeepLabV3, FCN) on a batch's semantic labels,
    images normalised like ``SemanticPredictor`` does at inference; an ``aux`` output adds ``aux_weight`` × its
    loss."""

    def loss_of(batch: list) -> dict[str, torch.Tensor]:
        images, labels = _pad_batch(batch)
        output = model(_normalised(images, device))
        labels = labels.to(device)
        losses = {"loss_ce": F.cross_entropy(output["out"].float(), labels, ignore_index=IGNORE_INDEX)}
        if "aux" in output:
            losses["loss_aux"] = aux_weight * F.cross_entropy(output["aux"].float(), labels, ignore_index=IGNORE_INDEX)
        return losses

    return loss_of


def train_instance_model(
    model: torch.nn.Module,
    samples: SegmentationSamples,
    options: TrainOptions,
    *,
    log: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train a torchvision Mask R-CNN (or any detector returning a loss dict) on ``samples``' things;
    checkpoints carry the detector's categories."""
    device = options.device

    def features_of(batch: list) -> None:
        model.backbone(model.transform([image.to(device) for image, _ in batch])[0].tensors)

    return _train(model, samples, instance_loss(model, device), features_of, samples.instance_categories(),
                  options, log)


def train_semantic_model(
    model: torch.nn.Module,
    samples: SegmentationSamples,
    options: TrainOptions,
    *,
    aux_weight: float = 0.5,
    log: Callable[[TrainProgress], None] | None = None,
) -> TrainResult:
    """Train a torchvision segmentation model (LR-ASPP, DeepLabV3, FCN) with ``semantic_loss`` on ``samples``'
    semantic labels."""
    device = options.device

    def features_of(batch: list) -> None:
        model(_normalised(_pad_batch(batch)[0], device))

    return _train(model, samples, semantic_loss(model, device, aux_weight), features_of,
                  samples.semantic_categories(), options, log)


def save_checkpoint(model: torch.nn.Module, categories: Iterable[Mapping], path: str | os.PathLike) -> Path:
    """Write ``{"model": state_dict, "categories": [...]}`` atomically (what ``load_checkpoint`` reads)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_open(path, "wb") as handle:
        torch.save({"model": state, "categories": [dict(c) for c in categories]}, handle)
    return Path(path)


def _normalised(images: torch.Tensor, device: str) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN, device=device)[:, None, None]
    std = torch.tensor(IMAGENET_STD, device=device)[:, None, None]
    return (images.to(device) - mean) / std


def _pad_batch(batch: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack images and semantic labels, padding smaller ones (bottom/right) with 0 and IGNORE_INDEX."""
    h = max(image.shape[1] for image, _ in batch)
    w = max(image.shape[2] for image, _ in batch)
    images = torch.zeros(len(batch), 3, h, w)
    labels = torch.full((len(batch), h, w), IGNORE_INDEX, dtype=torch.int64)
    for i, (image, target) in enumerate(batch):
        images[i, :, : image.shape[1], : image.shape[2]] = image
        labels[i, : image.shape[1], : image.shape[2]] = target["semantic"]
    return images, labels


class Trainer:
    """AdamW over a model's trainable parameters, one shuffled batch of ``samples`` per ``step`` (passes
    over the samples repeat). ``amp`` (CUDA only): the forward pass runs under ``torch.autocast`` in that
    dtype, float16 with a gradient scaler. ``frozen_norm`` keeps BatchNorm layers in eval mode, so that
    small batches do not overwrite the statistics a base model learned."""

    def __init__(
        self,
        model: torch.nn.Module,
        samples: torch.utils.data.Dataset,
        loss_of: Callable[[list], dict[str, torch.Tensor]],
        *,
        batch_size: int,
        lr: float,
        weight_decay: float = 1e-4,
        device: str = "cpu",
        amp: torch.dtype | None = None,
        frozen_norm: bool = False,
    ) -> None:
        self.model = model.to(device)
        self.samples, self.loss_of, self.batch_size, self.lr = samples, loss_of, batch_size, lr
        self.device, self.amp, self.frozen_norm = device, amp, frozen_norm
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=lr, weight_decay=weight_decay)
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp is torch.float16)
        self.steps = 0
        self._batches: Iterator[list] | None = None

    def step(self, lr_factor: float = 1.0) -> tuple[float, dict[str, float]]:
        """Train on the next batch with the learning rate × ``lr_factor``; the total loss and its parts."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * lr_factor
        self.train_mode()
        losses = self.losses(self._next_batch())
        loss = sum(losses.values())
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingError(f"The loss became {value} at step {self.steps + 1}: lower the learning rate.")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params, 10.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.steps += 1
        return value, {k: v.item() for k, v in losses.items()}

    def losses(self, batch: list) -> dict[str, torch.Tensor]:
        """The loss dict of one batch, under autocast when ``amp`` is set."""
        device_type = torch.device(self.device).type
        context = torch.autocast(device_type, dtype=self.amp) if self.amp is not None else contextlib.nullcontext()
        with context:
            return self.loss_of(batch)

    def try_batch(self, batch_size: int) -> None:
        """Forward and backward over one batch of ``batch_size`` without changing the weights (to find
        the largest batch that fits in the GPU's memory)."""
        self.train_mode()
        batch = [self.samples[i] for i in torch.randint(len(self.samples), (batch_size,)).tolist()]
        try:
            self.scaler.scale(sum(self.losses(batch).values())).backward()
        finally:
            self.optimizer.zero_grad(set_to_none=True)

    def train_mode(self) -> None:
        """The model in training mode (BatchNorm in eval mode with ``frozen_norm``)."""
        self.model.train()
        if self.frozen_norm:
            for module in self.model.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                    module.eval()

    def state_dict(self) -> dict:
        """The optimiser's (and gradient scaler's) state, for a checkpoint."""
        return {"optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore what ``state_dict`` gave."""
        self.optimizer.load_state_dict(state["optimizer"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        self.steps = int(state["steps"])

    def _next_batch(self) -> list:
        while True:
            if self._batches is None:
                self._batches = iter(DataLoader(self.samples, batch_size=self.batch_size, shuffle=True,
                                                collate_fn=list, drop_last=len(self.samples) >= self.batch_size))
            batch = next(self._batches, None)
            if batch is not None:
                return batch
            self._batches = None


def largest_batch_size(try_batch: Callable[[int], None], start: int, is_out_of_memory: Callable[[BaseException], bool],
                       after_failure: Callable[[], None] = lambda: None) -> int:
    """The largest of ``start``, ``start // 2``, ... down to 1 for which ``try_batch`` runs without running out
    of memory (``after_failure`` frees what a failed try left); other errors propagate."""
    size = max(1, start)
    while True:
        try:
            try_batch(size)
            return size
        except Exception as exc:
            if not is_out_of_memory(exc) or size == 1:
                raise
        after_failure()
        size //= 2


def _train(
    model: torch.nn.Module,
    samples: SegmentationSamples,
    loss_of: Callable[[list], dict[str, torch.Tensor]],
    features_of: Callable[[list], None],
    categories: list[dict],
    options: TrainOptions,
    log: Callable[[TrainProgress], None] | None,
) -> TrainResult:
    steps, batch_size, checkpoint = options.steps, options.batch_size, options.checkpoint
    if not categories:
        raise TrainingError("The dataset has no classes for this model: check the categories.")
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    warmup = min(200, steps // 10) if options.warmup is None else options.warmup
    trainer = Trainer(model, samples, loss_of, batch_size=batch_size, lr=options.lr,
                      weight_decay=options.weight_decay, device=options.device)
    result = TrainResult(0, 0.0)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        value, losses = trainer.step(warmup_cosine(step - 1, steps, warmup))
        result.steps, result.seconds = step, time.perf_counter() - start
        result.losses.append(value)
        if log is not None:
            log(TrainProgress(step, steps, value, losses, trainer.optimizer.param_groups[0]["lr"], result.seconds))
        every = options.checkpoint_every
        if checkpoint is not None and every and step % every == 0 and step < steps:
            save_checkpoint(model, categories, checkpoint)
    if options.bn_batches:
        sampler = RandomSampler(samples, num_samples=options.bn_batches * batch_size)
        recalibrate_batch_norm(model, DataLoader(samples, batch_size=batch_size, sampler=sampler, collate_fn=list),
                               features_of)
    model.eval()
    if checkpoint is not None:
        save_checkpoint(model, categories, checkpoint)
    return result


def recalibrate_batch_norm(model: torch.nn.Module, batches: Iterable, forward: Callable[[object], object]) -> None:
    """Replace every BatchNorm layer's running statistics by their exact average over ``batches``.

    The running averages kept during training lag behind weights that change fast (torchvision's
    MobileNetV3 uses momentum 0.01): without this a model trained from scratch is much worse in eval mode
    than in train mode.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: the exact mean over the batches seen
    model.train()
    with torch.no_grad():
        for batch in batches:
            forward(batch)
    for m, momentum in zip(norms, momenta, strict=True):
        m.momentum = momentum
    model.eval()
