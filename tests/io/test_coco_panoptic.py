"""COCO panoptic: id ↔ RGB encoding, load checks, save, round trips, malformed documents, atomic writes."""

from __future__ import annotations

import copy
import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Report, Severity
from segview.core.segments import Annotation, Segment, Source
from segview.errors import FormatError, WriteError
from segview.io.coco_panoptic import id2rgb, load_coco_panoptic, rgb2id, save_coco_panoptic
from tests.factories import crop_masks, make_dataset, write_image

# --- rgb2id / id2rgb -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rgb", "segment_id"),
    [
        ((0, 0, 0), 0),
        ((1, 0, 0), 1),
        ((0, 1, 0), 256),
        ((0, 0, 1), 65536),
        ((10, 20, 30), 10 + 20 * 256 + 30 * 65536),
        ((255, 255, 255), 2**24 - 1),
    ],
)
def test_rgb2id_hand_values(rgb, segment_id):
    assert rgb2id(np.array([[rgb]], dtype=np.uint8))[0, 0] == segment_id
    assert id2rgb(segment_id).tolist() == list(rgb)


@given(hnp.arrays(np.uint32, hnp.array_shapes(min_dims=1, max_dims=3), elements=st.integers(0, 2**24 - 1)))
@settings(max_examples=60)
def test_id_rgb_round_trip(ids):
    rgb = id2rgb(ids)
    assert rgb.dtype == np.uint8 and rgb.shape == (*ids.shape, 3)
    assert np.array_equal(rgb2id(rgb), ids)


@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=3).map(lambda s: (*s, 3))))
@settings(max_examples=60)
def test_rgb_id_round_trip(rgb):
    assert np.array_equal(id2rgb(rgb2id(rgb)), rgb)


@pytest.mark.parametrize("bad", [-1, 2**24])
def test_id2rgb_rejects_ids_outside_24_bits(bad):
    with pytest.raises(ValueError, match="24|0\\.\\."):
        id2rgb(np.array([bad]))


# --- a hand-made panoptic dataset with large RGB-derived ids ---------------------------------------------

SKY, ROAD, PERSON, CAR = (
    rgb2id(np.array(c, np.uint8)) for c in [(200, 10, 3), (7, 99, 180), (1, 2, 250), (90, 0, 64)]
)
H, W = 6, 8


def _id_maps() -> dict[int, np.ndarray]:
    first = np.full((H, W), SKY, dtype=np.uint32)
    first[3:] = ROAD
    first[1:5, 1:3] = PERSON
    first[4:6, 5:8] = CAR
    first[0, 7] = 0  # a void pixel
    second = np.full((H, W), SKY, dtype=np.uint32)
    second[2:4, 2:7] = PERSON
    return {1: first, 2: second}


def _info(ids: np.ndarray, segment_id: int, category_id: int, iscrowd: int = 0) -> dict:
    rows, cols = np.nonzero(ids == segment_id)
    bbox = [
        int(cols.min()),
        int(rows.min()),
        int(cols.max() - cols.min() + 1),
        int(rows.max() - rows.min() + 1),
    ]
    return {
        "id": int(segment_id),
        "category_id": category_id,
        "area": len(rows),
        "bbox": bbox,
        "iscrowd": iscrowd,
    }


def _write_panoptic(root: Path) -> tuple[Path, dict]:
    """panoptic.json + panoptic/*.png + the images, all consistent; returns the JSON path and its document."""
    maps = _id_maps()
    for image_id, ids in maps.items():
        write_image(root / f"img{image_id}.jpg", H, W, seed=image_id)
        (root / "panoptic").mkdir(exist_ok=True)
        Image.fromarray(id2rgb(ids)).save(root / "panoptic" / f"img{image_id}.png")
    doc = {
        "info": {"description": "hand-made"},
        "images": [{"id": i, "file_name": f"img{i}.jpg", "width": W, "height": H} for i in maps],
        "annotations": [
            {
                "image_id": 1,
                "file_name": "img1.png",
                "segments_info": [
                    _info(maps[1], PERSON, 1),
                    _info(maps[1], SKY, 4),
                    _info(maps[1], CAR, 2, iscrowd=1),
                    _info(maps[1], ROAD, 5),
                ],
            },
            {
                "image_id": 2,
                "file_name": "img2.png",
                "segments_info": [_info(maps[2], SKY, 4), _info(maps[2], PERSON, 1)],
            },
        ],
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person", "isthing": 1, "color": [220, 20, 60]},
            {"id": 2, "name": "car", "supercategory": "vehicle", "isthing": 1, "color": [0, 0, 142]},
            {"id": 4, "name": "sky", "supercategory": "background", "isthing": 0, "color": [70, 130, 180]},
            {"id": 5, "name": "road", "supercategory": "background", "isthing": 0, "color": [128, 64, 128]},
        ],
    }
    json_path = root / "panoptic.json"
    json_path.write_text(json.dumps(doc))
    return json_path, doc


