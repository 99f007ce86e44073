"""A training run from a TrainingPlan to a new model card: the one code path of `segview train` and of the
window's training job (in the model process). See docs/adr/0013-training.md.

``prepare`` loads and checks the data, splits it, builds the model(s) from the base card with class-head
surgery and restores the last checkpoint on resume; ``run`` trains for a slice of time or to the end of the
budget; ``save_checkpoint`` keeps what a cancel keeps; ``finish`` evaluates base and new model on the
validation images and writes the weights and the card(s).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset
from segview.core.wording import count
from segview.errors import WriteError
from segview.inference.cards import (
    ModelCard,
    get_card,
    load_card,
    resolve_categories,
    user_models_dir,
    weight_cards,
)
from segview.inference.device import choose_device, is_out_of_memory
from segview.inference.pipeline import build_model, load_model
from segview.inference.user_cards import check_new_name, write_trained_card, write_trained_pair
from segview.inference.weights import ensure_weights, find_weights, load_checkpoint, remote_weights
from segview.io.atomic import atomic_open
from segview.train.data import load_training_data
from segview.train.demo import DEMO_FUSION
from segview.train.evaluate import EvalResult, EvaluationError, evaluate_dataset
from segview.train.finetune import (
    Augment,
    SegmentationSamples,
    Trainer,
    instance_loss,
    largest_batch_size,
    save_checkpoint,
    semantic_loss,
    warmup_cosine,
)
from segview.train.heads import label_pairs, transplant
from segview.train.plan import (
    OutcomeRow,
    TrainingError,
    TrainingOutcome,
    TrainingPlan,
    TrainingProgress,
    TrainingSetup,
    check_trainable,
    split_images,
    trainable_builder,
)

LEARNING_RATES = {"instance": 5e-4, "semantic": 1e-3}
WARMUP = 0.05
"""Share of the budget over which the learning rate warms up (then a cosine decay)."""
CPU_BATCH = 2
CUDA_FIRST_BATCH = 16
CHECKPOINT_EVERY = 50
MAX_LABEL_ID = 999
"""Thing category ids up to this are a detector's labels as they are; above it, labels are 1..K."""
CHECKPOINT_FORMAT = 1


@dataclass
class _Member:
    """One model being trained (a pair has two): its base member card, the new model, its classes."""

    task: str
    base: ModelCard
    model: torch.nn.Module
    categories: list[dict]
    num_classes: int
    trainer: Trainer


