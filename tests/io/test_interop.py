"""What other tools read in segview's outputs: panopticapi's PQ needs an entry per image, COCOeval reads
``area``, trainers count classes from ``categories``."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from segview.cli import main
from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Severity
from segview.core.segments import Annotation, Segment
from segview.io.coco import save_coco
from segview.io.coco_panoptic import rgb2id, save_coco_panoptic

CATEGORIES = CategorySet([Category(1, "ball", True), Category(2, "crate", True), Category(3, "sky", False)])


def pq_compute(gt_json: Path, gt_dir: Path, pred_json: Path, pred_dir: Path) -> float:
    """panopticapi's pq_compute, reduced to what it asks of the files: an annotation entry and a PNG for
    every ground-truth image (else KeyError, as its "no prediction for the image with id"), segments
    matched at IoU > 0.5 within a category; PQ over all segments."""
    gt, pred = json.loads(gt_json.read_text()), json.loads(pred_json.read_text())
    predictions = {a["image_id"]: a for a in pred["annotations"]}
    iou_sum, tp, fp, fn = 0.0, 0, 0, 0
    for entry in gt["annotations"]:
        if entry["image_id"] not in predictions:
            raise KeyError(f"no prediction for the image with id: {entry['image_id']}")
        other = predictions[entry["image_id"]]
        gt_ids = rgb2id(np.asarray(Image.open(gt_dir / entry["file_name"])))
        pred_ids = rgb2id(np.asarray(Image.open(pred_dir / other["file_name"])))
        gt_segments = {s["id"]: s for s in entry["segments_info"]}
        pred_segments = {s["id"]: s for s in other["segments_info"]}
        gt_area, pred_area = Counter(gt_ids.ravel().tolist()), Counter(pred_ids.ravel().tolist())
        matched_gt, matched_pred = set(), set()
        for (g, p), inter in Counter(zip(gt_ids.ravel().tolist(), pred_ids.ravel().tolist(), strict=True)).items():
            if g in gt_segments and p in pred_segments and gt_segments[g]["category_id"] == pred_segments[p]["category_id"]:
                iou = inter / (gt_area[g] + pred_area[p] - inter)
                if iou > 0.5:
                    iou_sum, tp = iou_sum + iou, tp + 1
                    matched_gt.add(g)
                    matched_pred.add(p)
        fn += len(gt_segments.keys() - matched_gt)
        fp += len(pred_segments.keys() - matched_pred)
    return iou_sum / (tp + fp / 2 + fn / 2) if tp + fp + fn else 1.0


def _scene() -> Dataset:
    ann = Annotation(24, 32)
    ann.segment_map[2:10, 3:12] = 1
    ann.segment_map[12:20, 15:30] = 2
    ann.segments = {1: Segment(1), 2: Segment(2)}
    background_only = Annotation(24, 32)  # annotated: there is nothing to find in it
    return Dataset(CATEGORIES, [ImageRecord(1, "a.png", 32, 24, ann), ImageRecord(2, "b.png", 32, 24, background_only)])


def test_a_background_only_image_keeps_its_panoptic_entry_through_coco_and_pq_runs(tmp_path, capsys):
    assert save_coco_panoptic(_scene(), tmp_path / "gt.json").ok
    coco, panoptic = tmp_path / "c" / "instances.json", tmp_path / "p" / "panoptic.json"
    assert main(["convert", str(tmp_path / "gt.json"), "--to", "coco", "--out", str(coco), "--no-check-images"]) == 0
    assert main(["convert", str(coco), "--to", "coco-panoptic", "--out", str(panoptic), "--no-check-images"]) == 0
    doc = json.loads(panoptic.read_text())
    assert sorted(a["image_id"] for a in doc["annotations"]) == [1, 2]
    for entry in doc["annotations"]:
        assert (panoptic.parent / "panoptic" / entry["file_name"]).is_file()
    empty = next(a for a in doc["annotations"] if a["image_id"] == 2)
    assert empty["segments_info"] == []
    assert pq_compute(tmp_path / "gt.json", tmp_path / "gt", panoptic, panoptic.parent / "panoptic") == 1.0


def test_polygons_of_a_mask_with_a_hole_carry_the_area_of_the_mask_they_encode(tmp_path):
    ann = Annotation(20, 20)
    ann.segment_map[5:15, 5:15] = 1
    ann.segment_map[8:12, 8:12] = 0  # a 10×10 square with a 4×4 hole: 84 pixels
    ann.segments = {1: Segment(1)}
    dataset = Dataset(CATEGORIES, [ImageRecord(1, "a.png", 20, 20, ann)])
    report = save_coco(dataset, tmp_path / "poly.json", mask_format="polygon")
    assert [i.message for i in report.issues if i.severity is Severity.WARNING] == [
        "the mask has holes (16 pixels) that COCO polygons cannot express; exported filled"]
    api = COCO(str(tmp_path / "poly.json"))
    (annotation,) = api.loadAnns(api.getAnnIds())
    assert isinstance(annotation["segmentation"], list)
    assert annotation["area"] == int(api.annToMask(annotation).sum()) == 100
    assert annotation["bbox"] == [5, 5, 10, 10]
    save_coco(dataset, tmp_path / "rle.json", mask_format="auto")  # auto keeps the hole, as RLE
    api = COCO(str(tmp_path / "rle.json"))
    (annotation,) = api.loadAnns(api.getAnnIds())
    assert annotation["area"] == int(api.annToMask(annotation).sum()) == 84


@pytest.mark.parametrize("base", [None, 0, 7])
def test_coco_instances_list_the_thing_categories_with_the_ids_of_the_other_formats(tmp_path, base):
    extra = [] if base is None else ["--category-id-base", str(base)]
    assert save_coco_panoptic(_scene(), tmp_path / "gt.json").ok
    for fmt, out in (("coco", "i.json"), ("coco-panoptic", "p.json")):
        argv = ["convert", str(tmp_path / "gt.json"), "--to", fmt, "--out", str(tmp_path / out), "--no-check-images"]
        assert main(argv + extra) == 0
    things = json.loads((tmp_path / "i.json").read_text())["categories"]
    everything = json.loads((tmp_path / "p.json").read_text())["categories"]
    assert [c["name"] for c in things] == ["ball", "crate"] and [c["name"] for c in everything][-1] == "sky"
    assert [c["id"] for c in things] == [c["id"] for c in everything[:2]]
    assert main(["validate", str(tmp_path / "i.json"), "--no-check-images"]) == 0
