"""What a training run is asked to do and what it reports, without torch (the window imports this).

``TrainingPlan`` says what to train (a dataset or project folder, a base card, the new card's name, a
budget, a device); ``split_images`` splits the images deterministically into training and validation
parts; ``check_trainable`` refuses, before any work, a dataset that cannot train a model of a task;
``TrainingSetup``, ``TrainingProgress`` and ``TrainingOutcome`` are the plain, picklable records a
``segview.train.session.TrainingSession`` gives back (they cross the model process's pipe as they are).
See docs/adr/0013-training.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from segview.core.dataset import Dataset
from segview.errors import SegviewError

TRAINABLE_BUILDERS = ("maskrcnn_", "deeplabv3_", "fcn_", "lraspp_")
"""Builder function names (torchvision's and segview.inference.architectures') whose class layers
segview.train.heads knows: the architectures a base model may have."""
DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class TrainingError(SegviewError):
    """Training cannot start or go on: too few images, no classes to learn, a base that cannot train, ..."""


@dataclass(frozen=True)
class TrainingPlan:
    """A training run: ``source`` (anything ``segview validate`` reads, or a segview project folder, whose
    corrected images are used), the ``base`` card (name or TOML path) to start from, the new card's
    ``name``, a budget of ``steps`` or ``minutes`` (steps win when both are given), the ``device``
    (auto, cpu, cuda, cuda:N, mps), the share of images kept for validation, the batch size (None: 2 on
    the CPU, the largest that fits on CUDA), whether to continue from the last checkpoint, and the
    ``images`` to use (their file names in the dataset or project; empty: every annotated image)."""

    source: str
    base: str
    name: str
    steps: int | None = None
    minutes: float | None = None
    device: str = "auto"
    val_fraction: float = 0.2
    batch_size: int | None = None
    resume: bool = False
    images: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.steps is None and self.minutes is None:
            raise TrainingError("Give a training budget: a number of steps or of minutes.")
        if self.steps is not None and self.steps < 1:
            raise TrainingError(f"The number of steps is {self.steps}: give at least 1.")
        if self.minutes is not None and not self.minutes > 0:
            raise TrainingError(f"The number of minutes is {self.minutes}: give more than 0.")
        if not 0 < self.val_fraction < 1:
            raise TrainingError(f"The validation share is {self.val_fraction}: give a fraction between 0 and 1, "
                                "such as 0.2.")
        if self.batch_size is not None and self.batch_size < 1:
            raise TrainingError(f"The batch size is {self.batch_size}: give at least 1.")
        if not DEVICE_RE.match(self.device):
            raise TrainingError(f"Unknown device {self.device!r}: use auto, cpu, cuda, cuda:N or mps.")


def trainable_builder(builder: str | None) -> bool:
    """Whether a single-model card's builder (such as ``torchvision.models.detection.maskrcnn_resnet50_fpn``)
    builds an architecture segview can train."""
    return (builder or "").rsplit(".", 1)[-1].startswith(TRAINABLE_BUILDERS)


def next_model_name(project_name: str, existing: Iterable[str]) -> str:
    """``<project>-v1``, or the first ``-vN`` not in ``existing``; the project name is made a valid card
    name (letters, digits, '_', '-', '.')."""
    stem = _NAME_CHARS.sub("-", project_name).strip("-.") or "model"
    if not stem[0].isalnum():
        stem = f"m{stem}"
    taken = set(existing)
    version = 1
    while f"{stem}-v{version}" in taken:
        version += 1
    return f"{stem}-v{version}"


def split_images(file_names: Sequence[str], val_fraction: float) -> tuple[list[str], list[str]]:
    """Split file names into (train, validation), each sorted. An image goes to validation when the
    sha256 of its name, read as a fraction of 1, is below ``val_fraction``: the same image always lands
    on the same side, whatever the other images. With 2 images or more each side gets at least one."""
    names = sorted(set(file_names))
    position = {name: int.from_bytes(hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()[:8], "big")
                / 2**64 for name in names}
    val = [n for n in names if position[n] < val_fraction]
    train = [n for n in names if position[n] >= val_fraction]
    if len(names) >= 2 and not val:
        val = [min(train, key=position.__getitem__)]
        train.remove(val[0])
    elif len(names) >= 2 and not train:
        train = [max(val, key=position.__getitem__)]
        val.remove(train[0])
    return train, val


def check_trainable(dataset: Dataset, task: str) -> None:
    """Refuse, with what to do, a dataset that cannot train a model of ``task`` (the base card's task:
    instance, semantic or panoptic): fewer than 2 annotated images, no image folder, missing image files,
    nothing annotated, no thing instance for an instance model, one class only for a semantic model."""
    annotated = [r for r in dataset.images if r.annotation is not None]
    if len(annotated) < 2:
        raise TrainingError(f"Training needs at least 2 annotated images, and the dataset has {len(annotated)}: "
                            "correct or annotate more images first.")
    if dataset.image_root is None:
        raise TrainingError("The dataset has no image folder: give the folder of its images.")
    missing = [r.file_name for r in annotated if not dataset.image_path(r).is_file()]
    if missing:
        raise TrainingError(f"{len(missing)} annotated image(s) are missing from {dataset.image_root}, such as "
                            f"{missing[0]!r}: put them back or remove their annotations.")
    used: set[int] = set()
    things = 0
    for record in annotated:
        for segment in record.annotation.segments.values():
            if segment.category_id in dataset.categories:
                used.add(segment.category_id)
                things += not segment.iscrowd and dataset.categories.is_thing(segment.category_id)
    if not used:
        raise TrainingError("The annotated images hold no segment of a known class: annotate some objects or "
                            "regions first.")
    if task == "instance" and not things:
        raise TrainingError("An instance model learns things, and the annotations hold no thing instance: mark "
                            "the object classes as things, or choose a semantic base model.")
    if task == "semantic" and len(used) < 2:
        name = dataset.categories[next(iter(used))].name
        raise TrainingError(f"The annotations use one class only ({name!r}): a semantic model needs at least "
                            "2 classes to tell apart. Annotate another class (such as the background).")
    if task == "panoptic" and not things and len(used) < 2:
        name = dataset.categories[next(iter(used))].name
        raise TrainingError(f"The annotations use one stuff class only ({name!r}): annotate things or another "
                            "class first.")


@dataclass(frozen=True)
class TrainingSetup:
    """What ``TrainingSession.prepare`` found: the split, the classes (name, isthing) the new model
    learns, the models trained (``instance``, ``semantic``), the budget, the device and batch size, and
    the step a resumed run starts from."""

    train_files: tuple[str, ...]
    val_files: tuple[str, ...]
    classes: tuple[tuple[str, bool], ...]
    models: tuple[str, ...]
    total_steps: int | None
    minutes: float | None
    device: str
    batch_size: int
    start_step: int = 0


@dataclass
class TrainingProgress:
    """Where a training run is: steps done of ``total_steps`` (None while a minutes budget has not given
    an estimate), the loss of every step, speed (images/s over this session's steps so far: images seen /
    time spent), time left and spent, and whether the budget is spent."""

    step: int = 0
    total_steps: int | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    images_per_s: float = 0.0
    eta_s: float | None = None
    elapsed_s: float = 0.0
    done: bool = False


@dataclass(frozen=True)
class OutcomeRow:
    """One line of the before/after table: a metric (``mask AP``, ``IoU``, ``PQ``) of one class (``all``
    for the overall figure), for the base and the new model (None where a model cannot give it)."""

    metric: str
    class_name: str
    base: float | None
    new: float | None


@dataclass(frozen=True)
class TrainingOutcome:
    """A finished run: the card written, the before/after rows on the validation images, the split, steps,
    minutes and device."""

    card_name: str
    card_path: str
    rows: tuple[OutcomeRow, ...]
    train_files: tuple[str, ...]
    val_files: tuple[str, ...]
    steps: int
    minutes: float
    device: str

    def drops(self) -> list[str]:
        """The overall figures (class ``all``) where the new model scores below its base, as shown in the
        table (``"mIoU 50.0 → 48.8"``); empty when it is not worse on any of them."""
        return [f"{row.metric} {_pct(row.base)} → {_pct(row.new)}" for row in self.rows
                if row.class_name == "all" and row.base is not None and row.new is not None
                and round(100 * row.new, 1) < round(100 * row.base, 1)]

    def table(self) -> str:
        """The before/after table as aligned text (percentages; '-' where a model gives no figure)."""
        header = ("metric", "class", "base", "new", "change")
        lines = [header]
        for row in self.rows:
            change = _pct(row.new - row.base, signed=True) if row.new is not None and row.base is not None else "-"
            lines.append((row.metric, row.class_name, _pct(row.base), _pct(row.new), change))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        return "\n".join("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in
                                   enumerate(zip(line, widths, strict=True))).rstrip() for line in lines)


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"
