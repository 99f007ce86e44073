from dataclasses import dataclass, field

import numpy as np
import pytest

from segview.core.categories import Category, CategorySet
from segview.core.fusion import FusionParams
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.segments import Annotation, Segment
from segview.core.views import semantic_view
from segview.inference.cards import bundled_models_dir
from segview.train.evaluate import (
    EvaluationError,
    MaskAP,
    PanopticQuality,
    SemanticIoU,
    check_categories,
    evaluate,
)
from segview.train.scenes import DEMO_CATEGORIES, generate_scene

CATS = CategorySet([Category(1, "ball", True), Category(2, "crate", True), Category(5, "sky", False)])


def _annotation(labels: np.ndarray, segments: dict[int, Segment]) -> Annotation:
    return Annotation(*labels.shape, labels.astype(np.uint16), segments)


def _scene() -> Annotation:
    """10 × 10 sky with two balls (2 × 2 and 3 × 3) and a crate."""
    labels = np.full((10, 10), 1)
    labels[1:3, 1:3] = 2
    labels[5:8, 5:8] = 3
    labels[0:2, 7:10] = 4
    return _annotation(labels, {1: Segment(5), 2: Segment(1), 3: Segment(1), 4: Segment(2)})


def _pq(truth: Annotation, prediction: Annotation) -> PanopticQuality:
    pq = PanopticQuality(CATS)
    pq.add(truth, prediction)
    return pq


def test_pq_of_a_perfect_prediction_is_one():
    truth = _scene()
    pq = _pq(truth, truth.copy())
    assert pq.average() == pytest.approx((1.0, 1.0, 1.0))
    assert pq.per_class() == {1: (1.0, 1.0, 1.0), 2: (1.0, 1.0, 1.0), 5: (1.0, 1.0, 1.0)}


def test_pq_with_one_missed_thing():
    truth = _scene()
    predicted = truth.copy()
    predicted.segment_map[predicted.segment_map == 3] = 0  # the 3 × 3 ball is missed (void)
    del predicted.segments[3]
    pq = _pq(truth, predicted)
    # ball: TP 1 (IoU 1), FN 1 → PQ = 1 / (1 + 0.5) = 2/3, SQ 1, RQ 2/3; crate and sky perfect.
    assert pq.per_class()[1] == pytest.approx((2 / 3, 1.0, 2 / 3))
    assert pq.average() == pytest.approx(((2 / 3 + 2) / 3, 1.0, (2 / 3 + 2) / 3))
    assert pq.average(isthing=True)[0] == pytest.approx((2 / 3 + 1) / 2)
    assert pq.average(isthing=False)[0] == pytest.approx(1.0)


def test_pq_counts_iou_and_the_half_threshold():
    truth = _scene()
    predicted = truth.copy()
    predicted.segment_map[5:8, 7] = 1  # ball 3 loses a column to the sky: IoU 6/9
    predicted.segment_map[0:2, 7:9] = 1  # crate keeps 2 of 6 pixels: IoU 1/3, FP + FN
    pq = _pq(truth, predicted)
    sky_iou = 81 / 88  # 81 true sky pixels, all predicted as sky, plus 3 + 4 predicted sky pixels more
    assert pq.stats[1] == pytest.approx([1 + 6 / 9, 2, 0, 0])
    assert pq.stats[2] == pytest.approx([0, 0, 1, 1])
    assert pq.stats[5] == pytest.approx([sky_iou, 1, 0, 0])
    assert pq.per_class()[2] == (0.0, 0.0, 0.0)


def test_pq_ignores_void_ground_truth_and_crowd():
    labels = np.full((10, 10), 1)
    labels[:, 5:] = 0  # right half unlabelled
    labels[0:4, 0:4] = 2  # a crowd of balls
    truth = _annotation(labels, {1: Segment(5), 2: Segment(1, iscrowd=True)})
    pred_labels = np.full((10, 10), 1)
    pred_labels[0:4, 0:4] = 2  # a ball on the crowd region: neither TP nor FP
    pred_labels[6:9, 6:9] = 3  # a crate on void: not a false positive
    predicted = _annotation(pred_labels, {1: Segment(5), 2: Segment(1), 3: Segment(2)})
    pq = _pq(truth, predicted)
    # The predicted sky covers 34 sky pixels + 41 void pixels: the void leaves the union, IoU 1.
    assert pq.per_class() == {5: (1.0, 1.0, 1.0)}


def test_miou_of_hand_made_maps():
    iou = SemanticIoU([1, 2, 5])
    iou.add(np.array([[1, 1], [2, 2]]), np.array([[1, 2], [2, 2]]))
    iou.add(np.array([[0, 0]]), np.array([[5, 1]]))  # void ground truth is ignored
    assert iou.per_class() == pytest.approx({1: 1 / 2, 2: 2 / 3})
    assert iou.mean() == pytest.approx(7 / 12)
    perfect = SemanticIoU([1, 2, 5])
    perfect.add(np.array([[1, 5]]), np.array([[1, 5]]))
    assert perfect.mean() == 1.0


def _instances(annotation: Annotation, drop: tuple[int, ...] = ()) -> list[InstancePrediction]:
    return [InstancePrediction(annotation.segments[sid].category_id, 0.9, crop)
            for sid, crop in annotation.crops().items()
            if CATS.is_thing(annotation.segments[sid].category_id) and sid not in drop]