class TrainingSession:
    """Train the plan's base model on the plan's data: ``prepare``, ``run`` (repeatedly), ``finish``."""

    def __init__(self, plan: TrainingPlan, log: Callable[[str], None] | None = None) -> None:
        self.plan = plan
        self.log = log or (lambda _line: None)
        self.progress = TrainingProgress(total_steps=plan.steps)
        self.setup: TrainingSetup | None = None
        self.base: ModelCard | None = None
        self.dataset: Dataset | None = None
        self.device = "cpu"
        self._members: list[_Member] = []
        self._saved_step = -1
        self._steps_run = 0  # steps and seconds of training in this session: its speed (not a slice's)
        self._seconds_run = 0.0

    # --- preparing ------------------------------------------------------------------------------------

    def prepare(self) -> TrainingSetup:
        """Load and check the data, split it, build the model(s) with class-head surgery, choose the batch
        size, and restore the checkpoint when the plan resumes. Refusals come before any training."""
        plan = self.plan
        base = self.base = _base_card(plan.base)
        dataset = self.dataset = load_training_data(plan.source)
        if plan.images:
            _keep_images(dataset, plan.images)
        check_trainable(dataset, base.task)
        used = _used_categories(dataset)
        tasks = _tasks(base, used)
        for name in self._card_names(tasks):
            check_new_name(name, base)
        train_files, val_files = split_images([r.file_name for r in dataset.images], plan.val_fraction)
        self.device = choose_device(plan.device).device
        amp = _amp_dtype(self.device)
        train = [r for r in dataset.images if r.file_name in set(train_files)]
        torch.manual_seed(0)
        members = dict(zip(("instance", "semantic"), weight_cards(base), strict=True)) if base.task == "panoptic" \
            else {base.task: base}
        self._members = [self._member(task, members[task], dataset, train, used, amp) for task in tasks]
        batch_size = self._batch_size(len(train))
        for member in self._members:
            member.trainer.batch_size = batch_size
        start = self._restore(train_files) if plan.resume else 0
        if not plan.resume and self.checkpoint_path().is_file():
            self.log(f"Starting afresh: the checkpoint of an earlier run, {self.checkpoint_path()}, will be replaced "
                     "(resume to continue it instead)")
        self.setup = TrainingSetup(
            tuple(train_files), tuple(val_files), tuple((c.name, c.isthing) for c in used), tasks, plan.steps,
            plan.minutes, self.device, batch_size, start)
        self.log(f"Training {' and '.join(tasks)} model{'s' * (len(tasks) > 1)} from {base.name} on "
                 f"{count(len(train_files), 'image')} ({len(val_files)} kept for validation), "
                 f"{count(len(used), 'class', 'classes')}, "
                 f"batch {batch_size}, on {self.device}" + (f", from step {start}" if start else ""))
        return self.setup

    def _member(self, task: str, card: ModelCard, dataset: Dataset, train: list, used: CategorySet,
                amp: torch.dtype | None) -> _Member:
        checkpoint = load_checkpoint(_base_weights(card))
        if task == "instance":
            things = [c for c in used if c.isthing]
            contiguous = max(c.id for c in things) > MAX_LABEL_ID
            labels = {c.id: (i + 1 if contiguous else c.id) for i, c in enumerate(things)}
            categories = [{"id": labels[c.id], "name": c.name, "isthing": True} for c in things]
            num_classes = max(labels.values()) + 1
            samples_labels: dict = {"thing_labels": labels, "semantic_labels": {}}
            size = card.input.min_size if card.input else None
        else:
            labels = {c.id: i for i, c in enumerate(used)}
            categories = [{"id": labels[c.id], "name": c.name, "isthing": c.isthing} for c in used]
            num_classes = len(labels)
            samples_labels = {"thing_labels": {}, "semantic_labels": labels}
            size = card.input.resize if card.input else None
        model = build_model(dataclasses.replace(card, builder_kwargs={**card.builder_kwargs, "num_classes": num_classes}),
                            checkpoint.state_dict)
        base_names = {c.id: c.name for c in resolve_categories(card)}
        pairs = label_pairs({c["id"]: c["name"] for c in categories}, base_names, background=task == "instance")
        surgery = transplant(checkpoint.state_dict, model, num_classes, pairs)
        kept = sorted(c["name"] for c in categories if c["id"] in surgery.kept)
        self.log(f"{task} model: {len(kept)} of {len(categories)} classes keep the base's weights"
                 + (f" ({', '.join(kept)})" if kept else ""))
        samples = SegmentationSamples.from_dataset(Dataset(dataset.categories, train, dataset.image_root),
                                                   augment=Augment(size=size), **samples_labels)
        loss_of = instance_loss(model, self.device) if task == "instance" else semantic_loss(model, self.device)
        trainer = Trainer(model, samples, loss_of, batch_size=CPU_BATCH, lr=LEARNING_RATES[task], device=self.device,
                          amp=amp, frozen_norm=True)
        return _Member(task, card, model, categories, num_classes, trainer)

    def _batch_size(self, train_images: int) -> int:
        if self.plan.batch_size is not None:
            return min(self.plan.batch_size, train_images)
        if not self.device.startswith("cuda"):
            return min(CPU_BATCH, train_images)

        def try_batch(size: int) -> None:
            for member in self._members:
                member.trainer.try_batch(size)

        size = largest_batch_size(try_batch, min(CUDA_FIRST_BATCH, train_images), is_out_of_memory,
                                  torch.cuda.empty_cache)
        self.log(f"batch {size}: the largest that fits on {self.device} (tried from {CUDA_FIRST_BATCH}, halving)")
        return size

    def _card_names(self, tasks: tuple[str, ...]) -> list[str]:
        if len(tasks) == 1:
            return [self.plan.name]
        return [self.plan.name, f"{self.plan.name}_instance", f"{self.plan.name}_semantic"]

    # --- training -------------------------------------------------------------------------------------

    def run(self, seconds: float | None = None) -> TrainingProgress:
        """Train until ``seconds`` have passed (one slice; callable again to go on) or, with None, until the
        budget is spent; a checkpoint is saved every CHECKPOINT_EVERY steps and when the budget is spent.
        Speed and time left come from every step of this session so far, not from the slice alone."""
        if self.setup is None:
            raise TrainingError("Prepare the training session before running it.")
        progress = self.progress
        slice_start = last = time.perf_counter()
        while not self._spent() and (seconds is None or time.perf_counter() - slice_start < seconds):
            factor = warmup_cosine(round(1000 * self._fraction()), 1000, round(1000 * WARMUP))
            try:
                loss = sum(member.trainer.step(factor)[0] for member in self._members)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                self.save_checkpoint()
                raise TrainingError(f"{self.device} ran out of memory at batch {self.setup.batch_size}: resume with a "
                                    f"smaller batch size (such as {max(1, self.setup.batch_size // 2)}).") from exc
            progress.step += 1
            progress.losses.append((progress.step, loss))
            if progress.step % CHECKPOINT_EVERY == 0:
                self.save_checkpoint()
            now = time.perf_counter()
            progress.elapsed_s += now - last
            self._seconds_run += now - last
            self._steps_run += 1
            last = now
            seconds_per_step = self._seconds_run / self._steps_run
            progress.images_per_s = self.setup.batch_size / seconds_per_step
            self._estimate(seconds_per_step)
        progress.done = self._spent()
        if progress.done and self._saved_step != progress.step:
            self.save_checkpoint()
        return progress

    def _fraction(self) -> float:
        if self.plan.steps is not None:
            return min(1.0, self.progress.step / self.plan.steps)
        return min(1.0, self.progress.elapsed_s / (60 * self.plan.minutes))

    def _spent(self) -> bool:
        return self._fraction() >= 1.0

    def _estimate(self, seconds_per_step: float) -> None:
        progress = self.progress
        if self.plan.steps is not None:
            progress.eta_s = (self.plan.steps - progress.step) * seconds_per_step
        else:
            progress.eta_s = max(0.0, 60 * self.plan.minutes - progress.elapsed_s)
            progress.total_steps = progress.step + round(progress.eta_s / seconds_per_step)

    # --- checkpoints ----------------------------------------------------------------------------------

    def checkpoint_path(self) -> Path:
        """Where this run's checkpoint goes: ``<user models>/training/NAME.pt``."""
        return user_models_dir() / "training" / f"{self.plan.name}.pt"

    def save_checkpoint(self) -> Path:
        """Write the model(s), optimiser state, step, time spent and loss curve atomically (what a cancel
        keeps and ``resume`` restores; ``torch.load(weights_only=True)`` reads it)."""
        if self.setup is None:
            raise TrainingError("Nothing to save: the training session was not prepared.")
        state = {
            "format": CHECKPOINT_FORMAT,
            "base": self.base.name,
            "train_files": list(self.setup.train_files),
            "step": self.progress.step,
            "elapsed_s": self.progress.elapsed_s,
            "losses": [[step, loss] for step, loss in self.progress.losses],
            "members": {m.task: {"model": _cpu_state(m.model), "trainer": m.trainer.state_dict()}
                        for m in self._members},
        }
        path = self.checkpoint_path()
        _save(state, path)
        self._saved_step = self.progress.step
        return path

    def _restore(self, train_files: list[str]) -> int:
        path = self.checkpoint_path()
        if not path.is_file():
            raise TrainingError(f"There is no checkpoint of {self.plan.name!r} to resume ({path}): start without "
                                "resume.")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("format") != CHECKPOINT_FORMAT or state["base"] != self.base.name:
            raise TrainingError(f"The checkpoint {path} was trained from {state.get('base')!r}, not from "
                                f"{self.base.name!r}: resume with that base, or start without resume.")
        if state["train_files"] != train_files or set(state["members"]) != {m.task for m in self._members}:
            raise TrainingError(f"The checkpoint {path} was trained on other images or classes: start without "
                                "resume (or give the same data).")
        for member in self._members:
            member.model.load_state_dict(state["members"][member.task]["model"])
            member.trainer.load_state_dict(state["members"][member.task]["trainer"])
        self.progress.step = self._saved_step = int(state["step"])
        self.progress.elapsed_s = float(state["elapsed_s"])
        self.progress.losses = [(int(step), float(loss)) for step, loss in state["losses"]]
        return self.progress.step

    # --- finishing ------------------------------------------------------------------------------------

    def finish(self) -> TrainingOutcome:
        """Write the weights and the card(s) of the new model, evaluate base and new model on the validation
        images, and write the card(s) again with those figures and how the model was made."""
        if self.setup is None or self.progress.step == 0:
            raise TrainingError("Nothing trained yet: run the training first.")
        setup = self.setup
        for name in self._card_names(setup.models):
            check_new_name(name, self.base)
        for member in self._members:
            member.model.eval()
            weights = user_models_dir() / f"{self._member_name(member)}.pt"
            _require_space(weights.parent, member.model)
            _write(lambda m=member, w=weights: save_checkpoint(m.model, m.categories, w))
        card = self._write_cards(self._how_made(None))
        self.log(f"Evaluating {self.base.name} and {card.name} on {len(setup.val_files)} validation images")
        val = Dataset(self.dataset.categories, [r for r in self.dataset.images if r.file_name in set(setup.val_files)],
                      self.dataset.image_root)
        results = {"base": self._evaluate_base(val), "new": _evaluate(card, val, self.device)}
        rows = _rows(results, _used_categories(val) or _used_categories(self.dataset))
        outcome = TrainingOutcome(card.name, str(card.path), rows, setup.train_files, setup.val_files,
                                  self.progress.step, self.progress.elapsed_s / 60, self.device)
        self._write_cards(self._how_made(outcome))
        return outcome

    def _evaluate_base(self, val: Dataset) -> EvalResult | None:
        try:
            return _evaluate(self.base, val, self.device)
        except EvaluationError:
            self.log(f"{self.base.name} knows none of these classes: the table has no figures for it")
            return None

    def _member_name(self, member: _Member) -> str:
        return self.plan.name if len(self._members) == 1 else f"{self.plan.name}_{member.task}"

    def _write_cards(self, description: str) -> ModelCard:
        hint = (f"Trained by segview on {len(self.setup.train_files)} images of {Path(self.plan.source).name}: "
                f"{', '.join(name for name, _ in self.setup.classes)}.")
        cards = [_write(lambda m=member: write_trained_card(
            self._member_name(m), m.base, user_models_dir() / f"{self._member_name(m)}.pt", m.categories,
            m.num_classes, description=description, hint=hint)) for member in self._members]
        if len(cards) == 1:
            return cards[0]
        return _write(lambda: write_trained_pair(self.plan.name, self.base, cards[0], cards[1],
                                                 description=description, hint=hint))

    def _how_made(self, outcome: TrainingOutcome | None) -> str:
        setup = self.setup
        classes = ", ".join(f"{name} ({'thing' if isthing else 'stuff'})" for name, isthing in setup.classes)
        budget = f"{self.plan.steps} steps" if self.plan.steps is not None else f"{self.plan.minutes:g} minutes"
        text = (f"Trained by segview (`segview train`, segview.train.session) from `{self.base.name}` on "
                f"{len(setup.train_files)} annotated images of `{self.plan.source}` ({len(setup.val_files)} more "
                f"kept for validation): {self.progress.step} steps of {setup.batch_size} images (budget {budget}), "
                f"{self.progress.elapsed_s / 60:.1f} min on {setup.device}; AdamW with warmup and cosine decay, "
                f"BatchNorm statistics kept from the base. Classes: {classes}.\n\n"
                f"Validation images: {', '.join(setup.val_files)}.\n")
        if outcome is None:
            return text + "\nNot evaluated yet.\n"
        return text + f"\n**Base vs this model** on the validation images (percent):\n\n```\n{outcome.table()}\n```\n"


