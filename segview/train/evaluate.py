"""Quality of a loaded model against exact ground truth: mask AP, mIoU and panoptic quality.

- **Mask AP / box AP**: pycocotools' COCOeval (AP@[.5:.95], all areas, 100 detections) of every predicted
  instance against the ground truth's thing segments (crowd segments are COCO ``iscrowd`` regions). Boxes
  are the masks' own boxes (a Prediction keeps masks, not the detector's boxes).
- **mIoU**: per class, intersection over union of the semantic prediction summed over all images (void
  ground truth ignored); the mean over the classes that occur in the ground truth or the prediction.
- **PQ**: the standard panoptic quality (Kirillov et al. 2019, as panopticapi's ``pq_compute``) of the
  fused result: segments of one category match when IoU > 0.5, where a prediction's pixels on void ground
  truth leave the union; an unmatched prediction that lies more than half on void (or on a crowd region of
  its category) is not a false positive; PQ = Σ IoU / (TP + FP/2 + FN/2), averaged over the categories
  that occur, SQ and RQ its two factors.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset
from segview.core.fusion import FusionParams, fuse
from segview.core.masks import rle_encode
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.segments import VOID, Annotation
from segview.core.views import semantic_view
from segview.errors import SegviewError
from segview.io.images import read_image
from segview.train.scenes import DEMO_CATEGORIES, generate_scene

MATCH_IOU = 0.5
DEFAULT_FUSION = FusionParams()


class EvaluationError(SegviewError):
    """The model and the ground truth do not share their categories."""


@dataclass(frozen=True)
class ClassResult:
    """One category's figures (None where the category does not occur for that measure)."""

    category_id: int
    name: str
    isthing: bool
    iou: float | None = None
    pq: float | None = None
    sq: float | None = None
    rq: float | None = None
    ap: float | None = None


@dataclass(frozen=True)
class EvalResult:
    """Overall and per-class quality over ``images`` images; a measure the model cannot give is None."""

    images: int
    mask_ap: float | None
    mask_ap50: float | None
    box_ap: float | None
    miou: float | None
    pq: float | None
    sq: float | None
    rq: float | None
    pq_things: float | None
    pq_stuff: float | None
    per_class: tuple[ClassResult, ...]
    seconds_per_image: float = 0.0

    def summary(self) -> str:
        """One line: the headline figures."""
        names = ("mask_ap", "mask_ap50", "box_ap", "miou", "pq", "sq", "rq", "pq_things", "pq_stuff")
        figures = ", ".join(f"{n} {_fmt(getattr(self, n))}" for n in names)
        return f"{self.images} images: {figures}; {self.seconds_per_image:.2f} s/image"

    def table(self) -> str:
        """Per-class figures as a Markdown table."""
        lines = ["| class | kind | IoU | PQ | SQ | RQ | mask AP |", "|---|---|---|---|---|---|---|"]
        for c in self.per_class:
            kind = "thing" if c.isthing else "stuff"
            lines.append(f"| {c.name} | {kind} | {_fmt(c.iou)} | {_fmt(c.pq)} | {_fmt(c.sq)} | {_fmt(c.rq)} "
                         f"| {_fmt(c.ap)} |")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# ----------------------------------------------------------------------------------------------- measures