def test_mask_ap_of_perfect_missing_and_wrong_predictions():
    truth = _scene()
    perfect = MaskAP(CATS)
    perfect.add(truth, _instances(truth))
    ap, ap50, per_class = perfect.evaluate("segm")
    assert (ap, ap50, per_class) == (pytest.approx(1.0), pytest.approx(1.0), pytest.approx({1: 1.0, 2: 1.0}))
    assert perfect.evaluate("bbox")[0] == pytest.approx(1.0)
    missed = MaskAP(CATS)
    missed.add(truth, _instances(truth, drop=(3,)))
    # ball: recall 1/2 at precision 1 → 51 of COCO's 101 recall points; crate perfect.
    assert missed.evaluate("segm")[2] == pytest.approx({1: 51 / 101, 2: 1.0})
    wrong = MaskAP(CATS)
    wrong.add(truth, [InstancePrediction(2, 0.9, CroppedMask(1, 1, np.ones((2, 2), bool)))])
    assert wrong.evaluate("segm")[0] == 0.0
    empty = MaskAP(CATS)
    empty.add(truth, [])
    assert empty.evaluate("segm")[0] == 0.0
    no_things = MaskAP(CATS)
    no_things.add(_annotation(np.ones((4, 4)), {1: Segment(5)}), [])
    assert no_things.evaluate("segm") is None


@dataclass
class _Card:
    task: str


@dataclass
class _PerfectModel:
    """Answers every generated scene with its own ground truth (instances, semantic map)."""

    seeds: list[int]
    size: int
    card: _Card = field(default_factory=lambda: _Card("panoptic"))

    def __post_init__(self) -> None:
        self.categories = DEMO_CATEGORIES
        self.truth = {}
        for seed in self.seeds:
            image, annotation = generate_scene(seed, self.size, self.size)
            self.truth[image.tobytes()] = annotation

    def predict(self, image: np.ndarray) -> Prediction:
        truth = self.truth[image.tobytes()]
        instances = [InstancePrediction(truth.segments[sid].category_id, 1.0, crop)
                     for sid, crop in truth.crops().items() if DEMO_CATEGORIES.is_thing(truth.segments[sid].category_id)]
        return Prediction(truth.height, truth.width, instances, semantic_view(truth))


def test_evaluate_a_perfect_model_gives_one_everywhere():
    model = _PerfectModel([1_000_000, 1_000_001], 96)
    result = evaluate(model, model.seeds, 96, 96, FusionParams(stuff_area_limit=0))
    assert result.images == 2
    for value in (result.mask_ap, result.mask_ap50, result.box_ap, result.miou, result.pq, result.sq, result.rq):
        assert value == pytest.approx(1.0)
    assert all(c.iou in (None, 1.0) and c.pq in (None, 1.0) for c in result.per_class)
    assert "mask_ap 1.000" in result.summary() and "| ball | thing |" in result.table()


def test_evaluate_rejects_a_model_of_other_categories():
    with pytest.raises(EvaluationError, match="'person'"):
        check_categories(CategorySet([Category(1, "person")]), DEMO_CATEGORIES)
    check_categories(CategorySet([Category(5, "sky", False)]), DEMO_CATEGORIES)


# --- the bundled demo model (only once its weights exist) -------------------------------------------

DEMO_PAIR = bundled_models_dir() / "demo_panoptic.toml"
needs_demo = pytest.mark.skipif(
    not (DEMO_PAIR.is_file() and (bundled_models_dir() / "demo_instance.pt").is_file()),
    reason="the demo model has not been trained yet (segview.train.demo.train_demo)",
)


@needs_demo
def test_demo_cards_map_to_the_demo_category_ids():
    from segview.inference.cards import load_card, weight_cards
    from segview.inference.pipeline import category_space

    pair = load_card(DEMO_PAIR)
    space = category_space(pair)
    assert [(c.id, c.name, c.isthing) for c in space.categories] == [
        (c.id, c.name, c.isthing) for c in DEMO_CATEGORIES
    ]
    instance, semantic = weight_cards(pair)
    assert space.instance_labels == {1: 1, 2: 2, 3: 3, 4: 4}
    assert space.semantic_labels == {label: label + 1 for label in range(8)}
    assert category_space(semantic).categories.ids == DEMO_CATEGORIES.ids  # alone, shifted off void
    assert "mask AP" in pair.description and "mIoU" in semantic.description and instance.input.min_size


@needs_demo
def test_demo_pair_on_held_out_scenes():
    from segview.inference.pipeline import load_model
    from segview.train.demo import DEMO_FUSION, DEMO_SIZE, EVAL_SEEDS

    model = load_model("demo_panoptic", device="cpu")
    result = evaluate(model, EVAL_SEEDS[:3], DEMO_SIZE, DEMO_SIZE, DEMO_FUSION)
    assert result.mask_ap > 0.5 and result.miou > 0.8 and result.pq > 0.5
    fused_ids = {c.category_id for c in result.per_class if c.pq is not None}
    assert fused_ids <= set(DEMO_CATEGORIES.ids)