# --- helpers --------------------------------------------------------------------------------------------


def _base_card(base: str) -> ModelCard:
    card = load_card(base) if base.endswith(".toml") else get_card(base)
    untrainable = [m.name for m in weight_cards(card) if not trainable_builder(m.builder)]
    if untrainable:
        raise TrainingError(f"segview cannot train {untrainable[0]!r} (its architecture has no class layers it knows): "
                            "choose a Mask R-CNN, DeepLabV3, FCN or LR-ASPP base model, or a pair of them.")
    return card


def _base_weights(card: ModelCard) -> Path:
    """The base's weights file; weights not downloaded yet are refused saying how to get them (a training
    run takes no weights path)."""
    if find_weights(card) is None and remote_weights(card) is not None:
        raise TrainingError(f"The weights of the base model {card.name!r} are not downloaded yet: run `segview models "
                            f"download {card.name}` (or choose {card.name} in the window's model list, which offers "
                            "the download), then train again.")
    return ensure_weights(card)


def _keep_images(dataset: Dataset, names: tuple[str, ...]) -> None:
    """Keep only the named annotated images (the window's choice); an unknown name is refused."""
    known = {r.file_name for r in dataset.images}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise TrainingError(f"{unknown[0]!r} is not an annotated image of the dataset: choose among its "
                            f"{len(known)} annotated images.")
    dataset.images = [r for r in dataset.images if r.file_name in set(names)]