@pytest.fixture
def panoptic(tmp_path: Path) -> tuple[Path, dict]:
    return _write_panoptic(tmp_path)


def _segment_set(ann: Annotation) -> set[tuple[int, bool, bytes]]:
    """What a segment is, independent of its id: category, crowd flag and the mask's pixels."""
    return {
        (seg.category_id, seg.iscrowd, (ann.segment_map == sid).tobytes())
        for sid, seg in ann.segments.items()
    }


def _png_segment_set(png: Path, segments_info: list[dict]) -> set[tuple[int, bool, bytes]]:
    ids = rgb2id(np.asarray(Image.open(png)))
    return {(s["category_id"], bool(s["iscrowd"]), (ids == s["id"]).tobytes()) for s in segments_info}


def test_load_hand_made_file_with_big_ids(panoptic):
    json_path, _ = panoptic
    dataset, report = load_coco_panoptic(json_path)
    assert report.issues == []
    assert dataset.image_root == json_path.parent
    assert [c.name for c in dataset.categories] == ["person", "car", "sky", "road"]
    assert dataset.categories[4] == Category(4, "sky", False, (70, 130, 180), "background")
    first = dataset.images[0].annotation
    # compact ids 1..N in segments_info order
    assert first.segments == {
        1: Segment(1),
        2: Segment(4),
        3: Segment(2, iscrowd=True),
        4: Segment(5),
    }
    maps = _id_maps()
    for compact, big in zip((1, 2, 3, 4), (PERSON, SKY, CAR, ROAD), strict=True):
        assert np.array_equal(first.segment_map == compact, maps[1] == big)
    assert first.segment_map[0, 7] == 0
    assert first.segment_map.dtype == np.uint16


