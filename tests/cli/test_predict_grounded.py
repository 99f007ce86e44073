"""`segview predict --model grounded:DETECTOR --classes ...` end to end with a tiny random OWLv2 and a tiny
random Segment Anything (local cards, no network)."""

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from segview.cli import main
from segview.core.wording import count
from tests.inference.tiny_detectors import write_tiny_detector
from tests.inference.tiny_sam import write_sam_card
from tests.user_dirs import use_user_dirs


@pytest.fixture(scope="module")
def user_models(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    write_tiny_detector(data_dir / "models")
    write_sam_card(data_dir / "models")
    return data_dir


@pytest.fixture
def env(user_models, monkeypatch, tmp_path):
    use_user_dirs(monkeypatch, tmp_path, user_models)


def _images(folder, count=2):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (60, 90, 3), dtype=np.uint8)).save(folder / f"im{i}.png")


def _predict(tmp_path, *extra):
    return main(["predict", str(tmp_path / "imgs"), "--out", str(tmp_path / "out"), "--device", "cpu",
                 "--format", "coco", *extra])


def test_grounded_predict_writes_coco_with_the_named_classes(env, tmp_path, capsys):
    _images(tmp_path / "imgs")
    code = _predict(tmp_path, "--model", "grounded:tiny_owl", "--prompt-model", "tiny_sam",
                    "--classes", "helmet, flag,Helmet")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "grounded:tiny_owl+tiny_sam on CPU" in captured.err
    coco = COCO(str(tmp_path / "out" / "instances.json"))
    assert [(c["id"], c["name"]) for c in coco.loadCats(coco.getCatIds())] == [(1, "helmet"), (2, "flag")]
    annotations = coco.loadAnns(coco.getAnnIds())
    assert annotations and {a["category_id"] for a in annotations} <= {1, 2}
    for annotation in annotations:
        assert coco.annToMask(annotation).sum() == annotation["area"] > 0
        assert 0.1 <= annotation["score"] <= 1.0  # the detector's score, at or above its cut-off
    images = json.loads((tmp_path / "out" / "instances.json").read_text())["images"]
    assert sorted(i["file_name"] for i in images) == ["im0.png", "im1.png"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "grounded:tiny_owl"], "add --classes"),
        (["--model", "grounded:", "--classes", "a"], "names no detector"),
        (["--model", "grounded:tiny_sam", "--classes", "a"], "not an open-vocabulary detector"),
        (["--model", "grounded:tiny_owl", "--classes", "a", "--prompt-model", "tiny_owl"], "not a prompt model"),
        (["--model", "grounded:tiny_owl", "--classes", " , ,"], "No class names given"),
        (["--model", "grounded:owlv2_base", "--classes", "a"], "needs 4 files not on this computer yet"),
        (["--model", "demo_panoptic", "--classes", "a"], "go with --model grounded:DETECTOR"),
    ],
)
def test_grounded_predict_refuses_with_one_line(env, tmp_path, capsys, args, expected):
    _images(tmp_path / "imgs", count=1)
    assert _predict(tmp_path, *args) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("detector", "files"),
    [
        ("owlv2_base", ["owlv2_base.safetensors", "clip_vocab.json", "clip_merges.txt", "edgetam.safetensors"]),
        ("tiny_owl", ["edgetam.safetensors"]),  # the detector's files are here, the default prompt model's not
    ],
)
def test_grounded_predict_names_the_missing_files_of_both_models_at_once(env, tmp_path, capsys, detector, files):
    _images(tmp_path / "imgs", count=1)
    assert _predict(tmp_path, "--model", f"grounded:{detector}", "--classes", "ball,crate") == 2
    err = capsys.readouterr().err.strip()
    assert f"needs {count(len(files), 'file')} not" in err and len(err.splitlines()) == 1, err
    commands = [f"`segview models download {name}`" for name in (detector, "edgetam") if name != "tiny_owl"]
    assert "or run " + " and ".join(commands) in err  # every file is checked against the Hub's record
    for name in files:
        assert str(tmp_path / "cache" / "weights" / name) in err
    assert "yonigozlan/EdgeTAM-hf/resolve/main/model.safetensors" in err