def _used_categories(dataset: Dataset) -> CategorySet:
    """The dataset's categories that its annotations use, in the dataset's order."""
    used = {s.category_id for r in dataset.images if r.annotation is not None for s in r.annotation.segments.values()}
    return CategorySet(Category(c.id, c.name, c.isthing, c.color, c.supercategory) for c in dataset.categories
                       if c.id in used)


def _tasks(base: ModelCard, used: CategorySet) -> tuple[str, ...]:
    if base.task != "panoptic":
        return (base.task,)
    things, stuff = any(c.isthing for c in used), any(not c.isthing for c in used)
    return ("instance", "semantic") if things and stuff else ("instance",) if things else ("semantic",)


def _amp_dtype(device: str) -> torch.dtype | None:
    if not device.startswith("cuda"):
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _cpu_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _save(state: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _require_space(path.parent, None, state)
    _write(lambda: _torch_save(state, path))


def _torch_save(state: dict, path: Path) -> None:
    with atomic_open(path, "wb") as handle:
        torch.save(state, handle)


def _require_space(folder: Path, model: torch.nn.Module | None, state: dict | None = None) -> None:
    """A clear refusal when the disk cannot hold what is about to be written (tensor bytes + 10 %)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = list(model.state_dict().values()) if model is not None else list(_tensors(state))
    needed = int(1.1 * sum(t.numel() * t.element_size() for t in tensors)) + (1 << 20)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise TrainingError(f"The disk is full: saving the model in {folder} needs {needed / 2**20:.0f} MB and "
                            f"{free / 2**20:.0f} MB are free. Free some space and resume (nothing was changed).")


def _tensors(value: object):
    if torch.is_tensor(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)


def _write(write: Callable[[], object]):
    """Run a write; the disk filling up meanwhile (torch reports it as a RuntimeError) is a TrainingError."""
    try:
        return write()
    except WriteError as exc:
        raise TrainingError(str(exc)) from exc
    except RuntimeError as exc:
        if "write" not in str(exc).lower():
            raise
        raise TrainingError(f"Could not write the model: {exc}. The disk may be full: free some space and "
                            "resume (nothing half-written was kept).") from exc


def _evaluate(card: ModelCard, dataset: Dataset, device: str) -> EvalResult:
    return evaluate_dataset(load_model(card, device=device), dataset, DEMO_FUSION)


def _rows(results: dict[str, EvalResult | None], classes: CategorySet) -> tuple[OutcomeRow, ...]:
    """Overall mask AP, mIoU and PQ, then per class mask AP (things), IoU and PQ, base vs new."""
    base, new = results["base"], results["new"]
    rows = [OutcomeRow(metric, "all", getattr(base, key), getattr(new, key))
            for metric, key in (("mask AP", "mask_ap"), ("mIoU", "miou"), ("PQ", "pq"))]
    base_classes = {c.category_id: c for c in base.per_class}
    new_classes = {c.category_id: c for c in new.per_class}
    for category in classes:
        before, after = base_classes.get(category.id), new_classes.get(category.id)
        for metric, key in (("mask AP", "ap"), ("IoU", "iou"), ("PQ", "pq")):
            if metric == "mask AP" and not category.isthing:
                continue
            rows.append(OutcomeRow(metric, category.name, getattr(before, key, None), getattr(after, key, None)))
    return tuple(row for row in rows if row.base is not None or row.new is not None)
