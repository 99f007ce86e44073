"""`segview predict` on the field report's cases with the bundled demo model: thin images, --weights, and
outputs that never replace files segview did not write."""

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segview.cli import main
from tests.user_dirs import use_user_dirs

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "resources" / "demo" / "scene_02024.png"


@pytest.fixture
def env(monkeypatch, tmp_path):
    use_user_dirs(monkeypatch, tmp_path)


def _predict(folder: Path, out: Path, *extra: str) -> int:
    return main(["predict", str(folder), "--model", "demo_panoptic", "--device", "cpu", "--out", str(out), *extra])


def test_a_thin_image_is_skipped_and_the_good_one_written(env, tmp_path, capsys):
    folder = tmp_path / "crash"
    folder.mkdir()
    shutil.copy(GOOD, folder / "good_scene_02024.png")
    Image.new("RGB", (3000, 1), (90, 140, 200)).save(folder / "one_by_3000.png")  # the report's crash case
    out = tmp_path / "out"
    assert _predict(folder, out) == 1  # a skipped image is not success
    printed = capsys.readouterr().out
    assert "one_by_3000.png: skipped: the image is 3000×1: too thin" in printed
    names = [i["file_name"] for i in json.loads((out / "instances.json").read_text())["images"]]
    assert names == ["good_scene_02024.png"]
    assert json.loads((out / "instances.json").read_text())["annotations"]
    assert sorted(p.name for p in (out / "semantic").glob("*.png")) == ["good_scene_02024.png"]


def test_a_one_by_500_image_is_predicted_quickly(env, tmp_path, capsys):
    folder = tmp_path / "memory"
    folder.mkdir()
    Image.new("RGB", (500, 1), (90, 140, 200)).save(folder / "one_by_500.png")  # 6.7 GB and 90 s before
    start = time.perf_counter()
    assert _predict(folder, tmp_path / "out", "--format", "semantic-png") == 0
    assert time.perf_counter() - start < 10
    mask = np.asarray(Image.open(tmp_path / "out" / "semantic" / "one_by_500.png"))
    assert mask.shape == (1, 500)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the app filters it (images.py)
def test_an_image_over_the_pixel_budget_is_skipped_with_the_way_to_raise_it(env, tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(GOOD, folder / "good.png")
    Image.new("RGB", (700, 500)).save(folder / "big.png")  # 350000 pixels; the good one has 640×480 = 307200
    assert _predict(folder, tmp_path / "out", "--max-pixels", "320000", "--format", "coco") == 1
    printed = capsys.readouterr().out
    assert "big.png: skipped: " in printed and "budget of 0.32 megapixels" in printed and "--max-pixels" in printed
    assert "good.png" not in printed
    assert _predict(folder, tmp_path / "out", "--max-pixels", "350000", "--format", "coco") == 0
    from segview.io.pixel_budget import DEFAULT_MAX_PIXELS, max_pixels

    assert max_pixels() == DEFAULT_MAX_PIXELS  # one command's budget does not outlive it


def test_weights_for_a_panoptic_pair_are_refused_clearly(env, tmp_path, capsys):
    assert _predict(GOOD, tmp_path / "out", "--weights", str(ROOT / "models" / "demo_semantic.pt")) == 2
    err = capsys.readouterr().err
    assert "'demo_panoptic' is a pair of models" in err and "--model demo_semantic" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_weights_are_loaded_into_a_single_model_and_another_architecture_is_refused(env, tmp_path, capsys):
    tweaked = tmp_path / "tweaked.pt"
    import torch

    state = torch.load(ROOT / "models" / "demo_semantic.pt", weights_only=True)
    bias = state["model"]["classifier.high_classifier.bias"]
    bias[:] = -1000.0
    bias[4] = 1000.0  # every pixel is sky now: the file's weights are visibly in use
    torch.save(state, tweaked)
    argv = ["predict", str(GOOD), "--model", "demo_semantic", "--device", "cpu", "--format", "semantic-png"]
    assert main([*argv, "--out", str(tmp_path / "own")]) == 0
    assert main([*argv, "--out", str(tmp_path / "tweaked"), "--weights", str(tweaked)]) == 0
    assert "with the weights" in capsys.readouterr().err
    own = np.asarray(Image.open(tmp_path / "own" / "semantic" / GOOD.name))
    mask = np.asarray(Image.open(tmp_path / "tweaked" / "semantic" / GOOD.name))
    assert len(np.unique(own)) > 1 and len(np.unique(mask)) == 1
    assert main([*argv, "--out", str(tmp_path / "x"), "--weights", str(ROOT / "models" / "demo_instance.pt")]) == 2
    assert "does not fit the model" in capsys.readouterr().err


def test_predict_refuses_to_overwrite_the_users_files_before_running_the_model(env, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "semantic").mkdir(parents=True)
    (out / "semantic" / "labels.png").write_bytes(b"my labels")
    assert _predict(GOOD, out) == 2
    assert "labels.png" in capsys.readouterr().err
    assert (out / "semantic" / "labels.png").read_bytes() == b"my labels"
    assert sorted(p.name for p in out.iterdir()) == ["semantic"]