class PanopticQuality:
    """Accumulates PQ statistics (TP, FP, FN, summed IoU per category) over image pairs."""

    def __init__(self, categories: CategorySet) -> None:
        self.categories = categories
        self.stats = {c.id: np.zeros(4) for c in categories}  # iou sum, tp, fp, fn

    def add(self, truth: Annotation, prediction: Annotation) -> None:
        """Match one image's predicted segments to its ground-truth segments."""
        gt_map = truth.segment_map.astype(np.uint64)
        pred_map = prediction.segment_map.astype(np.uint64)
        pairs, counts = np.unique((gt_map << np.uint64(32)) | pred_map, return_counts=True)
        overlap = {(int(p >> np.uint64(32)), int(p & np.uint64(0xFFFFFFFF))): int(n)
                   for p, n in zip(pairs, counts, strict=True)}
        gt_area, pred_area = truth.areas(), prediction.areas()
        gt = {i: s for i, s in truth.segments.items() if gt_area[i]}
        pred = {i: s for i, s in prediction.segments.items() if pred_area[i]}
        matched_gt, matched_pred = set(), set()
        for (g, p), inter in overlap.items():
            if g not in gt or p not in pred or gt[g].iscrowd or gt[g].category_id != pred[p].category_id:
                continue
            union = pred_area[p] + gt_area[g] - inter - overlap.get((VOID, p), 0)
            iou = inter / union
            if iou > MATCH_IOU:
                self._count(gt[g].category_id, iou=iou, tp=1)
                matched_gt.add(g)
                matched_pred.add(p)
        crowd: dict[int, list[int]] = {}
        for g, segment in gt.items():
            if segment.iscrowd:
                crowd.setdefault(segment.category_id, []).append(g)
            elif g not in matched_gt:
                self._count(segment.category_id, fn=1)
        for p, segment in pred.items():
            if p in matched_pred:
                continue
            ignored = overlap.get((VOID, p), 0) + sum(overlap.get((g, p), 0) for g in crowd.get(segment.category_id, ()))
            if ignored / pred_area[p] <= MATCH_IOU:
                self._count(segment.category_id, fp=1)

    def _count(self, category_id: int, iou: float = 0.0, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        if category_id in self.stats:
            self.stats[category_id] += (iou, tp, fp, fn)

    def per_class(self) -> dict[int, tuple[float, float, float]]:
        """(PQ, SQ, RQ) of every category that occurs (TP + FP + FN > 0)."""
        out = {}
        for category_id, (iou, tp, fp, fn) in self.stats.items():
            if tp + fp + fn == 0:
                continue
            denominator = tp + 0.5 * fp + 0.5 * fn
            out[category_id] = (iou / denominator, iou / tp if tp else 0.0, tp / denominator)
        return out

    def average(self, isthing: bool | None = None) -> tuple[float, float, float] | None:
        """Mean (PQ, SQ, RQ) over the occurring categories (only things or stuff when ``isthing`` is given)."""
        rows = [v for k, v in self.per_class().items() if isthing is None or self.categories.is_thing(k) == isthing]
        return tuple(float(x) for x in np.mean(rows, axis=0)) if rows else None  # type: ignore[return-value]


class SemanticIoU:
    """Accumulates a confusion matrix of category ids (void ground truth ignored)."""

    def __init__(self, category_ids: Iterable[int]) -> None:
        self.category_ids = list(category_ids)
        self.size = max(self.category_ids, default=0) + 2  # the last bin holds unknown predicted ids
        self.confusion = np.zeros((self.size, self.size), np.int64)

    def add(self, truth: np.ndarray, prediction: np.ndarray) -> None:
        """Count one image's (h, w) ground-truth and predicted category maps."""
        valid = truth != VOID
        t = np.minimum(truth[valid].astype(np.int64), self.size - 1)
        p = np.minimum(prediction[valid].astype(np.int64), self.size - 1)
        self.confusion += np.bincount(t * self.size + p, minlength=self.size**2).reshape(self.size, self.size)

    def per_class(self) -> dict[int, float]:
        """IoU of every category that occurs in the ground truth or the prediction."""
        tp = np.diag(self.confusion)
        union = self.confusion.sum(0) + self.confusion.sum(1) - tp
        return {c: float(tp[c] / union[c]) for c in self.category_ids if union[c]}

    def mean(self) -> float | None:
        values = list(self.per_class().values())
        return float(np.mean(values)) if values else None


class MaskAP:
    """Collects ground-truth thing segments and predicted instances in COCO form for pycocotools."""

    def __init__(self, categories: CategorySet) -> None:
        self.categories = categories
        self.images: list[dict] = []
        self.truth: list[dict] = []
        self.detections: list[dict] = []

    def add(self, truth: Annotation, instances: Iterable[InstancePrediction]) -> None:
        """Add one image: its thing segments and the model's instances (all scores)."""
        image_id = len(self.images) + 1
        h, w = truth.height, truth.width
        self.images.append({"id": image_id, "height": h, "width": w})
        for sid, crop in truth.crops().items():
            segment = truth.segments[sid]
            if not self.categories.is_thing(segment.category_id):
                continue
            self.truth.append({
                "id": len(self.truth) + 1, "image_id": image_id, "category_id": segment.category_id,
                "segmentation": rle_encode(crop.to_full(h, w)), "area": crop.area,
                "bbox": list(crop.bbox_xywh()), "iscrowd": int(segment.iscrowd),
            })
        for inst in instances:
            if inst.mask.area == 0:
                continue
            self.detections.append({
                "image_id": image_id, "category_id": inst.category_id, "score": float(inst.score),
                "segmentation": rle_encode(inst.mask.to_full(h, w)), "bbox": list(inst.mask.bbox_xywh()),
            })

    def evaluate(self, iou_type: str = "segm") -> tuple[float, float, dict[int, float]] | None:
        """(AP, AP50, per-class AP) for ``iou_type`` 'segm' or 'bbox'; None without ground-truth instances."""
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        if not any(not t["iscrowd"] for t in self.truth):
            return None
        thing_ids = [c.id for c in self.categories if c.isthing]
        if not self.detections:
            return 0.0, 0.0, {c: 0.0 for c in {t["category_id"] for t in self.truth}}
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO()
            gt.dataset = {"images": self.images, "annotations": self.truth,
                          "categories": [{"id": i} for i in thing_ids]}
            gt.createIndex()
            dt = gt.loadRes([dict(d) for d in self.detections])
            evaluator = COCOeval(gt, dt, iou_type)
            evaluator.params.catIds = thing_ids
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        precision = evaluator.eval["precision"][:, :, :, 0, -1]  # IoU thresholds × recall × class, all areas
        per_class = {}
        for k, category_id in enumerate(thing_ids):
            values = precision[:, :, k]
            if (values > -1).any():
                per_class[category_id] = float(values[values > -1].mean())
        return float(evaluator.stats[0]), float(evaluator.stats[1]), per_class


# ----------------------------------------------------------------------------------------------- evaluation


def evaluate(
    loaded_model,
    seeds: Iterable[int],
    height: int = 256,
    width: int = 256,
    params: FusionParams = DEFAULT_FUSION,
) -> EvalResult:
    """Evaluate a LoadedModel on generated demo scenes of ``seeds`` (``generate_scene(seed, height, width)``);
    use seeds that were not trained on."""
    scenes = (generate_scene(seed, height, width) for seed in seeds)
    return evaluate_pairs(loaded_model, scenes, DEMO_CATEGORIES, params)


def evaluate_dataset(loaded_model, dataset: Dataset, params: FusionParams = DEFAULT_FUSION) -> EvalResult:
    """Evaluate a LoadedModel on the annotated images of a Dataset (images read from its image root)."""
    if dataset.image_root is None:
        raise EvaluationError("The dataset has no image folder: load it with the folder of its images.")
    pairs = ((read_image(dataset.image_path(r)), r.annotation) for r in dataset.images if r.annotation is not None)
    return evaluate_pairs(loaded_model, pairs, dataset.categories, params)


def evaluate_pairs(
    loaded_model,
    pairs: Iterable[tuple[np.ndarray, Annotation]],
    categories: CategorySet,
    params: FusionParams = DEFAULT_FUSION,
) -> EvalResult:
    """Evaluate a LoadedModel on (RGB image, ground truth) pairs whose category ids are ``categories``' (the
    model's classes are matched to them by name: ``by_name``).

    Mask AP needs an instance model, mIoU a semantic model; PQ is measured on ``fuse(prediction, ...)``.
    """
    loaded_model = by_name(loaded_model, categories)
    task = loaded_model.card.task
    ap, iou, pq = MaskAP(categories), SemanticIoU(categories.ids), PanopticQuality(categories)
    count, seconds = 0, 0.0
    for image, truth in _checked(pairs):
        start = time.perf_counter()
        prediction = loaded_model.predict(image)
        seconds += time.perf_counter() - start
        count += 1
        ap.add(truth, prediction.instances)
        if prediction.semantic is not None:
            iou.add(semantic_view(truth), prediction.semantic)
        pq.add(truth, fuse(prediction, loaded_model.categories, params))
    segm = ap.evaluate("segm") if task != "semantic" else None
    bbox = ap.evaluate("bbox") if task != "semantic" else None
    ious = iou.per_class() if task != "instance" else {}
    pqs = pq.per_class()
    per_class = tuple(
        ClassResult(c.id, c.name, c.isthing, ious.get(c.id), *(pqs.get(c.id) or (None, None, None)),
                    segm[2].get(c.id) if segm else None)
        for c in categories
    )
    overall = pq.average()
    return EvalResult(
        images=count,
        mask_ap=segm[0] if segm else None,
        mask_ap50=segm[1] if segm else None,
        box_ap=bbox[0] if bbox else None,
        miou=iou.mean() if task != "instance" else None,
        pq=overall[0] if overall else None,
        sq=overall[1] if overall else None,
        rq=overall[2] if overall else None,
        pq_things=(pq.average(True) or (None,))[0],
        pq_stuff=(pq.average(False) or (None,))[0],
        per_class=per_class,
        seconds_per_image=seconds / max(count, 1),
    )


def check_categories(model_categories: CategorySet, categories: CategorySet) -> None:
    """The model must share at least one class (by name, case ignored) with the ground truth."""
    names = {c.name.casefold() for c in categories}
    if not any(c.name.casefold() in names for c in model_categories):
        known = ", ".join(f"{t.id} {t.name}" for t in categories)
        theirs = ", ".join(repr(c.name) for c in model_categories)
        raise EvaluationError(f"The model's categories ({theirs}) are not in the ground truth ({known}): evaluate "
                              "a model trained on these categories.")


def by_name(loaded_model, categories: CategorySet):
    """``loaded_model`` giving its results in ``categories``' ids, its classes matched by name (case ignored):
    the model itself when its ids already are those, else a wrapper that renumbers its predictions and drops
    the classes the ground truth lacks. A model that shares no class with ``categories`` is refused."""
    check_categories(loaded_model.categories, categories)
    truth = {c.name.casefold(): c for c in categories}
    if all(truth.get(c.name.casefold()) == categories.get(c.id) for c in loaded_model.categories):
        return loaded_model
    return _RenumberedModel(loaded_model, truth)


class _RenumberedModel:
    """A loaded model whose predictions are renumbered into another category space (see ``by_name``)."""

    def __init__(self, model, truth: dict[str, Category]) -> None:
        self.model, self.card = model, model.card
        matched = [(c.id, truth[c.name.casefold()]) for c in model.categories if c.name.casefold() in truth]
        self.ids = {model_id: category.id for model_id, category in matched}
        self.categories = CategorySet(category for _, category in matched)
        self.lut = np.zeros(max(c.id for c in model.categories) + 1, np.int64)
        for model_id, truth_id in self.ids.items():
            self.lut[model_id] = truth_id

    def predict(self, image: np.ndarray) -> Prediction:
        prediction = self.model.predict(image)
        prediction.instances = [replace(i, category_id=self.ids[i.category_id]) for i in prediction.instances
                                if i.category_id in self.ids]
        if prediction.semantic is not None:
            prediction.semantic = self.lut[prediction.semantic].astype(prediction.semantic.dtype)
        return prediction


def _checked(pairs: Iterable[tuple[np.ndarray, Annotation]]) -> Iterator[tuple[np.ndarray, Annotation]]:
    for image, truth in pairs:
        if image.shape[:2] != truth.segment_map.shape:
            raise EvaluationError(f"An image is {image.shape[1]}×{image.shape[0]} but its ground truth is "
                                  f"{truth.width}×{truth.height}.")
        yield image, truth
