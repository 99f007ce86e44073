"""labelme import: hand-written files against expected masks, pixel by pixel, and every bad input."""

from __future__ import annotations

import base64
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from segview.core.masks import polygons_to_mask
from segview.core.report import Report, Severity
from segview.errors import FormatError
from segview.io.detect import DatasetFormat, detect_format, load_dataset
from segview.io.labelme import load_labelme
from tests.factories import write_image

H, W = 20, 30


def shape(label: str, points: list, shape_type: str = "polygon", group_id: int | None = None, **extra) -> dict:
    """A shape as labelme 5 writes it."""
    return {"label": label, "points": points, "group_id": group_id, "description": "", "shape_type": shape_type,
            "flags": {}, "mask": None, **extra}


def document(shapes: list[dict], image_path: str = "img.png", height: int = H, width: int = W, **extra) -> dict:
    return {"version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": image_path, "imageData": None,
            "imageHeight": height, "imageWidth": width, **extra}


def write_labelme(folder: Path, shapes: list[dict], name: str = "img", image: bool = True, **extra) -> Path:
    """``folder/name.json`` describing ``folder/name.png`` (a real H × W image unless ``image`` is False)."""
    folder.mkdir(parents=True, exist_ok=True)
    if image:
        write_image(folder / f"{name}.png", H, W)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(document(shapes, f"{name}.png", **extra)))
    return path


def load_one(tmp_path: Path, shapes: list[dict], **extra):
    dataset, report = load_labelme(write_labelme(tmp_path, shapes, **extra))
    assert len(dataset.images) == 1
    return dataset, dataset.images[0].annotation, report


