"""The reproducers of the 2026-12-04 field report (r1..r7b, r10): each ends with one clear line naming the
problem and a non-zero exit, no traceback, and nothing written to --out."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segview.cli import main

FIXTURES = Path(__file__).parent / "field_report"


@pytest.fixture
def data(tmp_path):
    """A writable copy of the reproducers, with a 32×24 img0.png beside them (the labelme files' image)."""
    folder = tmp_path / "datasets"
    shutil.copytree(FIXTURES, folder)
    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(folder / "img0.png")
    return folder


def _error_line(capsys) -> str:
    """The one line the command printed on stderr, checked to be segview's error and the only output."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("segview: error: "), captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("file", "args", "named"),
    [
        ("r1_zero_based.json", ["validate"], "categories[0] must be an object, not the number 5"),
        ("r2_surrogate_filename.json", ["validate"], r"images[0].file_name '\ud800.png' is not valid Unicode"),
        ("r5_long_name.json", ["validate", "--no-check-images"], "has a part of 300 bytes, more than the 255"),
    ],
)
def test_validate_reproducer_names_the_entry_in_one_line(data, capsys, file, args, named):
    assert main([*args, str(data / file)]) == 2
    assert named in _error_line(capsys)


@pytest.mark.parametrize(
    ("file", "to", "named"),
    [
        ("r1_zero_based.json", "coco", "categories[0] must be an object"),
        ("r2_surrogate_category.json", "semantic-png", r"categories[0].name '\ud800' is not valid Unicode"),
        ("r3_nul_filename.json", "coco-panoptic", r"images[0].file_name 'a\x00.png' contains a NUL character"),
        ("r3_nul_filename.json", "semantic-png", "contains a NUL character"),
        ("r4_deep_filename.json", "semantic-png", "goes 2000 folders deep, more than the 64"),
        ("r10_pan.json", "semantic-png", "categories[0].id must be between 1 and 2147483647, not 8589934592"),
    ],
)
def test_convert_reproducer_fails_in_one_line_and_writes_nothing(data, tmp_path, capsys, file, to, named):
    out = tmp_path / "X" / ("out.json" if to != "semantic-png" else "masks")
    assert main(["convert", str(data / file), "--to", to, "--out", str(out), "--no-check-images"]) == 2
    assert named in _error_line(capsys)
    assert not (tmp_path / "X").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["datasets"]


def test_labelme_image_path_too_long_names_the_file_and_the_key(data, capsys):
    assert main(["validate", str(data / "r6_labelme_long")]) == 2
    line = _error_line(capsys)
    assert "x.json: imagePath 'aaaa" in line and "more than the 255" in line


@pytest.mark.parametrize(
    ("make", "reported"),
    [
        (lambda p: os.symlink("/nonexistent/x.json", p / "dangling.json"),
         "dangling.json: skipped: a symbolic link to /nonexistent/x.json, which does not exist"),
        (lambda p: (p / "a_folder.json").mkdir(), "a_folder.json: skipped: a folder, not a labelme JSON file"),
    ],
    ids=["r7_dangling_symlink", "r7b_folder_named_json"],
)
def test_labelme_folder_reports_the_bad_entry_and_reads_the_rest(data, capsys, make, reported):
    folder = data / "r7_labelme"
    make(folder)
    assert main(["validate", str(folder)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and captured.err == ""
    assert f"{folder}: labelme, 1 image(s)" in captured.out
    assert [line.strip() for line in captured.out.splitlines() if "error:" in line] == [f"error: {reported}"]
    assert captured.out.rstrip().endswith("INVALID")


def test_a_name_the_terminal_cannot_encode_is_printed_escaped(tmp_path, capsys):
    folder = tmp_path / "labelme"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps({"shapes": [], "imagePath": "a.png", "imageHeight": 2,
                                                  "imageWidth": 2}))
    (Path(os.fsdecode(bytes(folder) + b"/\xff.json"))).write_text("[]")  # a Latin-1 name on a UTF-8 system
    assert main(["validate", str(folder), "--no-check-images"]) == 1
    out = capsys.readouterr().out
    assert "error: \\udcff.json: skipped:" in out and "the top level must be an object" in out


@pytest.mark.parametrize("to", ["semantic-png", "coco-panoptic"])
def test_a_convert_that_fails_while_writing_leaves_out_as_it_was(tmp_path, capsys, to):
    """The second image's mask name (its 254-byte name with .png) is too long for the file system: the
    first mask was already written when that failed, and must not be left behind."""
    names = ["img0.png", "a" * 252 + ".j"]
    document = {
        "images": [{"id": i, "file_name": n, "width": 8, "height": 6} for i, n in enumerate(names, 1)],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [{"id": i, "image_id": i, "category_id": 1, "segmentation": [[1, 1, 6, 1, 6, 5]]}
                        for i in (1, 2)],
    }
    (tmp_path / "in.json").write_text(json.dumps(document))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    target = out / ("masks" if to == "semantic-png" else "panoptic.json")
    assert main(["convert", str(tmp_path / "in.json"), "--to", to, "--out", str(target), "--no-check-images"]) == 2
    assert "File name too long" in _error_line(capsys)
    assert [p.name for p in out.rglob("*")] == ["notes.txt"]


@pytest.mark.parametrize("to", ["semantic-png", "coco-panoptic"])
def test_a_convert_that_fails_into_a_new_folder_leaves_no_folder(tmp_path, capsys, to):
    """As above, into a folder that did not exist: the failed convert leaves no empty folder behind."""
    document = {
        "images": [{"id": i, "file_name": n, "width": 8, "height": 6}
                   for i, n in enumerate(["img0.png", "a" * 252 + ".j"], 1)],
        "categories": [{"id": 1, "name": "cat"}],
        "annotations": [{"id": i, "image_id": i, "category_id": 1, "segmentation": [[1, 1, 6, 1, 6, 5]]}
                        for i in (1, 2)],
    }
    (tmp_path / "in.json").write_text(json.dumps(document))
    target = tmp_path / "out" / ("masks" if to == "semantic-png" else "panoptic.json")
    assert main(["convert", str(tmp_path / "in.json"), "--to", to, "--out", str(target), "--no-check-images"]) == 2
    assert "File name too long" in _error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["convert", "{data}/r10_pan.json", "--to", "coco", "--out", "{tmp}/" + "a" * 300 + ".json"],
         "File name too long"),
        (["validate", "{tmp}/loop"], "Too many levels of symbolic links"),
        (["convert", "{data}/r10_pan.json", "--to", "semantic-png", "--out", "{tmp}/loop/masks"],
         "Too many levels of symbolic links"),
        (["export", "{tmp}/loop", "--to", "coco", "--out", "{tmp}/out"], "Too many levels of symbolic links"),
        (["validate", "{data}/r1_zero_based.json", "--images", "{tmp}/" + "b" * 300], "File name too long"),
    ],
)
def test_a_path_argument_the_system_cannot_look_up_is_one_line(data, tmp_path, capsys, argv, named):
    os.symlink("loop", tmp_path / "loop")  # a link to itself
    assert main([a.format(data=data, tmp=tmp_path) for a in argv]) == 2
    line = _error_line(capsys)
    assert line.startswith("segview: error: Cannot use ") and named in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datasets", "loop"]
