"""The bundled demo model: trained from scratch on generated scenes (``segview.train.scenes``), so that
segview works offline out of the box.

``train_demo`` generates training scenes, trains a semantic model (LR-ASPP MobileNetV3-Large, 8 classes:
label = category id − 1) and an instance model (``maskrcnn_mobilenet_v3_lite_fpn``, labels = the thing ids
1-4), one after the other, saves ``demo_semantic.pt`` and ``demo_instance.pt``, evaluates the panoptic
pair on held-out scenes and writes the cards ``demo_instance.toml``, ``demo_semantic.toml`` and
``demo_panoptic.toml`` with the weights' sha256 and the figures measured. Every card's categories map to
``DEMO_CATEGORIES`` ids: the semantic card's labels shift by one (``category_space``), the pair maps the
semantic class names onto the things 1-4 and the stuff 5-8.

Command line (``segview/cli/training.py``):

``segview train-demo [--out DIR] [--semantic-steps N] [--instance-steps N] [--size PX] [--train-scenes N]
[--seed N] [--semantic-batch-size N] [--instance-batch-size N] [--bn-batches N] [--eval-images N] [--threads N]
[--device cpu|cuda]``
    → ``train_demo(out_dir=DIR or bundled_models_dir(), ...)``; prints the progress every 20 steps (``log``),
    the held-out ``result.evaluation.summary()`` and ``table()``, then the card paths.

``segview eval MODEL [--seeds A:B | --coco FILE [--images DIR]] [--size PX] [--score-threshold F]
[--overlap-threshold F] [--stuff-area-limit PX] [--device auto]``
    → ``evaluate(load_model(MODEL, device=...), range(A, B), PX, PX, FusionParams(...))`` on generated
    scenes (default seeds ``EVAL_SEEDS``, size ``DEMO_SIZE``, fusion ``DEMO_FUSION``), or
    ``evaluate_dataset(model, load_coco(FILE, DIR)[0], FusionParams(...))``; MODEL is a card name or a card
    TOML file; prints ``summary()``, one line each for AP, mIoU and PQ, and ``table()``.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import tomli_w
import torch

from segview.bundled import is_installed
from segview.core.fusion import FusionParams
from segview.inference.cards import ModelCard, bundled_models_dir, load_card, user_models_dir
from segview.inference.weights import sha256_of
from segview.io.atomic import atomic_write_text
from segview.train.evaluate import EvalResult, evaluate
from segview.train.finetune import (
    Augment,
    SegmentationSamples,
    TrainOptions,
    TrainProgress,
    TrainResult,
    train_instance_model,
    train_semantic_model,
)
from segview.train.scenes import DEMO_CATEGORIES, generate_scene

INSTANCE, SEMANTIC, PANOPTIC = "demo_instance", "demo_semantic", "demo_panoptic"
DEMO_HINT = ("Knows only segview's generated scenes, not photos: for real images choose a COCO model (downloaded "
             "once) or train one on your corrections.")  # shown under the model's name in the window
INSTANCE_BUILDER = "segview.inference.architectures.maskrcnn_mobilenet_v3_lite_fpn"
SEMANTIC_BUILDER = "torchvision.models.segmentation.lraspp_mobilenet_v3_large"
DEMO_SIZE = 256
EVAL_SEEDS = range(1_000_000, 1_000_100)
"""Held-out scenes; training seeds are ``seed .. seed + train_scenes - 1`` and must stay below them."""
DEMO_FUSION = FusionParams(score_threshold=0.5, overlap_threshold=0.5, stuff_area_limit=128)
"""Fusion for 256-pixel scenes (Detectron2's stuff limit of 4096 pixels is for 800-pixel images)."""
SEMANTIC_LABELS = {c.id: c.id - 1 for c in DEMO_CATEGORIES}
LICENCE = ("BSD-3-Clause, like segview: trained by segview from scratch on procedurally generated scenes "
           "(segview.train.scenes); no external data and no pretrained weights were used.")


def instance_kwargs() -> dict:
    """Builder kwargs of the demo instance model: 4 things + background; few proposals and sampled RoIs
    per image, since a scene has at most 8 things (this makes CPU training steps fast)."""
    return {
        "num_classes": 5,
        "fpn_channels": 64,
        "rpn_pre_nms_top_n_train": 600,
        "rpn_post_nms_top_n_train": 300,
        "rpn_pre_nms_top_n_test": 300,
        "rpn_post_nms_top_n_test": 100,
        "rpn_batch_size_per_image": 128,
        "box_batch_size_per_image": 128,
        "box_detections_per_img": 50,
    }


def semantic_kwargs() -> dict:
    return {"num_classes": len(SEMANTIC_LABELS)}


@dataclass
class DemoResult:
    """The two training runs, the evaluation of the pair on held-out scenes, and the cards written."""

    semantic: TrainResult
    instance: TrainResult
    evaluation: EvalResult
    cards: list[Path]


def default_demo_dir() -> Path:
    """Where ``train_demo`` writes by default: the checkout's ``models/``, else the user's models folder."""
    return user_models_dir() if is_installed() else bundled_models_dir()


def train_demo(
    out_dir: str | Path | None = None,
    *,
    semantic_steps: int = 1200,
    instance_steps: int = 3000,
    size: int = DEMO_SIZE,
    train_scenes: int = 2000,
    seed: int = 0,
    semantic_batch_size: int = 8,
    instance_batch_size: int = 4,
    semantic_lr: float = 3e-3,
    instance_lr: float = 1e-3,
    eval_images: int = len(EVAL_SEEDS),
    bn_batches: int = 50,
    threads: int | None = 2,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Train both demo models from scratch, save their weights and cards in ``out_dir`` (default: the
    checkout's ``models/``; in an installed segview, whose package folder is no place to write, the user's
    models folder), and evaluate the panoptic pair on ``eval_images`` held-out scenes."""
    out = Path(out_dir) if out_dir is not None else default_demo_dir()
    if seed + train_scenes > EVAL_SEEDS.start or eval_images > len(EVAL_SEEDS):
        raise ValueError(f"training seeds must stay below {EVAL_SEEDS.start} and eval_images at most "
                         f"{len(EVAL_SEEDS)}")
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    from segview.inference.architectures import maskrcnn_mobilenet_v3_lite_fpn

    torch.manual_seed(seed)
    start = time.perf_counter()
    scenes = [generate_scene(s, size, size) for s in range(seed, seed + train_scenes)]
    log(f"generated {train_scenes} scenes of {size}×{size} in {time.perf_counter() - start:.0f} s")
    samples = SegmentationSamples(scenes, DEMO_CATEGORIES, semantic_labels=SEMANTIC_LABELS,
                                  augment=Augment(size=size))
    common = dict(checkpoint_every=200, device=device, threads=threads, bn_batches=bn_batches)

    semantic_model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, **semantic_kwargs())
    semantic = train_semantic_model(semantic_model, samples, TrainOptions(
        semantic_steps, semantic_batch_size, semantic_lr, checkpoint=out / f"{SEMANTIC}.pt", **common),
        log=_progress(log, "semantic"))
    instance_model = maskrcnn_mobilenet_v3_lite_fpn(min_size=size, max_size=2 * size, **instance_kwargs())
    instance = train_instance_model(instance_model, samples, TrainOptions(
        instance_steps, instance_batch_size, instance_lr, checkpoint=out / f"{INSTANCE}.pt", **common),
        log=_progress(log, "instance"))

    machine = (f"{_cpu_name()}, {threads or torch.get_num_threads()} threads on {device}, "
               f"torch {torch.__version__}, Python {platform.python_version()}")
    call = (f"train_demo(semantic_steps={semantic_steps}, instance_steps={instance_steps}, size={size}, "
            f"train_scenes={train_scenes}, seed={seed}, semantic_batch_size={semantic_batch_size}, "
            f"instance_batch_size={instance_batch_size}, semantic_lr={semantic_lr}, instance_lr={instance_lr}, "
            f"threads={threads}, device={device!r})")
    how = {
        SEMANTIC: _how_made(semantic, semantic_batch_size, semantic_lr, call, machine, train_scenes, seed, size),
        INSTANCE: _how_made(instance, instance_batch_size, instance_lr, call, machine, train_scenes, seed, size),
    }
    write_demo_cards(out, size, how)
    from segview.inference.pipeline import load_model

    seeds = EVAL_SEEDS[:eval_images]
    evaluation = evaluate(load_model(load_card(out / f"{PANOPTIC}.toml"), device=device), seeds, size, size,
                          DEMO_FUSION)
    log(f"held-out evaluation: {evaluation.summary()}")
    cards = write_demo_cards(out, size, how, evaluation, seeds)
    return DemoResult(semantic, instance, evaluation, cards)


def write_demo_cards(
    out_dir: Path,
    size: int,
    how_made: dict[str, str],
    evaluation: EvalResult | None = None,
    seeds: range | None = None,
) -> list[Path]:
    """Write (atomically, validated) the three demo cards for the weights in ``out_dir``; ``how_made``
    says per member card how its weights were made; ``evaluation`` adds the figures measured on ``seeds``."""
    quality = _quality(evaluation, seeds, size) if evaluation is not None else "Not evaluated yet.\n"
    semantic_categories = [{"id": label, "name": DEMO_CATEGORIES[cid].name, "isthing": DEMO_CATEGORIES[cid].isthing}
                           for cid, label in SEMANTIC_LABELS.items()]
    cards = {
        SEMANTIC: {
            "name": SEMANTIC,
            "title": "Demo LR-ASPP MobileNetV3-Large (demo scenes: 4 things, 4 stuff)",
            "task": "semantic",
            "licence": LICENCE,
            "description": (f"LR-ASPP MobileNetV3-Large trained from scratch on segview's generated demo scenes "
                            f"(label = category id − 1: ball, crate, tree, star, sky, grass, water, road).\n\n"
                            f"{how_made[SEMANTIC]}\n{quality}"),
            "builder": SEMANTIC_BUILDER,
            "builder_kwargs": semantic_kwargs(),
            "weights": {"file": f"{SEMANTIC}.pt", "sha256": sha256_of(out_dir / f"{SEMANTIC}.pt")},
            "categories": semantic_categories,
            "input": {"resize": size},
        },
        INSTANCE: {
            "name": INSTANCE,
            "title": "Demo Mask R-CNN MobileNetV3-Large lite FPN (demo scenes: ball, crate, tree, star)",
            "task": "instance",
            "licence": LICENCE,
            "description": (f"A light Mask R-CNN (MobileNetV3-Large, 64-channel FPN over strides 4-32) trained "
                            f"from scratch on segview's generated demo scenes; labels are the thing ids 1-4.\n\n"
                            f"{how_made[INSTANCE]}\n{quality}"),
            "builder": INSTANCE_BUILDER,
            "builder_kwargs": instance_kwargs(),
            "weights": {"file": f"{INSTANCE}.pt", "sha256": sha256_of(out_dir / f"{INSTANCE}.pt")},
            "categories": [{"id": c.id, "name": c.name, "isthing": True} for c in DEMO_CATEGORIES if c.isthing],
            "input": {"min_size": size, "max_size": 2 * size},
        },
        PANOPTIC: {
            "name": PANOPTIC,
            "title": "Demo panoptic pair: demo_instance things + demo_semantic stuff",
            "hint": DEMO_HINT,
            "task": "panoptic",
            "instance": INSTANCE,
            "semantic": SEMANTIC,
            "licence": LICENCE,
            "description": (f"The bundled demo model: things (ball, crate, tree, star) from `{INSTANCE}`, stuff "
                            f"(sky, grass, water, road) from `{SEMANTIC}`, fused like Panoptic FPN. The semantic "
                            "model's thing classes map to the instance model's things, so fusion takes things "
                            "from the instance model only. Category ids are those of the demo scenes "
                            "(things 1-4, stuff 5-8).\n\n"
                            f"Semantic model: {how_made[SEMANTIC]}\nInstance model: {how_made[INSTANCE]}\n"
                            f"{quality}"),
            "mapping": {c.name: {"category": c.name, "isthing": c.isthing} for c in DEMO_CATEGORIES},
        },
    }
    paths = []
    for name in (SEMANTIC, INSTANCE, PANOPTIC):  # members first: the pair's check reads them
        path = out_dir / f"{name}.toml"
        atomic_write_text(path, tomli_w.dumps(cards[name], multiline_strings=True))
        _validate(load_card(path))
        paths.append(path)
    return paths


def _validate(card: ModelCard) -> None:
    if card.task == "panoptic":
        from segview.inference.pipeline import category_space

        space = category_space(card)
        if [(c.id, c.name, c.isthing) for c in space.categories] != [(c.id, c.name, c.isthing) for c in DEMO_CATEGORIES]:
            raise AssertionError(f"{card.path}: the pair's categories are not DEMO_CATEGORIES")


def _how_made(result: TrainResult, batch_size: int, lr: float, call: str, machine: str, scenes: int, seed: int,
              size: int) -> str:
    return (f"Made with `segview.train.demo.{call}` (`segview train-demo`): {result.steps} steps of "
            f"{batch_size} images (AdamW, lr {lr:g}, warmup + cosine) on {scenes} scenes of {size}×{size} "
            f"(seeds {seed}-{seed + scenes - 1}, flip and scale jitter), {result.seconds / 60:.1f} min on "
            f"{machine}; final loss {sum(result.losses[-50:]) / max(1, len(result.losses[-50:])):.3f}.\n")


def _quality(evaluation: EvalResult, seeds: range | None, size: int) -> str:
    where = f"seeds {seeds.start}-{seeds.stop - 1}" if seeds else "held-out seeds"
    fusion = ", ".join(f"{k} {v}" for k, v in asdict(DEMO_FUSION).items())
    return (f"\n**Quality** of the panoptic pair on {evaluation.images} held-out scenes ({where}, {size}×{size}, "
            f"fusion {fusion}), measured with `segview.train.evaluate.evaluate`:\n\n"
            f"- mask AP {_pct(evaluation.mask_ap)}, mask AP50 {_pct(evaluation.mask_ap50)}, box AP (of the masks' "
            f"boxes) {_pct(evaluation.box_ap)} (pycocotools COCOeval)\n"
            f"- mIoU {_pct(evaluation.miou)} (semantic model, 8 classes)\n"
            f"- PQ {_pct(evaluation.pq)} (SQ {_pct(evaluation.sq)}, RQ {_pct(evaluation.rq)}; things "
            f"{_pct(evaluation.pq_things)}, stuff {_pct(evaluation.pq_stuff)})\n"
            f"- {evaluation.seconds_per_image:.2f} s per image for both models on the machine above\n\n"
            f"{evaluation.table()}\n")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _progress(log: Callable[[str], None], name: str) -> Callable[[TrainProgress], None]:
    def report(p: TrainProgress) -> None:
        if p.step % 20 == 0 or p.step == p.steps:
            parts = " ".join(f"{k} {v:.3f}" for k, v in p.losses.items())
            log(f"{name} {p.step}/{p.steps} loss {p.loss:.3f} ({parts}) lr {p.lr:.2e} {p.seconds:.0f} s")

    return report


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0] if names else platform.processor() or platform.machine()} ({len(names) or '?'} cores)"