def png_b64(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def issues(report: Report, severity: Severity) -> list[str]:
    return [f"{i.item}: {i.message}" for i in report.of(severity)]


def box(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((H, W), dtype=bool)
    mask[rows, cols] = True
    return mask


# --- geometry ------------------------------------------------------------------------------------


def test_rectangle_takes_the_pixels_whose_centre_is_inside(tmp_path):
    _, ann, report = load_one(tmp_path, [
        shape("a", [[2, 3], [10, 8]], "rectangle"),
        shape("b", [[29.5, 18.5], [20.4, 13.6]], "rectangle"),  # corners in any order, fractional
    ])
    assert report.issues == []
    assert np.array_equal(ann.segment_map == 1, box(slice(3, 8), slice(2, 10)))
    # centres c + 0.5 in (20.4, 29.5] and r + 0.5 in (13.6, 18.5]
    assert np.array_equal(ann.segment_map == 2, box(slice(14, 19), slice(20, 30)))


@settings(max_examples=60)
@given(st.lists(st.floats(0, 30, allow_nan=False).map(lambda v: round(v, 2)), min_size=4, max_size=4))
def test_rectangle_matches_pycocotools_on_its_corner_polygon(tmp_path_factory, xy):
    x0, x1 = sorted(xy[:2])
    y0, y1 = sorted(v * H / W for v in xy[2:])
    _, ann, _ = load_one(tmp_path_factory.mktemp("rect"), [shape("a", [[x0, y0], [x1, y1]], "rectangle")])
    expected = polygons_to_mask([[x0, y0, x1, y0, x1, y1, x0, y1]], H, W)
    assert np.array_equal(ann.segment_map == 1, expected)


def test_circle_takes_the_pixels_whose_centre_is_within_the_radius(tmp_path):
    _, ann, _ = load_one(tmp_path, [
        shape("small", [[5, 5], [5, 6.5]], "circle"),  # radius 1.5
        shape("large", [[20, 10], [22, 10]], "circle"),  # radius 2
    ])
    assert np.array_equal(ann.segment_map == 1, box(slice(4, 6), slice(4, 6)))
    large = box(slice(8, 12), slice(18, 22))
    large[[8, 8, 11, 11], [18, 21, 18, 21]] = False  # the corners' centres are sqrt(4.5) away
    assert np.array_equal(ann.segment_map == 2, large)


def test_polygon_is_rasterised_like_pycocotools(tmp_path):
    points = [[1.3, 2.2], [17.8, 4.1], [12.6, 16.9], [6.1, 11.4]]
    dataset, ann, report = load_one(tmp_path, [shape("leaf", points)])
    assert report.issues == []
    expected = polygons_to_mask([np.ravel(points).tolist()], H, W)
    assert expected.sum() > 100
    assert np.array_equal(ann.segment_map == 1, expected)
    assert ann.segments[1].category_id == dataset.categories.by_name("leaf").id


def test_oriented_rectangle_is_a_polygon(tmp_path):
    points = [[10, 2], [18, 10], [10, 18], [2, 10]]
    _, ann, _ = load_one(tmp_path, [shape("d", points, "oriented_rectangle")])
    assert np.array_equal(ann.segment_map == 1, polygons_to_mask([np.ravel(points).tolist()], H, W))


def test_points_outside_the_image_are_clipped_with_a_warning(tmp_path):
    _, ann, report = load_one(tmp_path, [
        shape("p", [[-5, -5], [6, -5], [6, 6], [-5, 6]]),
        shape("r", [[25, 15], [40, 30]], "rectangle"),
        shape("c", [[29, 0], [29, 2]], "circle"),
    ])
    assert np.array_equal(ann.segment_map == 1, box(slice(0, 6), slice(0, 6)))
    assert np.array_equal(ann.segment_map == 2, box(slice(15, 20), slice(25, 30)))
    assert np.array_equal(ann.segment_map == 3, box(slice(0, 2), slice(27, 30)) & ~box(slice(1, 2), slice(27, 28)))
    warnings = issues(report, Severity.WARNING)
    assert len(warnings) == 3 and all("outside the 30×20 image" in w and "clipped" in w for w in warnings)
    assert warnings[0].startswith("shapes[0] 'p'")


def test_polygon_far_outside_is_clipped_not_rasterised_huge(tmp_path):
    _, ann, report = load_one(tmp_path, [shape("big", [[-1e8, -1e8], [1e8, -1e8], [0, 1e8]])])
    assert (ann.segment_map == 1).all()
    assert "outside" in report.warnings[0].message
    _, _, report = load_one(tmp_path, [shape("absurd", [[0, 0], [1e12, 0], [0, 5]])])
    assert "absurdly far" in report.errors[0].message


def test_mask_shape_is_placed_at_its_first_point(tmp_path):
    crop = np.zeros((4, 5), dtype=np.uint8)
    crop[1:3, 1:4] = 1
    crop[0, 0] = 1
    _, ann, report = load_one(tmp_path, [
        shape("m", [[3, 2], [7, 5]], "mask", mask=png_b64(crop)),
        shape("edge", [[28, 18], [32, 21]], "mask", mask=png_b64(np.ones((4, 5), dtype=np.uint8))),
    ])
    expected = np.zeros((H, W), dtype=bool)
    expected[2:6, 3:8] = crop.astype(bool)
    assert np.array_equal(ann.segment_map == 1, expected)
    assert np.array_equal(ann.segment_map == 2, box(slice(18, 20), slice(28, 30)))
    assert [i.item for i in report.warnings] == ["shapes[1] 'edge'"]


def test_bad_mask_data_is_reported_and_skipped(tmp_path):
    _, ann, report = load_one(tmp_path, [
        shape("m", [[3, 2], [7, 5]], "mask", mask="not base64!"),
        shape("m", [[3, 2], [7, 5]], "mask", mask=base64.b64encode(b"no png").decode()),
        shape("m", [[3, 2], [7, 5]], "mask"),
    ])
    assert ann.segments == {}
    errors = issues(report, Severity.ERROR)
    assert "its mask is not valid base64" in errors[0]
    assert "the mask of shapes[1] 'm' is not an image" in errors[1] and "needs its mask" in errors[2]


# --- instances, overlaps and categories ----------------------------------------------------------


def test_group_id_joins_shapes_of_one_label(tmp_path):
    dataset, ann, report = load_one(tmp_path, [
        shape("person", [[0, 0], [4, 4]], "rectangle", group_id=7),
        shape("person", [[10, 0], [14, 4]], "rectangle"),
        shape("person", [[20, 0], [24, 4]], "rectangle", group_id=7),  # joins the first
        shape("bag", [[0, 10], [4, 14]], "rectangle", group_id=7),  # same group, other label: apart
        shape("person", [[10, 10], [14, 14]], "rectangle"),  # no group: an instance of its own
    ])
    assert report.issues == []
    assert [c.name for c in dataset.categories] == ["person", "bag"]
    person, bag = dataset.categories.by_name("person").id, dataset.categories.by_name("bag").id
    assert {sid: s.category_id for sid, s in ann.segments.items()} == {1: person, 2: person, 3: bag, 4: person}
    assert np.array_equal(ann.segment_map == 1, box(slice(0, 4), slice(0, 4)) | box(slice(0, 4), slice(20, 24)))
    assert np.array_equal(ann.segment_map == 2, box(slice(0, 4), slice(10, 14)))
    assert np.array_equal(ann.segment_map == 3, box(slice(10, 14), slice(0, 4)))
    assert np.array_equal(ann.segment_map == 4, box(slice(10, 14), slice(10, 14)))


def test_later_shapes_are_painted_on_top_and_losses_reported(tmp_path):
    _, ann, report = load_one(tmp_path, [
        shape("a", [[0, 0], [10, 10]], "rectangle"),  # 100 pixels, 25 covered by b
        shape("hidden", [[12, 2], [14, 4]], "rectangle"),  # entirely covered by c: dropped
        shape("b", [[5, 5], [15, 15]], "rectangle"),
        shape("c", [[11, 1], [16, 6]], "rectangle", group_id=3),
        shape("c", [[13, 3], [17, 8]], "rectangle", group_id=3),  # covers its own group: no loss
    ])
    assert set(np.unique(ann.segment_map)) == {0, 1, 2, 3}
    assert ann.areas() == {1: 75, 2: 100 - 8, 3: 25 + 20 - 9}
    assert issues(report, Severity.WARNING) == [
        "shapes[0] 'a': 25 of its 100 pixels are covered by later shapes",
        "shapes[2] 'b': 8 of its 100 pixels are covered by later shapes",
    ]
    assert issues(report, Severity.ERROR) == ["shapes[1] 'hidden': dropped: all its 4 pixels are covered by later shapes"]
    assert [s.category_id for s in ann.segments.values()] == [1, 3, 4]  # 'hidden' (id 2) keeps its category


def test_shape_without_pixels_is_dropped(tmp_path):
    _, ann, report = load_one(tmp_path, [shape("thin", [[2, 2], [2.2, 9], [2.1, 9]])])
    assert ann.segments == {}
    assert "covers no pixel" in report.errors[0].message


def test_lines_points_ignored_labels_and_unknown_types_are_reported(tmp_path):
    dataset, ann, report = load_one(tmp_path, [
        shape("lane", [[0, 0], [5, 5], [9, 2]], "linestrip"),
        shape("lane", [[0, 0], [5, 5]], "line"),
        shape("tip", [[3, 3]], "point"),
        shape("__ignore__", [[0, 0], [9, 0], [9, 9]]),
        shape("_background_", [[0, 0], [9, 0], [9, 9]]),
        shape("blob", [[0, 0], [9, 0], [9, 9]], "ellipse"),
        shape("", [[0, 0], [9, 0], [9, 9]]),
    ])
    assert ann.segments == {} and len(dataset.categories) == 0
    assert [i.severity for i in report.issues] == [Severity.WARNING] * 3 + [Severity.INFO] * 2 + [Severity.ERROR] * 2
    assert "linestrip has no area" in report.issues[0].message
    assert "unknown shape_type 'ellipse'" in report.issues[5].message


def test_too_few_points_and_self_intersection(tmp_path):
    bowtie = [[0, 0], [10, 10], [10, 0], [0, 10]]
    _, ann, report = load_one(tmp_path, [
        shape("a", [[0, 0], [5, 5]]),
        shape("b", bowtie),
        shape("c", [[1, 1], [2, 2], [3, 3]], "rectangle"),
        shape("d", [[1, 1]], "circle"),
    ])
    errors = issues(report, Severity.ERROR)
    assert errors[0] == "shapes[0] 'a': skipped: a polygon needs at least 3 points, this one has 2"
    assert "rectangle needs exactly 2 points" in errors[1] and "circle needs exactly 2 points" in errors[2]
    assert len(report.warnings) == 1 and "intersects itself" in report.warnings[0].message
    assert np.array_equal(ann.segment_map == 1, polygons_to_mask([np.ravel(bowtie).tolist()], H, W))


def test_descriptions_and_flags_are_noted(tmp_path):
    _, _, report = load_one(
        tmp_path, [shape("a", [[0, 0], [4, 4]], "rectangle", description="occluded", flags={"truncated": True})],
        flags={"night": True, "day": False},
    )
    notes = [i.message for i in report.of(Severity.INFO)]
    assert notes == ["image flags night are not carried over", "its description 'occluded' is not carried over",
                     "its flags truncated are not carried over"]


# --- images --------------------------------------------------------------------------------------


def test_record_names_the_image_relative_to_the_root(tmp_path):
    write_labelme(tmp_path / "set" / "sub", [shape("a", [[0, 0], [4, 4]], "rectangle")], name="x")
    dataset, report = load_labelme(tmp_path / "set")
    assert report.issues == []
    assert dataset.image_root == tmp_path / "set"
    record = dataset.images[0]
    assert (record.id, record.file_name, record.width, record.height) == (1, "sub/x.png", W, H)
    assert dataset.image_path(record).is_file()

    single, _ = load_labelme(tmp_path / "set" / "sub" / "x.json")
    assert single.image_root == tmp_path / "set" / "sub" and single.images[0].file_name == "x.png"


def test_windows_image_path_and_image_in_another_folder(tmp_path):
    write_image(tmp_path / "images" / "a.png", H, W)
    path = tmp_path / "labels" / "a.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document([], "..\\images\\a.png")))
    dataset, report = load_labelme(path)
    assert report.issues == [] and dataset.images[0].file_name == "../images/a.png"
    assert dataset.image_path(dataset.images[0]).resolve() == (tmp_path / "images" / "a.png").resolve()


def test_image_size_mismatch_is_an_error_and_the_image_size_wins(tmp_path):
    _, ann, report = load_one(tmp_path, [shape("a", [[0, 0], [4, 4]], "rectangle")], height=40, width=50)
    assert ann.segment_map.shape == (H, W)
    assert "is 50×40 but the image is 30×20" in report.errors[0].message


def test_embedded_image_is_noted_and_nothing_is_written(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (W, H), (9, 9, 9)).save(buffer, "PNG")
    path = write_labelme(tmp_path, [shape("a", [[0, 0], [4, 4]], "rectangle")], image=False,
                         imageData=base64.b64encode(buffer.getvalue()).decode())
    before = sorted(tmp_path.iterdir())
    dataset, report = load_labelme(path)
    assert sorted(tmp_path.iterdir()) == before == [path]
    assert dataset.images[0].file_name == "img.png" and report.ok
    assert [i.severity for i in report.issues] == [Severity.INFO]
    assert "embedded" in report.issues[0].message

    path.write_text(json.dumps(document([], imageData=base64.b64encode(buffer.getvalue()).decode(), height=99)))
    _, report = load_labelme(path)
    assert "is 30×99 but the image is 30×20" in report.errors[0].message


def test_missing_image(tmp_path):
    path = write_labelme(tmp_path, [shape("a", [[0, 0], [4, 4]], "rectangle")], image=False)
    dataset, report = load_labelme(path)
    assert dataset.images[0].annotation.segments and "Image not found: img.png" in report.errors[0].message
    _, report = load_labelme(path, check_images=False)
    assert report.issues == []


def test_size_missing_is_taken_from_the_image(tmp_path):
    path = write_labelme(tmp_path, [], imageHeight=None, imageWidth=None)
    dataset, report = load_labelme(path)
    assert (dataset.images[0].width, dataset.images[0].height) == (W, H)
    assert "taken from the image" in report.issues[0].message
    (tmp_path / "img.png").unlink()
    with pytest.raises(FormatError, match="imageHeight/imageWidth are missing"):
        load_labelme(path)


# --- folders -------------------------------------------------------------------------------------


def test_folder_categories_in_order_of_first_appearance(tmp_path):
    write_labelme(tmp_path / "b", [shape("dog", [[0, 0], [4, 4]], "rectangle")], name="b")
    write_labelme(tmp_path, [shape("cat", [[0, 0], [4, 4]], "rectangle"),
                             shape("dog", [[5, 5], [9, 9]], "rectangle")], name="a")
    dataset, report = load_labelme(tmp_path)
    assert report.issues == []
    assert [r.file_name for r in dataset.images] == ["a.png", "b/b.png"]
    assert [r.id for r in dataset.images] == [1, 2]
    assert [(c.id, c.name, c.isthing) for c in dataset.categories] == [(1, "cat", True), (2, "dog", True)]
    assert dataset.images[1].annotation.segments[1].category_id == 2


def test_folder_reports_a_bad_file_and_loads_the_rest(tmp_path):
    write_labelme(tmp_path, [shape("a", [[0, 0], [4, 4]], "rectangle")], name="good")
    (tmp_path / "bad.json").write_text("{not json")
    copy = document([shape("zebra", [[0, 0], [4, 4]], "rectangle")], "good.png")
    (tmp_path / "z_copy.json").write_text(json.dumps(copy))  # the same image again
    dataset, report = load_labelme(tmp_path)
    assert [r.file_name for r in dataset.images] == ["good.png"]
    assert [c.name for c in dataset.categories] == ["a"]
    assert [(i.image, i.severity) for i in report.issues] == [
        ("bad.json", Severity.ERROR), ("z_copy.json", Severity.ERROR)
    ]
    assert "not valid JSON (line 1, column 2" in report.issues[0].message
    assert "already annotated by good.json" in report.issues[1].message


def test_folder_with_nothing_loadable(tmp_path):
    with pytest.raises(FormatError, match="holds no labelme JSON files"):
        load_labelme(tmp_path)
    (tmp_path / "a.json").write_text("[]")
    with pytest.raises(FormatError, match=r"None of the 1 JSON files.*a\.json: the top level must be an object"):
        load_labelme(tmp_path)
    with pytest.raises(FormatError, match="does not exist"):
        load_labelme(tmp_path / "missing")


def test_load_dataset_detects_labelme(tmp_path):
    write_labelme(tmp_path, [shape("a", [[0, 0], [4, 4]], "rectangle")])
    assert detect_format(tmp_path) is DatasetFormat.LABELME
    dataset, _ = load_dataset(tmp_path)
    assert len(dataset.images) == 1


# --- malformed files -----------------------------------------------------------------------------

GOOD = [shape("a", [[0, 0], [4, 4]], "rectangle"), shape("b", [[1, 1], [9, 1], [5, 8]])]


def _set(doc: dict, path: tuple, value: object) -> dict:
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("path, value, where", [
    (("shapes",), {"a": 1}, "shapes must be a list"),
    (("shapes", 1), "polygon", r"shapes\[1\] must be an object"),
    (("shapes", 1, "label"), 5, r"shapes\[1\]\.label must be a string"),
    (("shapes", 1, "points"), "1,2", r"shapes\[1\]\.points must be a list of \[x, y\] pairs"),
    (("shapes", 1, "points", 2), [1, 2, 3], r"shapes\[1\]\.points\[2\] must be \[x, y\]"),
    (("shapes", 0, "points", 0), [True, 0], r"shapes\[0\]\.points\[0\] must be \[x, y\]"),
    (("shapes", 0, "points", 0), [float("nan"), 0], r"shapes\[0\]\.points\[0\] must be \[x, y\] with two finite"),
    (("shapes", 0, "points", 0), [10**400, 0], r"shapes\[0\]\.points\[0\]"),
    (("shapes", 0, "shape_type"), 3, r"shapes\[0\]\.shape_type must be a string"),
    (("shapes", 0, "group_id"), "7", r"shapes\[0\]\.group_id must be an integer or null"),
    (("shapes", 0, "mask"), [1], r"shapes\[0\]\.mask must be a base64 PNG"),
    (("shapes", 0, "flags"), ["x"], r"shapes\[0\]\.flags must be an object"),
    (("shapes", 0, "description"), 1, r"shapes\[0\]\.description must be a string"),
    (("imagePath",), None, "imagePath must name the image file"),
    (("imageData",), 12, "imageData must be base64 text or null"),
    (("imageHeight",), -3, "imageHeight must be a positive integer"),
    (("imageWidth",), 2.5, "imageWidth must be a positive integer"),
    (("imageHeight",), 10**8, r"imageWidth × imageHeight is too large \(30×100000000, .*--max-pixels"),
    (("flags",), "night", "flags must be an object"),
])
def test_malformed_document_names_file_and_json_path(tmp_path, path, value, where):
    json_path = write_labelme(tmp_path, [])
    json_path.write_text(json.dumps(_set(document(copy.deepcopy(GOOD)), path, value)))
    with pytest.raises(FormatError, match=rf"img\.json: {where}.*Fix it in labelme"):
        load_labelme(json_path)


@pytest.mark.parametrize("text, problem", [
    ("", "not valid JSON"),
    ("{\"shapes\": [}", r"not valid JSON \(line 1, column 13"),
    ("{\"imagePath\": \"a.png\"}", "shapes is missing: this is not a labelme file"),
    ("[" * 100_000, "not valid JSON"),
    ("{\"shapes\": []," + "\"imageHeight\": " + "9" * 5000 + "}", "not valid JSON"),
])
def test_unreadable_json(tmp_path, text, problem):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=problem):
        load_labelme(path)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(FormatError, match="not UTF-8"):
        load_labelme(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
MUTATION_PATHS = st.sampled_from([
    (), ("shapes",), ("shapes", 0), ("shapes", 1), ("shapes", 0, "points"), ("shapes", 1, "points"),
    ("shapes", 1, "points", 0), ("shapes", 0, "label"), ("shapes", 1, "shape_type"), ("shapes", 0, "group_id"),
    ("shapes", 1, "mask"), ("shapes", 0, "flags"), ("imagePath",), ("imageData",), ("imageHeight",),
    ("imageWidth",), ("flags",), ("version",),
])
SHAPE_TYPES = st.sampled_from(["polygon", "rectangle", "circle", "mask", "line", "point", "linestrip", "x", None])


@settings(max_examples=200)
@given(mutations=st.lists(st.tuples(MUTATION_PATHS, JSON_VALUES | SHAPE_TYPES), min_size=1, max_size=3))
def test_malformed_documents_give_format_error_or_report(tmp_path_factory, mutations):
    folder = tmp_path_factory.mktemp("fuzz")
    write_image(folder / "img.png", H, W)
    doc: object = document(copy.deepcopy(GOOD))
    for path, value in mutations:
        try:
            doc = _set(doc, path, value) if path else value
        except (KeyError, IndexError, TypeError):
            continue  # the path no longer exists in the mutated document
    (folder / "img.json").write_text(json.dumps(doc))
    try:
        dataset, report = load_labelme(folder / "img.json")
    except FormatError as exc:
        assert "img.json" in str(exc)
        return
    assert isinstance(report, Report)
    record = dataset.images[0]
    assert record.annotation.segment_map.shape == (record.height, record.width)
    assert set(record.annotation.segments) == set(np.unique(record.annotation.segment_map)) - {0}


COORDINATES = st.one_of(st.floats(-40, 70), st.integers(-5, 35), st.floats(-1e12, 1e12))
RANDOM_SHAPES = st.lists(
    st.builds(
        shape,
        label=st.sampled_from(["a", "b", "", "_background_"]),
        points=st.lists(st.lists(COORDINATES, min_size=2, max_size=2), max_size=6),
        shape_type=SHAPE_TYPES.filter(lambda t: t is not None),
        group_id=st.none() | st.integers(0, 2),
        mask=st.none() | st.sampled_from([png_b64(np.ones((3, 4), np.uint8)), "AAAA", "é"]),
    ),
    max_size=6,
)


@settings(max_examples=100)
@given(shapes=RANDOM_SHAPES)
def test_random_shapes_load_with_a_consistent_report(tmp_path_factory, shapes):
    _, ann, report = load_one(tmp_path_factory.mktemp("shapes"), shapes)
    assert set(ann.segments) == set(np.unique(ann.segment_map)) - {0}
    assert len(report.issues) >= sum(s["shape_type"] in ("line", "point", "linestrip", "x") for s in shapes)
