"""`segview convert` and `segview validate` end to end, including bad input (no traceback, exit codes)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from pycocotools.coco import COCO

from segview.cli import main
from segview.io.coco import save_coco
from segview.io.coco_panoptic import load_coco_panoptic
from tests.factories import make_dataset


@pytest.fixture
def coco_file(tmp_path):
    dataset = make_dataset(tmp_path / "images", n_images=3)
    path = tmp_path / "images" / "instances.json"
    assert save_coco(dataset, path).ok
    return dataset, path


def test_convert_coco_to_panoptic_keeps_things_pixel_identical(coco_file, tmp_path, capsys):
    dataset, path = coco_file
    out = tmp_path / "out" / "panoptic.json"
    assert main(["convert", str(path), "--to", "coco-panoptic", "--out", str(out)]) == 0
    assert "Wrote coco-panoptic" in capsys.readouterr().out
    loaded, report = load_coco_panoptic(out, image_root=tmp_path / "images")
    assert report.ok, report.format()
    for original, converted in zip(dataset.images, loaded.images, strict=True):
        things = {sid for sid, s in original.annotation.segments.items() if s.category_id <= 3}
        a, b = original.annotation, converted.annotation
        original_masks = sorted((a.segment_map == sid).tobytes() for sid in things)
        converted_masks = sorted(
            (b.segment_map == sid).tobytes() for sid, s in b.segments.items() if s.category_id <= 3
        )
        assert original_masks == converted_masks


def test_convert_then_validate_every_export(coco_file, tmp_path, capsys):
    _, path = coco_file
    images = str(tmp_path / "images")
    for fmt, out in (("coco", "c/instances.json"), ("coco-panoptic", "p/panoptic.json"), ("semantic-png", "s")):
        target = tmp_path / out
        assert main(["convert", str(path), "--to", fmt, "--out", str(target)]) == 0
        assert main(["validate", str(target), "--images", images]) == 0, capsys.readouterr().out
    coco = COCO(str(tmp_path / "c/instances.json"))
    assert len(coco.getAnnIds()) > 0


def test_validate_reports_errors_and_exits_1(coco_file, capsys):
    _, path = coco_file
    doc = json.loads(path.read_text())
    doc["annotations"][0]["category_id"] = 999
    doc["annotations"][1]["bbox"] = [0, 0, 1, 1]
    path.write_text(json.dumps(doc))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "999" in out


def test_validate_missing_images_is_an_error(coco_file, capsys):
    _, path = coco_file
    (path.parent / "img_001.png").unlink()
    assert main(["validate", str(path)]) == 1
    assert "img_001.png" in capsys.readouterr().out
    assert main(["validate", str(path), "--no-check-images"]) == 0


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"images": 3, "annotations": []}', '{"annotations": [{"id": "x"}], "images": []}', "[1, 2]"],
)
def test_malformed_json_gives_one_clear_line_and_no_traceback(tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "segview.cli", "validate", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("segview: error:") and "bad.json" in result.stderr


def test_convert_labelme_folder_to_coco(tmp_path):
    from tests.factories import write_image

    folder = tmp_path / "lm"
    write_image(folder / "a.png", 40, 50)
    shape = {"label": "cat", "points": [[5, 5], [30, 20]], "group_id": None, "shape_type": "rectangle", "flags": {}}
    doc = {"version": "5.4.1", "flags": {}, "shapes": [shape], "imagePath": "a.png", "imageData": None,
           "imageHeight": 40, "imageWidth": 50}
    (folder / "a.json").write_text(json.dumps(doc))
    out = tmp_path / "coco.json"
    assert main(["convert", str(folder), "--to", "coco", "--out", str(out)]) == 0
    coco = COCO(str(out))
    mask = coco.annToMask(coco.loadAnns(coco.getAnnIds())[0])
    expected = np.zeros((40, 50), np.uint8)
    expected[5:20, 5:30] = 1
    assert np.array_equal(mask, expected)


def test_unwritable_output_is_a_clear_error(coco_file, tmp_path, capsys):
    _, path = coco_file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["convert", str(path), "--to", "coco", "--out", str(blocker / "sub" / "o.json")]) == 2
    assert "segview: error:" in capsys.readouterr().err


def test_validating_an_image_says_it_is_an_image(tmp_path):
    from tests.factories import write_image

    image = tmp_path / "photo.png"
    write_image(image, 8, 8)
    result = subprocess.run([sys.executable, "-m", "segview.cli", "validate", str(image)], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is an image, not a dataset" in result.stderr and "JSON" in result.stderr
