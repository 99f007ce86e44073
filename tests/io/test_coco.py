"""COCO instances: pixel-exact round trips, pycocotools/COCOeval compatibility, validation, robustness."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.masks import CroppedMask, polygons_to_mask, rle_encode
from segview.core.polygons import has_holes, mask_to_polygons
from segview.core.report import Report, Severity
from segview.core.segments import Annotation, Segment, Source
from segview.errors import FormatError
from segview.io import coco
from segview.io.coco import (
    full_image_rle,
    load_coco,
    rasterise_polygons,
    rle_counts_from_string,
    runs_to_crop,
    save_coco,
)
from tests.factories import make_dataset, write_image


def _pycoco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _masks(path: Path) -> list[tuple[int, int, np.ndarray]]:
    """(image id, category id, decoded mask) per annotation, in file order, decoded by pycocotools."""
    api = _pycoco(path)
    return [
        (a["image_id"], a["category_id"], api.annToMask(a).astype(bool)) for a in api.dataset["annotations"]
    ]


def _runs(mask: np.ndarray) -> list[int]:
    """Uncompressed COCO RLE counts (column-major, background first)."""
    flat = mask.ravel(order="F").astype(np.int8)
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _document(labels: np.ndarray, kinds: list[str], iscrowd: bool = False) -> dict:
    """One image whose instances are the labels of a map, each written as polygons, RLE or counts list."""
    h, w = labels.shape
    annotations = []
    for k, value in enumerate(v for v in np.unique(labels) if v):
        mask = labels == value
        kind = kinds[k % len(kinds)]
        if kind == "polygon" and not has_holes(mask):
            segmentation: object = mask_to_polygons(mask)
        elif kind == "counts":
            segmentation = {"size": [h, w], "counts": _runs(mask)}
        else:
            segmentation = rle_encode(mask)
        box = CroppedMask.from_full(mask).bbox_xywh()
        annotations.append(
            {
                "id": 10 + k,
                "image_id": 7,
                "category_id": 1 + k % 2,
                "segmentation": segmentation,
                "area": int(mask.sum()),
                "bbox": list(box),
                "iscrowd": int(iscrowd and k == 0),
            }
        )
    return {
        "images": [{"id": 7, "file_name": "a.png", "width": w, "height": h}],
        "categories": [{"id": 1, "name": "cat", "supercategory": "animal"}, {"id": 2, "name": "dog"}],
        "annotations": annotations,
    }


def _issues(report: Report, severity: Severity, words: str) -> list[str]:
    return [str(i) for i in report.of(severity) if words in str(i)]


# ------------------------------------------------------------------------------------------- round trips


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    labels=hnp.arrays(
        np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 4)
    ),
    kinds=st.lists(st.sampled_from(["polygon", "rle", "counts"]), min_size=1, max_size=3),
)
def test_round_trip_keeps_every_mask_pixel_identical(
    tmp_path: Path, labels: np.ndarray, kinds: list[str]
) -> None:
    source = _write(tmp_path / "in.json", _document(labels, kinds, iscrowd=True))
    dataset, report = load_coco(source, check_images=False)
    assert report.errors == [] and report.warnings == []
    out = tmp_path / "out.json"
    assert save_coco(dataset, out).errors == []
    before, after = _masks(source), _masks(out)
    assert len(before) == len(after)
    for (image_a, category_a, mask_a), (image_b, category_b, mask_b) in zip(before, after, strict=True):
        assert (image_a, category_a) == (image_b, category_b)
        assert np.array_equal(mask_a, mask_b)


def test_float_polygons_round_trip_as_pycocotools_draws_them(tmp_path: Path) -> None:
    polygons = [
        [[1.3, 2.7, 20.1, 3.3, 11.5, 17.9]],
        [[25.25, 5.0, 38.7, 5.3, 38.2, 19.9, 24.9, 19.1, 30.3, 12.1]],
    ]
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 24}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {"id": i + 1, "image_id": 1, "category_id": 1, "segmentation": p, "iscrowd": 0}
            for i, p in enumerate(polygons)
        ],
    }
    source = _write(tmp_path / "in.json", doc)
    dataset, report = load_coco(source, check_images=False)
    assert report.ok
    out = tmp_path / "out.json"
    save_coco(dataset, out, mask_format="polygon")
    for (_, _, expected), (_, _, got) in zip(_masks(source), _masks(out), strict=True):
        assert expected.any() and np.array_equal(expected, got)


def test_export_is_valid_for_pycocotools_and_cocoeval_scores_itself_perfectly(tmp_path: Path) -> None:
    dataset = make_dataset(None, n_images=4, seed=3)
    out = tmp_path / "out.json"
    save_coco(dataset, out)
    gt = _pycoco(out)
    anns = gt.dataset["annotations"]
    assert anns and any(isinstance(a["segmentation"], dict) for a in anns)  # holes → RLE
    assert any(isinstance(a["segmentation"], list) for a in anns)
    for iou_type in ("bbox", "segm"):
        if iou_type == "bbox":
            results = [
                {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
                for a in anns
            ]
        else:
            results = [
                {
                    "image_id": a["image_id"],
                    "category_id": a["category_id"],
                    "segmentation": gt.annToRLE(a),
                    "score": 1.0,
                }
                for a in anns
            ]
        with contextlib.redirect_stdout(io.StringIO()):
            evaluation = COCOeval(gt, gt.loadRes(results), iou_type)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        assert evaluation.stats[0] == pytest.approx(1.0), iou_type


def test_export_fields_ids_scores_and_stuff_note(tmp_path: Path) -> None:
    dataset = make_dataset(None, n_images=2, seed=1)
    annotation = dataset.images[0].annotation
    thing = next(sid for sid, s in annotation.segments.items() if dataset.categories.is_thing(s.category_id))
    annotation.segments[thing] = Segment(
        annotation.segments[thing].category_id, score=0.75, source=Source.MODEL
    )
    out = tmp_path / "out.json"
    report = save_coco(dataset, out)
    doc = json.loads(out.read_text())
    assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
    assert [a.get("score") for a in doc["annotations"]].count(0.75) == 1
    assert doc["images"][0] == {"id": 1, "file_name": "img_000.png", "width": 80, "height": 64}
    things = [c for c in dataset.categories if c.isthing]  # stuff is listed by panoptic and semantic only
    assert [c["id"] for c in doc["categories"]] == [c.id for c in things] == [1, 2, 3]
    assert doc["categories"][1] == {
        "id": 2,
        "name": "car",
        "supercategory": things[1].supercategory,
        "isthing": 1,
        "color": list(things[1].color),
    }
    stuff = sum(1 for r in dataset.images for s in r.annotation.segments.values() if s.category_id in (4, 5))
    assert _issues(report, Severity.INFO, f"{stuff} stuff segment(s) not exported")
    api = _pycoco(out)
    for a in doc["annotations"]:
        rle = api.annToRLE(a)
        assert a["area"] == mask_utils.area(rle) and a["bbox"] == mask_utils.toBbox(rle).tolist()
    loaded, _ = load_coco(out, check_images=False)
    assert loaded.categories == CategorySet(things)


def _ring_dataset() -> Dataset:
    annotation = Annotation(20, 30)
    ring = np.zeros((20, 30), dtype=bool)
    ring[2:12, 2:12] = True
    ring[5:8, 5:8] = False
    annotation.add(ring, Segment(1))
    solid = np.zeros((20, 30), dtype=bool)
    solid[3:15, 16:25] = True
    annotation.add(solid, Segment(2))
    categories = CategorySet([Category(1, "donut"), Category(2, "box")])
    return Dataset(categories, [ImageRecord(1, "a.png", 30, 20, annotation)])


def test_masks_with_holes_survive_auto_export_as_rle(tmp_path: Path) -> None:
    dataset = _ring_dataset()
    out = tmp_path / "out.json"
    assert save_coco(dataset, out).issues == []
    kinds = [type(a["segmentation"]) for a in json.loads(out.read_text())["annotations"]]
    assert kinds == [dict, list]
    loaded, report = load_coco(out, check_images=False)
    assert report.issues == []
    assert loaded.images[0].annotation.equals(dataset.images[0].annotation)


def test_forced_polygons_report_lost_holes(tmp_path: Path) -> None:
    dataset = _ring_dataset()
    out = tmp_path / "out.json"
    report = save_coco(dataset, out, mask_format="polygon")
    (warning,) = report.warnings
    assert warning.item == "segment 1" and "holes (9 pixels)" in warning.message
    loaded, _ = load_coco(out, check_images=False)
    assert np.count_nonzero(loaded.images[0].annotation.segment_map == 1) == 100


def test_forced_rle_round_trips(tmp_path: Path) -> None:
    dataset = make_dataset(None, n_images=2, seed=5)
    out = tmp_path / "out.json"
    save_coco(dataset, out, mask_format="rle")
    assert all(isinstance(a["segmentation"], dict) for a in json.loads(out.read_text())["annotations"])
    loaded, _ = load_coco(out, check_images=False)
    for original, back in zip(dataset.images, loaded.images, strict=True):
        things = np.isin(
            original.annotation.segment_map,
            [s for s, g in original.annotation.segments.items() if g.category_id <= 3],
        )
        assert np.array_equal(back.annotation.segment_map > 0, things)


def test_category_id_base_renumbers_and_round_trips(tmp_path: Path) -> None:
    annotation = Annotation(10, 10)
    for k, category_id in enumerate((20, 5, 9)):
        annotation.add(CroppedMask(3 * k, 0, np.ones((4, 2), dtype=bool)), Segment(category_id))
    categories = CategorySet([Category(20, "a"), Category(5, "b"), Category(9, "c")])
    dataset = Dataset(categories, [ImageRecord(1, "x.png", 10, 10, annotation)])
    out = tmp_path / "out.json"
    save_coco(dataset, out, category_id_base=1)
    doc = json.loads(out.read_text())
    assert [(c["id"], c["name"]) for c in doc["categories"]] == [(1, "a"), (2, "b"), (3, "c")]
    assert [a["category_id"] for a in doc["annotations"]] == [1, 2, 3]
    loaded, _ = load_coco(out, check_images=False)
    assert loaded.categories == CategorySet(categories.renumbered(1)[0])
    assert np.array_equal(loaded.images[0].annotation.segment_map, annotation.segment_map)
    again = tmp_path / "again.json"
    save_coco(loaded, again)
    assert json.loads(again.read_text())["annotations"] == doc["annotations"]
    save_coco(dataset, out, category_id_base=100)
    assert [a["category_id"] for a in json.loads(out.read_text())["annotations"]] == [100, 101, 102]


def test_parallel_export_writes_the_same_annotations(tmp_path: Path) -> None:
    dataset = make_dataset(None, n_images=6, seed=2)
    serial, forked = tmp_path / "serial.json", tmp_path / "forked.json"
    report_serial = save_coco(dataset, serial, workers=1)
    report_forked = save_coco(dataset, forked, workers=2)
    assert json.loads(serial.read_text())["annotations"] == json.loads(forked.read_text())["annotations"]
    assert report_serial.issues == report_forked.issues


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_sees_every_image_once_in_order(tmp_path: Path, workers: int) -> None:
    dataset = make_dataset(None, n_images=6, seed=2)
    dataset.images[1].annotation = dataset.images[5].annotation = None  # done without encoding
    calls: list[tuple[int, int]] = []
    save_coco(dataset, tmp_path / "out.json", workers=workers, progress=lambda *call: calls.append(call))
    assert calls == [(k, 6) for k in range(1, 7)]
    read: list[tuple[int, int]] = []
    load_coco(tmp_path / "out.json", check_images=False, progress=lambda *call: read.append(call))
    assert read == sorted(read) and read[-1] == (6, 6) and {t for _, t in read} == {6}


def test_export_reports_what_it_cannot_carry(tmp_path: Path) -> None:
    annotation = Annotation(8, 8)
    annotation.add(CroppedMask(0, 0, np.ones((2, 2), dtype=bool)), Segment(1))
    annotation.add(CroppedMask(4, 4, np.ones((2, 2), dtype=bool)), Segment(42))  # unknown category
    annotation.segments[7] = Segment(1)  # described but has no pixels
    annotation.segment_map[7, 7] = 9  # pixels without description
    wrong_size = Annotation(4, 4)
    categories = CategorySet([Category(1, "a")])
    dataset = Dataset(
        categories, [ImageRecord(1, "a.png", 8, 8, annotation), ImageRecord(2, "b.png", 8, 8, wrong_size)]
    )
    out = tmp_path / "out.json"
    report = save_coco(dataset, out)
    assert _issues(report, Severity.ERROR, "category 42 is not in the dataset")
    assert _issues(report, Severity.WARNING, "segment 7: the segment has no pixels")
    assert _issues(report, Severity.ERROR, "segment id 9, which has no description")
    assert _issues(report, Severity.ERROR, "b.png: the segment map is 4×4 but the image is 8×8")
    assert len(json.loads(out.read_text())["annotations"]) == 1


def test_export_rejects_an_unknown_mask_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mask_format"):
        save_coco(make_dataset(None, n_images=1), tmp_path / "x.json", mask_format="bitmap")  # type: ignore[arg-type]


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_write_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    dataset = make_dataset(None, n_images=3, seed=4)
    out = tmp_path / "out.json"
    save_coco(dataset, out)
    before = out.read_bytes()
    real_dumps, calls = json.dumps, []

    def failing_dumps(*args: object, **kwargs: object) -> str:
        calls.append(1)
        if len(calls) > 4:  # the header and a few annotations are already written to the temporary file
            raise RuntimeError("simulated crash in the middle of the export")
        return real_dumps(*args, **kwargs)

    monkeypatch.setattr(coco.json, "dumps", failing_dumps)
    with pytest.raises(RuntimeError, match="simulated crash"):  # raised here or in a forked worker
        save_coco(make_dataset(None, n_images=3, seed=9), out, workers=workers)
    assert len(calls) == (5 if workers == 1 else 1)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


# -------------------------------------------------------------------------------------------- overlaps


def _rect(x: int, y: int, w: int, h: int) -> list[list[int]]:
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def _overlap_document() -> dict:
    shapes = [
        (0, 0, 10, 10),
        (5, 5, 5, 5),
        (12, 0, 5, 4),
        (12, 0, 2, 4),
        (14, 0, 3, 4),
        (0, 12, 3, 3),
        (0, 12, 3, 3),
    ]
    return {
        "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 16}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [
            {"id": 100 + i, "image_id": 1, "category_id": 1, "segmentation": _rect(*s), "iscrowd": 0}
            for i, s in enumerate(shapes)
        ],
    }


def test_overlaps_go_to_the_smaller_instance_and_are_reported(tmp_path: Path) -> None:
    dataset, report = load_coco(_write(tmp_path / "in.json", _overlap_document()), check_images=False)
    annotation = dataset.images[0].annotation
    segment_map = annotation.segment_map
    assert np.all(segment_map[5:10, 5:10] == 2) and np.count_nonzero(segment_map == 1) == 75
    (partial,) = _issues(report, Severity.WARNING, "annotation 100: 25 of its 100 pixels overlap smaller")
    assert "a.png" in partial
    # 102 (20 px) is covered by 103 (8 px) and 104 (12 px): dropped; of two equal squares the later wins
    assert _issues(report, Severity.ERROR, "annotation 102: dropped: all its 20 pixels")
    assert _issues(report, Severity.ERROR, "annotation 105: dropped")
    assert sorted(annotation.segments) == [1, 2, 4, 5, 7]
    assert np.all(segment_map[12:15, 0:3] == 7) and len(report.issues) == 3


# ------------------------------------------------------------------------------------------ validation


def test_load_reports_every_per_item_problem(tmp_path: Path) -> None:
    write_image(tmp_path / "good.png", 20, 30)
    write_image(tmp_path / "small.png", 10, 10)
    square = _rect(2, 2, 4, 4)
    rle_small = rle_encode(np.ones((5, 5), dtype=bool))
    rle_good = rle_encode(np.pad(np.ones((3, 3), dtype=bool), ((0, 17), (0, 27))))
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": square, "bbox": [2, 2, 4, 4], "area": 16},
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": _rect(10, 2, 3, 3)},  # duplicate id
        {"id": 3, "image_id": 99, "category_id": 1, "segmentation": square},  # unknown image
        {"id": 4, "image_id": 1, "category_id": 77, "segmentation": square},  # unknown category
        {"id": 5, "image_id": 1, "category_id": 1, "segmentation": 5},  # malformed
        {"id": 6, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 2, 2]]},  # < 3 points
        {"id": 7, "image_id": 1, "category_id": 1, "segmentation": rle_small},  # RLE size
        {"id": 8, "image_id": 1, "category_id": 1, "segmentation": _rect(26, 15, 10, 10)},  # outside: clipped
        {"id": 9, "image_id": 1, "category_id": 1, "segmentation": _rect(16, 2, 3, 3), "bbox": [15, 2, 3, 3]},
        {
            "id": 10,
            "image_id": 1,
            "category_id": 1,
            "segmentation": _rect(16, 8, 3, 3),
            "bbox": [13, 8, 3, 3],
        },
        {"id": 11, "image_id": 2, "category_id": 1, "segmentation": rle_good, "area": 10},  # RLE area: error
        {
            "id": 12,
            "image_id": 1,
            "category_id": 1,
            "segmentation": _rect(2, 10, 4, 4),
            "area": 24,
        },  # 50 % off
        {
            "id": 13,
            "image_id": 1,
            "category_id": 1,
            "segmentation": _rect(8, 10, 4, 4),
            "area": 17.5,
        },  # within
        {"id": 14, "image_id": 1, "category_id": 1, "segmentation": _rect(40, 40, 3, 3)},  # empty
        {"id": 15, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]},  # box only
        {"id": 16, "image_id": 2, "category_id": 1, "segmentation": {"size": [20, 30], "counts": "%%%"}},
        {"id": 17, "image_id": 2, "category_id": 1, "segmentation": {"size": [20, 30], "counts": [5, 5]}},
    ]
    doc = {
        "images": [
            {"id": 1, "file_name": "good.png", "width": 30, "height": 20},
            {"id": 2, "file_name": "small.png", "width": 30, "height": 20},  # file is 10×10
            {"id": 3, "file_name": "missing.png", "width": 30, "height": 20},
            {"id": 3, "file_name": "again.png", "width": 30, "height": 20},  # duplicate id
        ],
        "categories": [{"id": 1, "name": "thing"}, {"id": 1, "name": "other"}],
        "annotations": anns,
    }
    dataset, report = load_coco(_write(tmp_path / "in.json", doc))
    expected = [
        (Severity.ERROR, "annotation 1: annotation id 1 is used twice"),
        (Severity.ERROR, "annotation 3: image_id 99 is not in 'images'"),
        (Severity.ERROR, "annotation 4: category_id 77 is not in 'categories'"),
        (Severity.ERROR, "annotation 5: segmentation must be polygons or RLE"),
        (Severity.ERROR, "annotation 6: polygon has 2 point(s), fewer than 3; skipped"),
        (Severity.ERROR, "annotation 7: RLE size [5, 5] differs from the image size [20, 30]"),
        (Severity.WARNING, "annotation 8: 3 polygon point(s) outside the 30×20 image; clipped"),
        (Severity.WARNING, "annotation 10: bbox [13, 8, 3, 3] disagrees with the mask's box [16, 8, 3, 3]"),
        (Severity.ERROR, "annotation 11: area 10 differs from the RLE mask's 9 pixels"),
        (Severity.WARNING, "annotation 12: area 24 differs from the mask's 16 pixels"),
        (Severity.WARNING, "annotation 14: 4 polygon point(s) outside"),
        (Severity.ERROR, "annotation 14: the mask is empty"),
        (Severity.ERROR, "annotation 15: no segmentation"),
        (Severity.ERROR, "annotation 16: RLE counts string is corrupt"),
        (Severity.ERROR, "annotation 17: RLE counts add up to 10, not height × width = 600"),
        (Severity.ERROR, "small.png: the image file is 10×10 but the JSON says 30×20"),
        (Severity.ERROR, "missing.png: Image not found"),
        (Severity.ERROR, "image id 3 is used twice"),
        (Severity.ERROR, "category 1 'other': category id 1 is used twice"),
    ]
    for severity, words in expected:
        assert len(_issues(report, severity, words)) == 1, words
    assert len(report.issues) == len(expected)  # nothing else: bbox off by 1 and area within 10 % are fine
    good = dataset.images[0].annotation
    assert [a for a, s in sorted(good.segments.items())] == [1, 2, 3, 4, 5, 6, 7]
    assert np.count_nonzero(good.segment_map == 3) == 4 * 5  # annotation 8 clipped to the image
    assert [r.file_name for r in dataset.images] == ["good.png", "small.png", "missing.png"]
    assert dataset.image_root == tmp_path


def test_check_images_off_and_image_root(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 6}],
        "categories": [],
        "annotations": [],
    }
    path = _write(tmp_path / "in.json", doc)
    dataset, report = load_coco(path, check_images=False)
    annotation = dataset.images[0].annotation  # listed, so annotated: background only, no object
    assert report.issues == [] and annotation.segments == {} and annotation.segment_map.shape == (6, 8)
    write_image(tmp_path / "pics" / "a.png", 6, 8)
    dataset, report = load_coco(path, tmp_path / "pics")
    assert report.issues == [] and dataset.image_root == tmp_path / "pics"
    _, report = load_coco(path)
    assert _issues(report, Severity.ERROR, "a.png: Image not found")


def test_category_fields_and_repeated_names(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}],
        "categories": [
            {"id": 3, "name": "road", "supercategory": "ground", "isthing": 0, "color": [1, 2, 3]},
            {"id": 4, "name": "car", "color": "#0a0b0c"},
            {"id": 6, "name": "car"},
            {"id": 0, "name": "void"},
            {"id": 8, "name": "bus", "color": "blue"},
        ],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 6, "segmentation": _rect(0, 0, 2, 2)}],
    }
    dataset, report = load_coco(_write(tmp_path / "in.json", doc), check_images=False)
    assert dataset.categories[3] == Category(3, "road", False, (1, 2, 3), "ground")
    assert dataset.categories[4].color == (10, 11, 12) and 6 not in dataset.categories
    assert dataset.images[0].annotation.segments[1].category_id == 4
    assert _issues(
        report, Severity.WARNING, "category name 'car' is used twice; its annotations go to category 4"
    )
    assert _issues(report, Severity.WARNING, "category 0 'void': category ids must be positive")
    assert _issues(report, Severity.WARNING, "category 8 'bus': colour 'blue' is not [r, g, b]")


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "the top level must be an object"),
        ({"images": {}, "categories": []}, "images must be a list, not an object"),
        ({"images": []}, "categories is missing"),
        (
            {"images": [{"id": 1, "file_name": "a", "height": 2}], "categories": []},
            "images[0].width is missing",
        ),
        (
            {"images": [{"id": "1", "file_name": "a", "width": 2, "height": 2}], "categories": []},
            "images[0].id must be an integer, not the string '1'",
        ),
        (
            {"images": [], "categories": [], "annotations": [{}, {}, {}, {"id": "x"}]},
            "annotations[0].id is missing",
        ),
        (
            {
                "images": [],
                "categories": [],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1}] * 3
                + [{"id": 1, "image_id": 1.5, "category_id": 1}],
            },
            "annotations[3].image_id must be an integer",
        ),
        (
            {"images": [], "categories": [{"id": 1, "name": "a", "isthing": "yes"}]},
            "categories[0].isthing must be",
        ),
        (
            {"images": [{"id": 1, "file_name": "a", "width": 0, "height": 2}], "categories": []},
            "images[0].width must be between 1 and",
        ),
    ],
)
def test_structural_problems_raise_format_error_naming_file_and_json_path(
    tmp_path: Path, doc: object, words: str
) -> None:
    path = _write(tmp_path / "broken.json", doc)
    with pytest.raises(FormatError) as caught:
        load_coco(path, check_images=False)
    assert words in str(caught.value) and str(path) in str(caught.value)
    assert "cocodataset.org" in str(caught.value)


def test_unreadable_files_raise_format_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"images": [1, 2,')
    with pytest.raises(FormatError, match=r"bad\.json is not valid JSON: .* line 1"):
        load_coco(tmp_path / "bad.json")
    with pytest.raises(FormatError, match="Cannot read"):
        load_coco(tmp_path / "nope.json")
    (tmp_path / "latin.json").write_bytes(b'{"images": "\xff"}')
    with pytest.raises(FormatError, match="not valid JSON"):
        load_coco(tmp_path / "latin.json")


def _valid_document() -> dict:
    labels = np.zeros((12, 14), dtype=np.uint8)
    labels[1:5, 1:6], labels[6:11, 2:12], labels[2:4, 8:13] = 1, 2, 3
    labels[8, 6] = 0
    doc = _document(labels, ["polygon", "rle", "counts"])
    doc["annotations"][0]["score"] = 0.5
    doc["categories"][0].update(isthing=1, color=[1, 2, 3])
    return doc


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


_VALID = _valid_document()
_GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=4),
    st.lists(st.integers(-3, 40), max_size=7),
    st.dictionaries(st.sampled_from(["size", "counts", "id"]), st.integers()),
    st.just([[1.5, 2, 3]]),
    st.just({"size": [12, 14], "counts": "0"}),
    st.just([[0, 0, 1e300, 0, 5, 5]]),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(_paths(_VALID)[1:]), st.booleans(), _GARBAGE), min_size=1, max_size=3
    )
)
def test_mutated_documents_give_a_report_or_a_format_error(tmp_path: Path, mutations: list) -> None:
    doc = copy.deepcopy(_VALID)
    for path, delete, value in mutations:
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    source = _write(tmp_path / "mutated.json", doc)
    try:
        dataset, report = load_coco(source, check_images=True)
    except FormatError as exc:
        assert str(source) in str(exc)
        return
    assert isinstance(report, Report)
    save_coco(dataset, tmp_path / "out.json")  # whatever loads can be exported


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=60))
def test_random_bytes_give_a_format_error(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "x.json").write_bytes(data)
    try:
        load_coco(tmp_path / "x.json")
    except FormatError:
        return
    json.loads(data)  # only a real JSON document may load


# ------------------------------------------------------------------------------------------ mask helpers


@settings(max_examples=200, deadline=None)
@given(
    polygons=st.lists(
        st.lists(
            st.one_of(st.integers(-60, 460).map(lambda v: v / 10), st.floats(-5, 45)), min_size=6, max_size=14
        ).filter(lambda p: len(p) % 2 == 0),
        min_size=1,
        max_size=3,
    ),
    size=st.tuples(st.integers(1, 40), st.integers(1, 40)),
)
def test_polygons_rasterised_on_their_box_equal_pycocotools_on_the_image(polygons: list, size: tuple) -> None:
    height, width = size
    crop = rasterise_polygons([np.asarray(p, dtype=np.float64) for p in polygons], height, width)
    assert np.array_equal(crop.to_full(height, width), polygons_to_mask(polygons, height, width))
    assert crop.mask.size == 0 or (
        crop.mask.any(axis=0)[[0, -1]].all() and crop.mask.any(axis=1)[[0, -1]].all()
    )


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(bool, st.tuples(st.integers(1, 30), st.integers(1, 30))))
def test_rle_helpers_agree_with_pycocotools(mask: np.ndarray) -> None:
    encoded = rle_encode(mask)
    runs = rle_counts_from_string(encoded["counts"])
    assert runs is not None and runs.tolist() == _runs(mask)
    assert np.array_equal(runs_to_crop(runs, *mask.shape).to_full(*mask.shape), mask)
    crop = CroppedMask.from_full(mask)
    if crop.area:
        assert full_image_rle(crop, *mask.shape)["counts"].decode() == encoded["counts"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_corrupt_rle_strings_are_refused_not_decoded(text: str) -> None:
    runs = rle_counts_from_string(text)
    if runs is not None and runs.sum() > 0:  # it decodes: then pycocotools must agree on the counts
        uncompressed = mask_utils.frPyObjects(
            {"size": [1, int(runs.sum())], "counts": runs.tolist()}, 1, int(runs.sum())
        )
        assert rle_counts_from_string(uncompressed["counts"].decode()).tolist() == runs.tolist()


def test_zero_based_category_ids_are_read_shifted_by_one(tmp_path: Path) -> None:
    dataset = make_dataset(None, n_images=2)
    save_coco(dataset, tmp_path / "zero.json", category_id_base=0)
    loaded, report = load_coco(tmp_path / "zero.json", check_images=False)
    assert [c.name for c in loaded.categories] == [c.name for c in dataset.categories if c.isthing]
    assert loaded.categories.ids == [1, 2, 3]
    assert _issues(report, Severity.INFO, "category ids start at 0")
    for source, back in zip(dataset.images, loaded.images, strict=True):
        things = {sid for sid, s in source.annotation.segments.items() if dataset.categories.is_thing(s.category_id)}
        assert sorted(s.category_id for s in back.annotation.segments.values()) == sorted(
            source.annotation.segments[sid].category_id for sid in things
            if (source.annotation.segment_map == sid).any()
        )
