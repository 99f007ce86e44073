"""Semantic PNG masks: export equals the semantic view, dtypes, palette, class files, load, bad input."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Severity
from segview.core.segments import Annotation, Segment
from segview.core.views import semantic_view
from segview.errors import FormatError, WriteError
from segview.io.semantic_png import load_semantic_png, save_semantic_png
from tests.factories import make_categories, make_dataset, write_image


def _read(path: Path) -> tuple[str, np.ndarray]:
    with Image.open(path) as png:
        return png.mode, np.asarray(png)


def _messages(report, severity: Severity) -> list[str]:
    return [f"{i.image}: {i.message}" for i in report.of(severity)]


def test_export_equals_the_semantic_view(tmp_path):
    dataset = make_dataset(None, n_images=3)
    assert save_semantic_png(dataset, tmp_path).issues == []
    for record in dataset.images:
        mode, values = _read(tmp_path / record.file_name)
        assert mode == "L" and values.dtype == np.uint8
        assert np.array_equal(values, semantic_view(record.annotation))
    classes = json.loads((tmp_path / "classes.json").read_text())
    assert classes[3] == {
        "id": 4,
        "name": "sky",
        "supercategory": "background",
        "isthing": 0,
        "color": list(dataset.categories.color_of(4)),
    }
    assert (tmp_path / "classes.txt").read_text().splitlines() == [
        "1 person",
        "2 car",
        "3 dog",
        "4 sky",
        "5 road",
    ]


def test_progress_sees_every_image_once_in_order(tmp_path):
    dataset = make_dataset(None, n_images=5, seed=2)
    dataset.images[2].annotation = None  # no mask, but done
    calls = []
    save_semantic_png(dataset, tmp_path, progress=lambda *call: calls.append(call))
    assert calls == [(k, 5) for k in range(1, 6)]
    read = []
    load_semantic_png(tmp_path, progress=lambda *call: read.append(call))
    assert read == [(1, 4), (2, 4), (3, 4), (4, 4)]  # one per mask


def _big_id_dataset() -> Dataset:
    categories = CategorySet([Category(1, "cat"), Category(300, "wall", isthing=False)])
    ann = Annotation(5, 7)
    ann.add(np.pad(np.ones((2, 3), bool), ((0, 3), (0, 4))), Segment(1))
    ann.add(np.pad(np.ones((2, 7), bool), ((3, 0), (0, 0))), Segment(300))
    return Dataset(categories, [ImageRecord(1, "a/b.jpg", 7, 5, ann)])


def test_uint16_when_ids_do_not_fit_in_uint8(tmp_path):
    dataset = _big_id_dataset()
    assert save_semantic_png(dataset, tmp_path).issues == []
    mode, values = _read(tmp_path / "a" / "b.png")
    assert mode.startswith("I;16") and values.dtype == np.uint16
    assert np.array_equal(values, semantic_view(dataset.images[0].annotation))
    assert values.max() == 300


def test_uint16_can_be_forced(tmp_path):
    dataset = make_dataset(None, n_images=1)
    save_semantic_png(dataset, tmp_path, dtype="uint16")
    mode, values = _read(tmp_path / "img_000.png")
    assert mode.startswith("I;16")
    assert np.array_equal(values, semantic_view(dataset.images[0].annotation))


def test_forced_uint8_with_big_ids_is_a_report_error(tmp_path):
    report = save_semantic_png(_big_id_dataset(), tmp_path, dtype="uint8")
    assert _messages(report, Severity.ERROR) == [
        "a/b.jpg: class ids up to 300 do not fit in uint8; no mask written "
        "(use dtype='auto' or category_id_base=1)"
    ]
    assert not (tmp_path / "a" / "b.png").exists()


def test_category_id_base_makes_big_ids_fit(tmp_path):
    dataset = _big_id_dataset()
    assert save_semantic_png(dataset, tmp_path, dtype="uint8", category_id_base=1).ok
    _, values = _read(tmp_path / "a" / "b.png")
    expected = semantic_view(dataset.images[0].annotation)
    assert np.array_equal(values, np.where(expected == 300, 2, expected))
    assert [c["id"] for c in json.loads((tmp_path / "classes.json").read_text())] == [1, 2]


def test_palette_png_holds_ids_and_category_colours(tmp_path):
    dataset = make_dataset(None, n_images=2)
    assert save_semantic_png(dataset, tmp_path, palette=True).issues == []
    for record in dataset.images:
        with Image.open(tmp_path / record.file_name) as png:
            assert png.mode == "P"
            colours = np.array(png.getpalette()[: 256 * 3]).reshape(-1, 3)
            assert np.array_equal(np.asarray(png), semantic_view(record.annotation))
        for category in dataset.categories:
            assert tuple(colours[category.id]) == category.color
        assert tuple(colours[0]) == (0, 0, 0)


def test_bad_dtype_arguments_are_programming_errors(tmp_path):
    with pytest.raises(ValueError, match="dtype"):
        save_semantic_png(make_dataset(None, 1), tmp_path, dtype="float")
    with pytest.raises(ValueError, match="8-bit"):
        save_semantic_png(make_dataset(None, 1), tmp_path, dtype="uint16", palette=True)


def test_save_reports_what_it_cannot_write(tmp_path):
    ann = Annotation(3, 3)
    ann.add(np.eye(3, dtype=bool), Segment(9))
    ann.segment_map[0, 2] = 40
    dataset = Dataset(
        CategorySet([Category(1, "a")]),
        [
            ImageRecord(1, "x.jpg", 3, 3, ann),
            ImageRecord(2, "x.png", 3, 3, ann.copy()),
            ImageRecord(3, "y.jpg", 3, 3),
        ],
    )
    report = save_semantic_png(dataset, tmp_path)
    errors = _messages(report, Severity.ERROR)
    assert "x.jpg: 1 segment(s) of unknown category id 9 are written as void" in errors
    assert any(m.startswith("x.jpg: pixels painted with id(s) [40]") for m in errors)
    assert "x.png: its mask name x.png is already used by x.jpg; no mask written" in errors
    assert "y.jpg: the image has no annotation; no mask written" in _messages(report, Severity.INFO)
    _, values = _read(tmp_path / "x.png")
    assert not values.any()
    assert not (tmp_path / "y.png").exists()


def test_a_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    def failing_fsync(fd):  # the PNG's bytes are in its temporary file when the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(WriteError, match="disk is full"):
        save_semantic_png(make_dataset(None, 1), tmp_path / "out")
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


# --- loading ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"palette": True}, {"dtype": "uint16"}])
def test_round_trip_through_load(tmp_path, options):
    dataset = make_dataset(tmp_path / "images", n_images=3, seed=4)
    save_semantic_png(dataset, tmp_path / "masks", **options)
    loaded, report = load_semantic_png(tmp_path / "masks", tmp_path / "images")
    assert report.errors == [] and report.warnings == []
    assert any("connected component" in i.message for i in report.of(Severity.INFO))
    assert loaded.categories == dataset.categories
    assert loaded.image_root == tmp_path / "images"
    for original, back in zip(dataset.images, loaded.images, strict=True):
        assert (back.file_name, back.width, back.height) == (
            original.file_name,
            original.width,
            original.height,
        )
        assert np.array_equal(semantic_view(back.annotation), semantic_view(original.annotation))
        labels = semantic_view(original.annotation)
        for category in dataset.categories:
            mask = labels == category.id
            found = [sid for sid, s in back.annotation.segments.items() if s.category_id == category.id]
            if category.isthing:  # one instance per 8-connected component, each exactly that component
                components, count = ndimage.label(mask, structure=np.ones((3, 3)))
                assert len(found) == count
                assert {(back.annotation.segment_map == sid).tobytes() for sid in found} == {
                    (components == k).tobytes() for k in range(1, count + 1)
                }
            else:
                assert len(found) == int(mask.any())


def test_mask_names_without_image_root(tmp_path):
    save_semantic_png(_big_id_dataset(), tmp_path)
    loaded, report = load_semantic_png(tmp_path)
    assert report.ok and loaded.image_root is None
    record = loaded.images[0]
    assert (record.file_name, record.width, record.height) == ("a/b.png", 7, 5)
    assert sorted(s.category_id for s in record.annotation.segments.values()) == [1, 300]


def test_classes_txt_fallback_reads_every_class_as_stuff(tmp_path):
    dataset = make_dataset(None, n_images=1)
    save_semantic_png(dataset, tmp_path)
    (tmp_path / "classes.json").unlink()
    loaded, report = load_semantic_png(tmp_path)
    assert [c.name for c in loaded.categories] == ["person", "car", "dog", "sky", "road"]
    assert not any(c.isthing for c in loaded.categories)
    assert any("classes.txt has no thing/stuff flags" in i.message for i in report.of(Severity.INFO))
    present = np.unique(semantic_view(dataset.images[0].annotation))
    assert len(loaded.images[0].annotation.segments) == np.count_nonzero(present)


def _write_mask(folder: Path, name: str, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(labels).save(folder / name)


def _write_classes(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "classes.json").write_text(
        json.dumps([{"id": 1, "name": "person"}, {"id": 4, "name": "sky", "isthing": 0}])
    )


def test_mask_of_wrong_size_is_a_report_error(tmp_path):
    _write_classes(tmp_path / "masks")
    _write_mask(tmp_path / "masks", "a.png", np.ones((4, 5), np.uint8))
    write_image(tmp_path / "images" / "a.jpg", 6, 5)
    loaded, report = load_semantic_png(tmp_path / "masks", tmp_path / "images")
    assert _messages(report, Severity.ERROR) == [
        "a.jpg: mask a.png is 5×4 but the image is 5×6; the image has no annotation"
    ]
    record = loaded.images[0]
    assert (record.file_name, record.width, record.height, record.annotation) == ("a.jpg", 5, 6, None)


def test_missing_image_is_a_report_error_unless_unchecked(tmp_path):
    _write_classes(tmp_path / "masks")
    _write_mask(tmp_path / "masks", "a.png", np.ones((4, 5), np.uint8))
    (tmp_path / "images").mkdir()
    _, report = load_semantic_png(tmp_path / "masks", tmp_path / "images")
    assert _messages(report, Severity.ERROR) == [f"a.png: no image for mask a.png in {tmp_path / 'images'}"]
    _, report = load_semantic_png(tmp_path / "masks", tmp_path / "images", check_images=False)
    assert report.ok


def test_unknown_class_values_become_void(tmp_path):
    labels = np.array([[0, 1, 4], [7, 7, 255]], np.uint8)
    _write_classes(tmp_path)
    _write_mask(tmp_path, "a.png", labels)
    loaded, report = load_semantic_png(tmp_path)
    assert _messages(report, Severity.ERROR) == [
        "a.png: class value(s) [7, 255] are not in the class list; their 3 pixels are void"
    ]
    assert np.array_equal(
        semantic_view(loaded.images[0].annotation), np.where(np.isin(labels, [1, 4]), labels, 0)
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n broken", "cannot be read"),
        (None, "of mode RGB, not a single-channel class-id PNG"),
    ],
)
def test_unreadable_or_colour_masks_are_report_errors(tmp_path, content, expected):
    _write_classes(tmp_path)
    if content is None:
        Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "a.png")
    else:
        (tmp_path / "a.png").write_bytes(content)
    loaded, report = load_semantic_png(tmp_path)
    assert loaded.images == [] and expected in report.errors[0].message


def test_missing_class_file_is_a_format_error(tmp_path):
    _write_mask(tmp_path, "a.png", np.ones((2, 2), np.uint8))
    with pytest.raises(FormatError, match="has no classes.json or classes.txt"):
        load_semantic_png(tmp_path)


def test_missing_mask_folder_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="is not a folder"):
        load_semantic_png(tmp_path / "nope")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "classes.json",
            json.dumps([{"id": 1, "name": "a"}, {"id": 2}]),
            r"classes.json: \[1\].name is missing",
        ),
        ("classes.json", json.dumps({"id": 1}), "the document must be a list"),
        ("classes.json", "[{", "is not valid JSON"),
        ("classes.txt", "1 a\n\nx b\n", "classes.txt, line 3: 'x b' is not 'id name'"),
        ("classes.txt", "1 a\n2\n", "classes.txt, line 2"),
        ("classes.txt", "1 a\n1 b\n", "classes.txt, line 2"),
    ],
)
def test_malformed_class_files_are_format_errors(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text)
    with pytest.raises(FormatError, match=expected):
        load_semantic_png(tmp_path)


def test_several_matching_images_are_reported(tmp_path):
    _write_classes(tmp_path / "masks")
    _write_mask(tmp_path / "masks", "a.png", np.ones((4, 5), np.uint8))
    write_image(tmp_path / "images" / "a.jpg", 4, 5)
    write_image(tmp_path / "images" / "a.png", 4, 5)
    loaded, report = load_semantic_png(tmp_path / "masks", tmp_path / "images")
    assert loaded.images[0].file_name == "a.jpg"
    assert _messages(report, Severity.WARNING) == [
        "a.jpg: several images match mask a.png (a.jpg, a.png); using a.jpg"
    ]


def test_categories_factory_round_trip_keeps_thing_flags(tmp_path):
    dataset = Dataset(make_categories())
    save_semantic_png(dataset, tmp_path)
    loaded, report = load_semantic_png(tmp_path)
    assert loaded.categories == dataset.categories
    assert _messages(report, Severity.WARNING) == [f"None: {tmp_path} holds no PNG masks"]


def test_images_beside_their_masks_are_found(tmp_path):
    _write_classes(tmp_path)
    _write_mask(tmp_path, "a.png", np.ones((4, 5), np.uint8))
    write_image(tmp_path / "a.jpg", 4, 5)
    loaded, report = load_semantic_png(tmp_path, tmp_path)
    assert report.errors == [] and loaded.images[0].file_name == "a.jpg"


def test_category_id_base_zero_would_collide_with_void(tmp_path):
    report = save_semantic_png(make_dataset(None, 1), tmp_path, category_id_base=0)
    assert "category_id_base 0 is too small for this format: use 1 or more" in report.errors[0].message
    assert list(tmp_path.iterdir()) == []


def test_class_ids_beyond_16_bits_are_a_report_error_that_says_to_renumber(tmp_path):
    big = 2**31 - 1
    ann = Annotation(5, 7)
    ann.add(np.pad(np.ones((2, 3), bool), ((0, 3), (0, 4))), Segment(big))
    dataset = Dataset(CategorySet([Category(big, "wall", isthing=False)]), [ImageRecord(1, "a/b.jpg", 7, 5, ann)])
    report = save_semantic_png(dataset, tmp_path)
    assert _messages(report, Severity.ERROR) == [
        f"a/b.jpg: class ids up to {big} do not fit in uint16; no mask written (renumber the classes from 1: "
        "--category-id-base 1, or 'Renumber from' 1 in the export dialog)"
    ]
    assert not (tmp_path / "a" / "b.png").exists()
    assert save_semantic_png(dataset, tmp_path / "renumbered", category_id_base=1).ok


def test_a_recorded_image_folder_too_long_to_look_up_is_not_used(tmp_path):
    masks = tmp_path / "export" / "semantic"
    assert save_semantic_png(make_dataset(tmp_path / "images", n_images=1), masks).ok
    manifest = {"written_by": "segview export", "image_root": "/" + "a" * 5000,
                "outputs": {"semantic-png": [f"semantic/{p.name}" for p in masks.iterdir()]}}
    (tmp_path / "export" / ".segview-export.json").write_text(json.dumps(manifest))
    dataset, report = load_semantic_png(masks)
    assert report.ok and dataset.image_root is None
    assert [r.file_name for r in dataset.images] == ["img_000.png"]
