"""`segview predict` and `segview models` end to end with tiny local models (no network)."""

import numpy as np
import pytest
from PIL import Image

from segview.cli import main
from tests.inference.tiny_models import write_tiny_cards
from tests.user_dirs import use_user_dirs


@pytest.fixture(scope="module")
def user_models(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    write_tiny_cards(data_dir / "models")
    return data_dir


@pytest.fixture
def env(user_models, monkeypatch, tmp_path):
    use_user_dirs(monkeypatch, tmp_path, user_models)


def _images(folder, count=3):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(folder / f"im{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")


def test_models_list_shows_user_models(env, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "tiny_inst" in out and "instance" in out and "maskrcnn_resnet50_fpn_v2" in out


def test_predict_writes_valid_exports_and_skips_corrupt_images(env, tmp_path, capsys):
    _images(tmp_path / "imgs")
    out = tmp_path / "out"
    code = main(
        [
            "predict",
            str(tmp_path / "imgs"),
            "--model",
            "tiny_inst",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--score-threshold",
            "0.0",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1, captured.err  # the others are written, but a skipped image is not success
    assert "broken.jpg" in captured.out and "skipped" in captured.out
    assert (out / "instances.json").is_file() and (out / "panoptic.json").is_file()
    assert sorted(p.name for p in (out / "semantic").glob("im*.png")) == ["im0.png", "im1.png", "im2.png"]
    assert main(["validate", str(out / "instances.json"), "--images", str(tmp_path / "imgs")]) == 0
    assert main(["validate", str(out / "panoptic.json"), "--images", str(tmp_path / "imgs")]) == 0
    assert "valid" in capsys.readouterr().out


def test_predict_with_unknown_model_is_a_clear_error(env, tmp_path, capsys):
    _images(tmp_path / "imgs", 1)
    assert main(["predict", str(tmp_path / "imgs"), "--model", "nope", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err


def test_download_of_missing_weights_fails_cleanly_offline(env, capsys, monkeypatch):
    import urllib.request

    def refuse(*args, **kwargs):
        raise OSError("network is off in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    assert main(["models", "download", "lraspp_mobilenet_v3_large"]) == 2
    assert "segview: error:" in capsys.readouterr().err


def test_predict_with_the_bundled_demo_model_finds_the_demo_objects(env, tmp_path, capsys):
    """The out-of-the-box path: the committed demo weights on two bundled demo images, exports valid."""
    import json
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "resources" / "demo"
    images = [str(demo / "scene_02024.png"), str(demo / "scene_02026.png")]
    out = tmp_path / "out"
    assert main(["predict", *images, "--model", "demo_panoptic", "--out", str(out), "--device", "cpu"]) == 0
    assert main(["validate", str(out / "instances.json"), "--images", str(demo)]) == 0
    assert main(["validate", str(out / "panoptic.json"), "--images", str(demo)]) == 0
    names = {c["id"]: c["name"] for c in json.loads((out / "instances.json").read_text())["categories"]}
    found = {names[a["category_id"]] for a in json.loads((out / "instances.json").read_text())["annotations"]}
    assert {"ball", "crate"} <= found  # both images show red balls and wooden crates
    panoptic = json.loads((out / "panoptic.json").read_text())
    stuff = {c["id"]: c["name"] for c in panoptic["categories"] if not c["isthing"]}
    assert {"sky", "water"} <= {stuff[s["category_id"]] for a in panoptic["annotations"]
                                for s in a["segments_info"] if s["category_id"] in stuff}


@pytest.mark.parametrize(("resume", "said"), [
    ([], ["segview: interrupted after 2 of 6 images: run the same command with --resume to continue"]),
    (["--resume"], ["Resuming: 4 of 6 images already done.", "interrupted after 4 of 6 images", "--resume"]),
])
def test_ctrl_c_says_how_to_resume_and_a_resume_says_what_it_skips(env, tmp_path, capsys, monkeypatch, resume,
                                                                   said):
    from segview.inference import batch

    def interrupted(model, images, options, *, loader=None, progress=None):
        tick = progress(6, 4 if options.resume else 0)
        tick(2 if not options.resume else 0)
        raise KeyboardInterrupt  # as Ctrl-C in the middle of the run

    monkeypatch.setattr(batch, "predict_folder", interrupted)
    _images(tmp_path / "imgs", 1)
    code = main(["predict", str(tmp_path / "imgs"), "--model", "tiny_inst", "--out", str(tmp_path / "out"),
                 "--device", "cpu", *resume])
    err = capsys.readouterr().err
    assert code == 130
    for text in said:
        assert text in err


def test_resume_of_a_finished_run_predicts_nothing_and_of_another_job_predicts_again(env, tmp_path, capsys,
                                                                                    monkeypatch):
    from segview.inference import batch

    _images(tmp_path / "imgs", 2)
    out = tmp_path / "out"
    args = ["predict", str(tmp_path / "imgs"), "--model", "tiny_inst", "--out", str(out), "--device", "cpu",
            "--format", "coco"]
    assert main(args) == 1  # broken.jpg is skipped
    capsys.readouterr()
    ran = []
    run_local = batch.run_local
    monkeypatch.setattr(batch, "run_local", lambda *a, **k: ran.append(len(a[2])) or run_local(*a, **k))
    assert main([*args, "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"The run in {out} is complete" in err and "nothing to predict" in err and ran == []
    assert main([*args, "--score-threshold", "0.9", "--resume"]) == 1  # another job: not this one's outputs
    assert "Nothing to resume" in capsys.readouterr().err and len(ran) == 1 and ran[0] >= 2