def test_panoptic_to_segview_to_panoptic_keeps_masks(panoptic, tmp_path):
    json_path, doc = panoptic
    dataset, _ = load_coco_panoptic(json_path)
    out = tmp_path / "out" / "exported.json"
    assert save_coco_panoptic(dataset, out).issues == []
    written = json.loads(out.read_text())
    for original, exported in zip(doc["annotations"], written["annotations"], strict=True):
        before = _png_segment_set(
            json_path.parent / "panoptic" / original["file_name"], original["segments_info"]
        )
        after = _png_segment_set(out.parent / "exported" / exported["file_name"], exported["segments_info"])
        assert before == after
        # areas and boxes are exact in panoptic files, so they must come out identical
        key = lambda s: s["area"]  # noqa: E731
        assert [(s["area"], s["bbox"]) for s in sorted(original["segments_info"], key=key)] == [
            (s["area"], s["bbox"]) for s in sorted(exported["segments_info"], key=key)
        ]
    assert written["categories"] == doc["categories"]
    assert written["images"] == doc["images"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_save_then_load_gives_the_original_annotations(tmp_path, seed):
    dataset = make_dataset(tmp_path / "images", n_images=3, seed=seed)
    json_path = tmp_path / "images" / "panoptic.json"
    assert save_coco_panoptic(dataset, json_path).issues == []
    # every segment's PNG mask is pixel-identical to the annotation's (ids are kept on save)
    written = json.loads(json_path.read_text())
    for record, entry in zip(dataset.images, written["annotations"], strict=True):
        ids = rgb2id(np.asarray(Image.open(json_path.with_suffix("") / entry["file_name"])))
        masks = crop_masks(record.annotation)
        assert {s["id"] for s in entry["segments_info"]} == set(masks)
        for sid, mask in masks.items():
            assert np.array_equal(ids == sid, mask)
    loaded, report = load_coco_panoptic(json_path)
    assert report.issues == []
    assert loaded.categories == dataset.categories
    for original, back in zip(dataset.images, loaded.images, strict=True):
        assert (back.id, back.file_name, back.width, back.height) == (
            original.id,
            original.file_name,
            original.width,
            original.height,
        )
        assert _segment_set(back.annotation) == _segment_set(original.annotation)


def test_progress_sees_every_image_once_in_order(tmp_path):
    dataset = make_dataset(None, n_images=5, seed=1)
    dataset.images[0].annotation = dataset.images[3].annotation = None  # listed without a PNG
    calls = []
    save_coco_panoptic(dataset, tmp_path / "p.json", progress=lambda *call: calls.append(call))
    assert calls == [(k, 5) for k in range(1, 6)]
    read = []
    load_coco_panoptic(tmp_path / "p.json", check_images=False, progress=lambda *call: read.append(call))
    assert read == [(1, 3), (2, 3), (3, 3)]  # one per annotation (PNG)


def test_category_id_base_renumbers(tmp_path):
    dataset = make_dataset(None, n_images=1)
    json_path = tmp_path / "p.json"
    save_coco_panoptic(dataset, json_path, category_id_base=101)
    written = json.loads(json_path.read_text())
    assert [c["id"] for c in written["categories"]] == [101, 102, 103, 104, 105]
    loaded, _ = load_coco_panoptic(json_path, check_images=False)
    original = {(seg.category_id + 100, mask) for seg, mask in _pairs(dataset.images[0].annotation)}
    assert {(seg.category_id, mask) for seg, mask in _pairs(loaded.images[0].annotation)} == original


def test_category_id_base_must_not_be_negative(tmp_path):
    report = save_coco_panoptic(make_dataset(None, n_images=1), tmp_path / "p.json", category_id_base=-1)
    assert "use 0 or more" in report.errors[0].message
    assert list(tmp_path.iterdir()) == []


def test_json_path_without_suffix_gets_a_png_folder_beside_it(tmp_path):
    dataset = make_dataset(None, n_images=1)
    save_coco_panoptic(dataset, tmp_path / "export")
    assert (tmp_path / "export").is_file() and (tmp_path / "export_png" / "img_000.png").is_file()
    loaded, report = load_coco_panoptic(tmp_path / "export", check_images=False)
    assert report.ok and _segment_set(loaded.images[0].annotation) == _segment_set(
        dataset.images[0].annotation
    )


def _pairs(ann: Annotation) -> list[tuple[Segment, bytes]]:
    return [(seg, (ann.segment_map == sid).tobytes()) for sid, seg in ann.segments.items()]


def test_score_and_source_survive_a_round_trip(tmp_path):
    ann = Annotation(4, 4)
    ann.add(np.eye(4, dtype=bool), Segment(1, score=0.75, source=Source.MODEL))
    dataset = Dataset(CategorySet([Category(1, "a")]), [ImageRecord(1, "a.jpg", 4, 4, ann)])
    save_coco_panoptic(dataset, tmp_path / "p.json")
    loaded, _ = load_coco_panoptic(tmp_path / "p.json", check_images=False)
    assert loaded.images[0].annotation.segments == {1: Segment(1, score=0.75, source=Source.MODEL)}


def test_save_reports_what_it_cannot_write(tmp_path):
    ann = Annotation(4, 6, np.zeros((4, 6), np.uint32))
    ann.add(np.pad(np.ones((2, 2), bool), ((0, 2), (0, 4))), Segment(1))  # id 1: written
    ann.segments[2] = Segment(1)  # no pixels
    ann.add(np.pad(np.ones((1, 2), bool), ((3, 0), (0, 4))), Segment(9))  # id 3: unknown category
    ann.add(np.pad(np.ones((1, 1), bool), ((0, 3), (5, 0))), Segment(1), segment_id=2**24)  # too big for RGB
    ann.segment_map[2, 2] = 77  # painted, but no segment describes it
    dataset = Dataset(
        CategorySet([Category(1, "a")]),
        [
            ImageRecord(1, "sub/x.jpg", 6, 4, ann),
            ImageRecord(2, "sub/x.png", 6, 4, ann.copy()),
            ImageRecord(3, "y.jpg", 6, 4),
            ImageRecord(3, "z.jpg", 6, 4),
        ],
    )
    report = save_coco_panoptic(dataset, tmp_path / "p.json")
    messages = [(i.severity, i.image, i.item, i.message) for i in report.issues]

    def has(severity, image, text, item=None):
        return any(
            s is severity and im == image and text in m and (item is None or it == item)
            for s, im, it, m in messages
        )

    assert has(Severity.INFO, "sub/x.jpg", "no pixels", "segment 2")
    assert has(Severity.ERROR, "sub/x.jpg", "unknown category id 9", "segment 3")
    assert has(Severity.ERROR, "sub/x.jpg", "does not fit in 24 bits", f"segment {2**24}")
    assert has(Severity.ERROR, "sub/x.jpg", "[77]")
    assert has(Severity.ERROR, "sub/x.png", "already used by sub/x.jpg")
    assert has(Severity.INFO, "y.jpg", "no annotation")
    assert has(Severity.ERROR, "z.jpg", "image id 3 is used twice")
    written = json.loads((tmp_path / "p.json").read_text())
    assert [a["file_name"] for a in written["annotations"]] == ["sub/x.png"]  # subfolder kept
    assert [s["id"] for s in written["annotations"][0]["segments_info"]] == [1]
    assert [i["id"] for i in written["images"]] == [1, 2, 3]
    ids = rgb2id(np.asarray(Image.open(tmp_path / "p" / "sub" / "x.png")))
    expected = np.zeros((4, 6), np.uint32)
    expected[:2, :2] = 1
    assert np.array_equal(ids, expected)


def test_unsafe_file_names_are_flattened(tmp_path):
    ann = Annotation(2, 2)
    ann.add(np.ones((2, 2), bool), Segment(1))
    dataset = Dataset(CategorySet([Category(1, "a")]), [ImageRecord(1, "../../evil.jpg", 2, 2, ann)])
    save_coco_panoptic(dataset, tmp_path / "out" / "p.json")
    assert (tmp_path / "out" / "p" / "evil.png").is_file()
    assert not (tmp_path / "evil.png").exists()


# --- every check of the loader ---------------------------------------------------------------------------


def _issues(report: Report, severity: Severity, text: str) -> list:
    return [i for i in report.issues if i.severity is severity and text in i.message]


def _rewrite(json_path: Path, doc: dict) -> None:
    json_path.write_text(json.dumps(doc))


def _segments_info(doc: dict, image_id: int = 1) -> list[dict]:
    return next(a for a in doc["annotations"] if a["image_id"] == image_id)["segments_info"]


def _break_png_missing(root, doc):
    (root / "panoptic" / "img1.png").unlink()


def _break_png_unreadable(root, doc):
    (root / "panoptic" / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")


def _break_png_mode(root, doc):
    Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "panoptic" / "img1.png")


def _break_png_size(root, doc):
    Image.fromarray(np.zeros((H + 1, W, 3), np.uint8)).save(root / "panoptic" / "img1.png")


def _break_orphan_ids(root, doc):
    _segments_info(doc).pop(0)  # the person's pixels lose their description


def _break_absent_id(root, doc):
    _segments_info(doc).append({"id": 4242, "category_id": 1, "area": 3, "bbox": [0, 0, 1, 3], "iscrowd": 0})


def _break_duplicate_id(root, doc):
    _segments_info(doc).append(dict(_segments_info(doc)[0]))


def _break_unknown_category(root, doc):
    _segments_info(doc)[0]["category_id"] = 99


def _break_area(root, doc):
    _segments_info(doc)[0]["area"] += 1


def _break_bbox(root, doc):
    _segments_info(doc)[0]["bbox"][2] += 1


def _break_crowd_stuff(root, doc):
    _segments_info(doc)[1]["iscrowd"] = 1


def _break_duplicate_image(root, doc):
    doc["images"].append(dict(doc["images"][0], file_name="other.jpg"))


def _break_unknown_image(root, doc):
    doc["annotations"].append(dict(doc["annotations"][1], image_id=77))


def _break_second_annotation(root, doc):
    doc["annotations"].append(dict(doc["annotations"][1]))


def _break_no_annotation(root, doc):
    doc["annotations"].pop(1)


def _break_segment_id_zero(root, doc):
    _segments_info(doc).append({"id": 0, "category_id": 1, "iscrowd": 0})


def _break_image_missing(root, doc):
    (root / "img2.jpg").unlink()


def _break_image_size(root, doc):
    write_image(root / "img2.jpg", H, W + 2)


CHECKS = [
    (_break_png_missing, Severity.ERROR, "is missing", "img1.jpg"),
    (_break_png_unreadable, Severity.ERROR, "cannot be read", "img1.jpg"),
    (_break_png_mode, Severity.ERROR, "not RGB", "img1.jpg"),
    (_break_png_size, Severity.ERROR, "but the image is 8×6", "img1.jpg"),
    (
        _break_orphan_ids,
        Severity.ERROR,
        f"no segments_info entry ({PERSON}); their 8 pixels are void",
        "img1.jpg",
    ),
    (_break_absent_id, Severity.ERROR, "segment id 4242 has no pixels", "img1.jpg"),
    (_break_duplicate_id, Severity.ERROR, "described twice", "img1.jpg"),
    (_break_unknown_category, Severity.ERROR, "unknown category_id 99", "img1.jpg"),
    (_break_area, Severity.ERROR, "area is 9 but the mask has 8 pixels", "img1.jpg"),
    (_break_bbox, Severity.ERROR, "bbox is [1, 1, 3, 4] but the mask's box is [1, 1, 2, 4]", "img1.jpg"),
    (_break_crowd_stuff, Severity.WARNING, "iscrowd is set on stuff class 'sky'", "img1.jpg"),
    (_break_duplicate_image, Severity.ERROR, "image id 1 is used twice", "other.jpg"),
    (_break_unknown_image, Severity.ERROR, "image id 77, which is not in 'images'", "img2.png"),
    (_break_second_annotation, Severity.ERROR, "a second annotation for image id 2", "img2.jpg"),
    (_break_no_annotation, Severity.WARNING, "the image has no annotation", "img2.jpg"),
    (_break_segment_id_zero, Severity.ERROR, "segment id 0 cannot be stored", "img1.jpg"),
    (_break_image_missing, Severity.ERROR, "Image not found", "img2.jpg"),
    (_break_image_size, Severity.ERROR, "the image file is 10×6 but the JSON says 8×6", "img2.jpg"),
]


@pytest.mark.parametrize(
    ("breaker", "severity", "text", "image"), CHECKS, ids=[c[0].__name__[7:] for c in CHECKS]
)
def test_each_check_reports_its_issue(panoptic, breaker, severity, text, image):
    json_path, doc = panoptic
    breaker(json_path.parent, doc)
    _rewrite(json_path, doc)
    dataset, report = load_coco_panoptic(json_path)
    found = _issues(report, severity, text)
    assert found, report.format()
    assert found[0].image == image
    assert len(report.issues) == 1, report.format()  # and nothing else is flagged


def test_pixels_without_description_become_void(panoptic):
    json_path, doc = panoptic
    _break_orphan_ids(json_path.parent, doc)
    _rewrite(json_path, doc)
    dataset, _ = load_coco_panoptic(json_path)
    ann = dataset.images[0].annotation
    assert np.all(ann.segment_map[_id_maps()[1] == PERSON] == 0)
    assert [s.category_id for s in ann.segments.values()] == [4, 2, 5]


def test_unknown_category_pixels_become_void(panoptic):
    json_path, doc = panoptic
    _break_unknown_category(json_path.parent, doc)
    _rewrite(json_path, doc)
    dataset, _ = load_coco_panoptic(json_path)
    ann = dataset.images[0].annotation
    assert np.all(ann.segment_map[_id_maps()[1] == PERSON] == 0)
    assert all(s.category_id != 99 for s in ann.segments.values())


def test_image_checks_can_be_skipped(panoptic):
    json_path, doc = panoptic
    _break_image_missing(json_path.parent, doc)
    _, report = load_coco_panoptic(json_path, check_images=False)
    assert report.issues == []


def test_explicit_png_dir_and_image_root(panoptic, tmp_path):
    json_path, _ = panoptic
    moved = tmp_path / "elsewhere"
    (json_path.parent / "panoptic").rename(moved)
    dataset, report = load_coco_panoptic(json_path, png_dir=moved, image_root=tmp_path)
    assert report.ok and dataset.image_root == tmp_path
    assert len(dataset.images[1].annotation.segments) == 2


# --- malformed documents: FormatError naming the file and the JSON path ---------------------------------


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda d: d["annotations"][0]["segments_info"][1].pop("id"),
            "annotations[0].segments_info[1].id is missing",
        ),
        (
            lambda d: d["annotations"][1]["segments_info"][0].update(id="7"),
            "annotations[1].segments_info[0].id must be",
        ),
        (
            lambda d: d["annotations"][0]["segments_info"][0].update(bbox=[1, 2]),
            "segments_info[0].bbox must be [x, y",
        ),
        (
            lambda d: d["annotations"][0].update(segments_info={}),
            "annotations[0].segments_info must be a list",
        ),
        (lambda d: d["images"][1].update(width=-3), "images[1] has a size of -3×6"),
        (lambda d: d["images"][0].update(height=2.5), "images[0].height must be an integer"),
        (lambda d: d["categories"][2].update(color=[1, 2]), "categories[2].color is not a colour"),
        (lambda d: d["categories"][2].update(isthing=2), "categories[2].isthing must be 0, 1"),
        (lambda d: d["categories"][3].update(id=1), "categories[3] is not a valid category"),
        (lambda d: d.pop("categories"), "categories is missing"),
    ],
)
def test_malformed_documents_raise_format_error(panoptic, mutate, path):
    json_path, doc = panoptic
    mutate(doc)
    _rewrite(json_path, doc)
    with pytest.raises(FormatError) as info:
        load_coco_panoptic(json_path)
    assert str(json_path) in str(info.value) and path in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{not json", "is not valid JSON (line 1"), ("[1, 2]", "the document must be an object")],
)
def test_broken_json_raises_format_error(tmp_path, text, expected):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=expected.replace("(", r"\(")):
        load_coco_panoptic(path)


