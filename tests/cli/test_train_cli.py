"""`segview train` end to end on a tiny dataset: the new card is listed, predicts and evaluates at once;
Ctrl-C keeps a checkpoint that --resume continues; user errors are one line with status 2."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from segview.cli import main
from segview.train.session import TrainingSession
from tests.train.helpers import use_tiny_bases, write_scenes_panoptic


@pytest.fixture
def setup(monkeypatch, tmp_path):
    """The tiny bases in a temporary user folder and a six-scene panoptic dataset."""
    return use_tiny_bases(monkeypatch, tmp_path), write_scenes_panoptic(tmp_path / "scenes")


def test_train_writes_a_card_that_predict_eval_and_models_list_use(setup, tmp_path, capsys):
    models, dataset = setup
    code = main(["train", str(dataset), "--base", "tiny_pair", "--name", "scenes-v1", "--steps", "2",
                 "--device", "cpu", "--val-fraction", "0.3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Base tiny_pair vs scenes-v1 on 2 validation images (2 steps" in out
    assert "mask AP  all" in out and "mIoU     all" in out and "IoU      sky" in out
    assert "2/2" in err and "images/s" in err  # the progress bar
    assert "instance model: 2 of 4 classes keep the base's weights (ball, crate)" in err
    for name in ("scenes-v1_instance.pt", "scenes-v1_semantic.pt"):
        torch.load(models / name, weights_only=True)
    card = (models / "scenes-v1.toml").read_text()
    assert 'instance = "scenes-v1_instance"' in card and "from `tiny_pair`" in card and "on cpu" in card

    assert main(["models", "list"]) == 0
    assert "scenes-v1" in capsys.readouterr().out
    assert main(["predict", str(dataset.parent), "--model", "scenes-v1", "--out", str(tmp_path / "out"),
                 "--format", "coco-panoptic"]) == 0
    assert (tmp_path / "out" / "panoptic.json").is_file()
    capsys.readouterr()
    instances = dataset.parent / "instances.json"
    assert main(["eval", "scenes-v1", "--coco", str(instances), "--device", "cpu"]) == 0
    assert f"Evaluated scenes-v1 on {instances}" in capsys.readouterr().out


def test_ctrl_c_keeps_a_checkpoint_and_resume_continues_it(setup, monkeypatch, capsys):
    _models, dataset = setup
    run = TrainingSession.run

    def interrupted_run(self, seconds=None):
        progress = run(self, seconds)
        os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C, after the first slice
        return progress

    monkeypatch.setattr(TrainingSession, "run", interrupted_run)
    args = ["train", str(dataset), "--base", "tiny_inst", "--name", "mine", "--steps", "500", "--device", "cpu"]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted at step" in err and "--resume" in err
    step = torch.load(os.environ["SEGVIEW_DATA_DIR"] + "/models/training/mine.pt", weights_only=True)["step"]
    assert 1 <= step < 500
    monkeypatch.setattr(TrainingSession, "run", run)
    assert main([*args[:-4], "--steps", str(step + 1), "--device", "cpu", "--resume"]) == 0
    captured = capsys.readouterr()
    assert f"from step {step}" in captured.err and f"({step + 1} steps" in captured.out


@pytest.mark.parametrize(("extra", "message"), [
    (["--name", "tiny_inst", "--steps", "1"], "never writes over the base model"),
    (["--name", "demo_panoptic", "--steps", "1"], "is a bundled model already"),
    (["--name", "x"], "Give a training budget"),
    (["--name", "x", "--steps", "3", "--val-fraction", "1.5"], "between 0 and 1"),
])
def test_user_errors_are_one_line_and_status_2(setup, capsys, extra, message):
    _models, dataset = setup
    assert main(["train", str(dataset), "--base", "tiny_inst", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_help_says_a_budget_is_required(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "one of --steps and --minutes is required" in " ".join(capsys.readouterr().out.split())


def test_a_base_not_downloaded_says_what_to_run(setup, capsys):
    _models, dataset = setup
    args = ["train", str(dataset), "--base", "maskrcnn_resnet50_fpn_v2", "--name", "x", "--steps", "1", "--device", "cpu"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "run `segview models download maskrcnn_resnet50_fpn_v2`" in err and "pass the path" not in err
