"""`segview convert` exits non-zero on reading errors unless told to proceed, and writes like an export:
never over files segview did not write, never a partial set of PNGs."""

import json
from pathlib import Path

import pytest

from segview.cli import main
from segview.errors import WriteError
from segview.io import coco_panoptic
from segview.io.coco import save_coco
from segview.io.manifest import EXPORT_MANIFEST
from tests.factories import make_dataset

# The field report's r9_unknown_category.json: `validate` exits 1, `convert` exited 0 dropping the annotation.
UNKNOWN_CATEGORY = {
    "images": [{"id": 1, "file_name": "img0.png", "width": 32, "height": 24}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "segmentation": [[2, 2, 10, 2, 10, 10]]}],
    "categories": [{"id": 1, "name": "a"}],
}


@pytest.fixture
def unknown_category(tmp_path):
    path = tmp_path / "r9.json"
    path.write_text(json.dumps(UNKNOWN_CATEGORY))
    return path


def test_reading_errors_stop_convert_with_exit_1_and_nothing_written(unknown_category, tmp_path, capsys):
    out = tmp_path / "out" / "x.json"
    assert main(["convert", str(unknown_category), "--to", "coco", "--out", str(out), "--no-check-images"]) == 1
    captured = capsys.readouterr()
    assert "category_id 7 is not in 'categories'; skipped" in captured.out
    assert "Nothing written: reading found 1 error(s)" in captured.err and "--allow-errors" in captured.err
    assert not out.parent.exists()


def test_allow_errors_writes_without_what_was_dropped_and_says_so(unknown_category, tmp_path, capsys):
    out = tmp_path / "x.json"
    argv = ["convert", str(unknown_category), "--to", "coco", "--out", str(out), "--no-check-images", "--allow-errors"]
    assert main(argv) == 1  # written, but not all of it: still not a clean run
    printed = capsys.readouterr().out
    assert "category_id 7 is not in 'categories'; skipped" in printed
    assert "1 reading error(s) above: what they name was left out" in printed
    assert json.loads(out.read_text())["annotations"] == []


def test_convert_refuses_to_overwrite_a_file_it_did_not_write_and_replaces_its_own(tmp_path, capsys):
    dataset = make_dataset(tmp_path / "images", n_images=2)
    source = tmp_path / "images" / "instances.json"
    assert save_coco(dataset, source).ok
    mine = tmp_path / "out" / "panoptic.json"
    mine.parent.mkdir()
    mine.write_text("my own panoptic file")
    argv = ["convert", str(source), "--to", "coco-panoptic", "--out", str(mine)]
    assert main(argv) == 2
    assert "segview did not write it" in capsys.readouterr().err
    assert mine.read_text() == "my own panoptic file" and not (tmp_path / "out" / "panoptic").exists()
    mine.unlink()
    assert main(argv) == 0  # then segview's own output is replaced by the next convert
    assert main(argv) == 0
    manifest = json.loads((tmp_path / "out" / EXPORT_MANIFEST).read_text())
    assert manifest["outputs"]["coco-panoptic"] == ["panoptic.json", "panoptic/img_000.png", "panoptic/img_001.png"]
    (tmp_path / "out" / "panoptic" / "notes.txt").write_text("mine")
    assert main(argv) == 2
    assert (tmp_path / "out" / "panoptic" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("fmt, out", [("semantic-png", "masks"), ("coco-panoptic", "pan.json")])
def test_a_convert_that_fails_midway_leaves_no_partial_set_of_pngs(tmp_path, monkeypatch, capsys, fmt, out):
    dataset = make_dataset(tmp_path / "images", n_images=3)
    source = tmp_path / "images" / "instances.json"
    assert save_coco(dataset, source).ok
    real, calls = coco_panoptic.atomic_write_bytes, []

    def fail_on_the_second(path, data, *args, **kwargs):  # the mask PNGs are written as encoded bytes
        if Path(path).suffix != ".png":
            return real(path, data, *args, **kwargs)
        calls.append(path)
        if len(calls) == 2:
            raise WriteError(f"The disk is full: could not write {path}.")
        return real(path, data, *args, **kwargs)

    monkeypatch.setattr(coco_panoptic, "atomic_write_bytes", fail_on_the_second)
    monkeypatch.setattr("segview.io.semantic_png.atomic_write_bytes", fail_on_the_second)
    target = tmp_path / "out" / out
    assert main(["convert", str(source), "--to", fmt, "--out", str(target)]) == 2
    assert "Not written" in capsys.readouterr().err
    left = [p.name for p in (tmp_path / "out").rglob("*")]
    assert left == [], left  # no PNG, no staging folder, no manifest listing nothing