def test_missing_json_raises_format_error(tmp_path):
    with pytest.raises(FormatError, match="does not exist"):
        load_coco_panoptic(tmp_path / "nope.json")


def _slots(value, out):
    """Every (container, key) inside a JSON value, depth first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out.append((value, key))
        _slots(child, out)
    return out


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def fuzz_files(tmp_path_factory) -> tuple[Path, dict]:
    return _write_panoptic(tmp_path_factory.mktemp("fuzz"))


@given(data=st.data())
@settings(max_examples=120)
def test_mutated_documents_give_format_error_or_report(fuzz_files, data):
    json_path, valid = fuzz_files
    doc = copy.deepcopy(valid)
    for _ in range(data.draw(st.integers(1, 3))):
        slots = _slots(doc, [])
        if not slots:
            break
        container, key = data.draw(st.sampled_from(slots))
        if data.draw(st.booleans()):
            del container[key]
        else:
            container[key] = data.draw(JSON_VALUES)
    _rewrite(json_path, doc)
    try:
        dataset, report = load_coco_panoptic(json_path)
    except FormatError as exc:
        assert str(json_path) in str(exc)
    else:
        assert isinstance(dataset, Dataset) and isinstance(report, Report)


# --- atomic writes ---------------------------------------------------------------------------------------


def test_json_is_written_last(tmp_path, monkeypatch):
    targets = []
    real_replace = os.replace

    def recording_replace(src, dst):
        targets.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    save_coco_panoptic(make_dataset(None, n_images=3), tmp_path / "p.json")
    assert targets == ["img_000.png", "img_001.png", "img_002.png", "p.json"]


def test_a_failed_save_leaves_no_partial_file_and_the_old_json(tmp_path, monkeypatch):
    json_path = tmp_path / "p.json"
    save_coco_panoptic(make_dataset(None, n_images=3, seed=1), json_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    calls = []
    real_fsync = os.fsync

    def failing_fsync(fd):  # the second PNG's bytes are in its temporary file when the disk fills up
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(WriteError, match="disk is full"):
        save_coco_panoptic(make_dataset(None, n_images=3, seed=2), json_path)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert set(after) == set(before)  # no temporary file left behind
    assert after[json_path] == before[json_path]  # the JSON still matches the PNGs it names
    assert after[tmp_path / "p" / "img_001.png"] == before[tmp_path / "p" / "img_001.png"]
