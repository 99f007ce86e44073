"""Names from datasets: which ones cannot be a path or text, and readers that stay clean when a valid name
joined to its folder is longer than the system's limit."""

import json

import pytest

from segview.io.coco import load_coco
from segview.io.file_names import MAX_DEPTH, file_name_problem, is_file, shown, text_problem
from segview.io.labelme import load_labelme


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a\x00.png", "contains a NUL character"),
        ("\ud800.png", r"lone surrogate '\ud800'"),
        ("x/\udcff.png", r"lone surrogate '\udcff'"),
        ("a" * 256, "has a part of 256 bytes, more than the 255"),
        ("é" * 128 + ".png", "has a part of 260 bytes"),  # bytes, not characters
        ("/".join(["b" * 250] * 17), "is 4266 bytes long, more than the 4095"),
        ("b/" * (MAX_DEPTH + 1) + "x.png", f"goes {MAX_DEPTH + 1} folders deep, more than the {MAX_DEPTH}"),
        ("b\\" * (MAX_DEPTH + 1) + "x.png", "folders deep"),  # Windows separators count too
    ],
)
def test_names_no_file_system_takes_are_explained(name, problem):
    assert problem in file_name_problem(name)


@pytest.mark.parametrize("name", ["img.png", "a/b/c.jpg", "../up.png", "/abs/x.png", "日本/写真.png", "b/" * MAX_DEPTH + "x"])
def test_ordinary_names_pass(name):
    assert file_name_problem(name) is None and text_problem(name) is None


def test_shown_escapes_and_cuts():
    assert shown("a\x00\ud800") == r"'a\x00\ud800'"
    assert shown("z" * 50) == repr("z" * 40) + "..."


def test_is_file_is_false_for_a_path_too_long_to_look_up(tmp_path):
    (tmp_path / "f").write_text("")
    assert is_file(tmp_path / "f") and not is_file(tmp_path / ("a" * 300))


@pytest.fixture
def long_joined(tmp_path):
    """A valid 4,019-byte name (20 parts of 200 bytes) in a folder whose path makes it longer than 4,096."""
    folder = tmp_path / ("c" * 120)
    folder.mkdir()
    return folder, "/".join(["b" * 200] * 20) + ".png"


def test_coco_reports_an_image_whose_joined_path_is_too_long(long_joined):
    folder, name = long_joined
    path = folder / "c.json"
    path.write_text(json.dumps({"images": [{"id": 1, "file_name": name, "width": 2, "height": 2}],
                                "annotations": [], "categories": []}))
    dataset, report = load_coco(path)
    assert [r.file_name for r in dataset.images] == [name]
    assert [i.message for i in report.errors] == [f"Cannot open {folder / name}: File name too long. Check the path."]


def test_labelme_reports_an_image_whose_joined_path_is_too_long(long_joined):
    folder, name = long_joined
    (folder / "x.json").write_text(json.dumps({"shapes": [], "imagePath": name, "imageHeight": 2,
                                               "imageWidth": 2}))
    dataset, report = load_labelme(folder)
    assert [r.file_name for r in dataset.images] == [name]
    assert "File name too long" in report.errors[0].message
