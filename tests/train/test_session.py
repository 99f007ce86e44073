"""TrainingSession on tiny random-weight bases: slices, checkpoints and resume, outputs, refusals."""

from __future__ import annotations

import shutil
from collections import namedtuple
from types import SimpleNamespace

import pytest
import torch

from segview.errors import SegviewError
from segview.inference.cards import get_card
from segview.inference.pipeline import load_model
from segview.train import session as session_module
from segview.train.plan import TrainingError, TrainingPlan, TrainingSetup
from segview.train.scenes import generate_scene
from segview.train.session import TrainingSession


def _session(source, **kwargs) -> TrainingSession:
    options = dict(base="tiny_inst", name="mine", steps=2, device="cpu") | kwargs
    return TrainingSession(TrainingPlan(str(source), **options))


def test_resume_continues_from_the_checkpoint_and_the_outputs_load_safely(tiny_bases, scenes_panoptic):
    first = _session(scenes_panoptic)
    setup = first.prepare()
    assert setup.models == ("instance",) and setup.start_step == 0 and setup.batch_size == 2
    assert len(setup.train_files) + len(setup.val_files) == 6 and setup.val_files
    progress = first.run()
    assert progress.done and progress.step == 2 and [s for s, _ in progress.losses] == [1, 2]
    checkpoint = torch.load(first.checkpoint_path(), weights_only=True)
    assert checkpoint["step"] == 2

    second = _session(scenes_panoptic, steps=3, resume=True)
    assert second.prepare().start_step == 2
    model = second._members[0].model
    for key, value in checkpoint["members"]["instance"]["model"].items():
        assert torch.equal(model.state_dict()[key], value), key
    assert second._members[0].trainer.optimizer.state_dict()["state"]  # AdamW's moments restored too
    progress = second.run()
    assert progress.step == 3 and progress.losses[:2] == first.progress.losses

    outcome = second.finish()
    assert outcome.card_name == "mine" and outcome.steps == 3 and outcome.device == "cpu"
    assert {row.metric for row in outcome.rows} == {"mask AP", "PQ"}  # an instance model gives no IoU
    classes = [row.class_name for row in outcome.rows if row.metric == "mask AP"]
    assert classes[0] == "all" and set(classes[1:]) <= {"ball", "crate", "tree", "star"} and len(classes) > 1
    weights = torch.load(tiny_bases / "mine.pt", weights_only=True)
    assert [c["name"] for c in weights["categories"]] == ["ball", "crate", "tree", "star"]
    card = get_card("mine")
    assert card.user and "from `tiny_inst`" in card.description and "3 steps" in card.description
    assert "mask AP" in card.description and card.weights.file == tiny_bases / "mine.pt"
    prediction = load_model(card, device="cpu").predict(generate_scene(7, 64, 64)[0])
    assert prediction.height == 64


def test_a_slice_stops_early_and_a_cancel_keeps_a_checkpoint(tiny_bases, scenes_panoptic):
    session = _session(scenes_panoptic, steps=500)
    session.prepare()
    progress = session.run(seconds=0.01)
    assert 1 <= progress.step < 500 and not progress.done
    assert progress.eta_s > 0 and progress.images_per_s > 0 and progress.total_steps == 500
    assert not session.checkpoint_path().exists()  # none before CHECKPOINT_EVERY steps
    path = session.save_checkpoint()
    assert torch.load(path, weights_only=True)["step"] == progress.step


def test_a_minutes_budget_ends_on_time_and_estimates_the_steps(tiny_bases, scenes_panoptic):
    session = _session(scenes_panoptic, steps=None, minutes=0.001, base="tiny_sem")
    assert session.prepare().models == ("semantic",)
    progress = session.run()
    assert progress.done and progress.elapsed_s >= 0.06 and progress.total_steps == progress.step


def test_refusals_before_any_work(tiny_bases, scenes_panoptic, tmp_path):
    for name, message in (("tiny_inst", "never writes over the base"), ("demo_panoptic", "a bundled model"),
                          ("tiny_sem", "the user's model already"), ("bad name", "not allowed")):
        with pytest.raises(SegviewError, match=message):
            _session(scenes_panoptic, name=name).prepare()
    (tiny_bases / "boxes.toml").write_text(  # a detector without masks: its class layers are not known
        'name = "boxes"\ntitle = "boxes"\ntask = "instance"\nlicence = "MIT"\ndescription = "test"\n'
        'builder = "torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn"\n'
        'categories = [{ id = 1, name = "ball", isthing = true }]\n[weights]\nfile = "boxes.pt"\n'
        f'sha256 = "{"0" * 64}"\n[input]\nmin_size = 64\nmax_size = 64\n')
    with pytest.raises(TrainingError, match="cannot train 'boxes'"):
        _session(scenes_panoptic, base="boxes").prepare()
    with pytest.raises(TrainingError, match="no checkpoint of 'mine' to resume"):
        _session(scenes_panoptic, resume=True).prepare()
    (tiny_bases / "tiny_sem.pt").unlink()
    with pytest.raises(SegviewError, match="tiny_sem"):
        _session(scenes_panoptic, base="tiny_pair").prepare()
    (tmp_path / "plain").mkdir()
    with pytest.raises(TrainingError, match="neither a dataset nor a segview project"):
        _session(tmp_path / "plain").prepare()


def test_a_full_disk_is_a_clear_message_and_writes_no_card(tiny_bases, scenes_panoptic, monkeypatch):
    session = _session(scenes_panoptic, steps=1)
    session.prepare()
    session.run()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10, 10, 1000))
    with pytest.raises(TrainingError, match="The disk is full: saving the model in .* needs [0-9]+ MB and 0 MB"):
        session.finish()
    assert not (tiny_bases / "mine.toml").exists() and not (tiny_bases / "mine.pt").exists()


def test_the_chosen_images_only(tiny_bases, scenes_panoptic):
    names = ("scene_00001.png", "scene_00003.png", "scene_00004.png")
    setup = _session(scenes_panoptic, images=names).prepare()
    assert sorted(setup.train_files + setup.val_files) == list(names)
    with pytest.raises(TrainingError, match="'nope.png' is not an annotated image"):
        _session(scenes_panoptic, images=("nope.png",)).prepare()


def test_speed_and_time_left_are_measured_over_the_run_not_a_slice(monkeypatch):
    """A slow first step then fast ones: images/s is images seen / time spent so far, not the last slice's."""
    clock = [0.0]
    durations = iter([10.0] + [1.0] * 9)

    def step(_factor):
        clock[0] += next(durations)
        return (1.0,)

    monkeypatch.setattr(session_module, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    session = TrainingSession(TrainingPlan("/data", "tiny_inst", "mine", steps=10, device="cpu"))
    session.setup = TrainingSetup(("a.png",), ("b.png",), (("ball", True),), ("instance",), 10, None, "cpu", 2)
    session._members = [SimpleNamespace(trainer=SimpleNamespace(step=step))]
    monkeypatch.setattr(session, "save_checkpoint", lambda: None)
    assert session.run(seconds=2.5).images_per_s == pytest.approx(2 / 10)  # the first step alone
    progress = session.run(seconds=2.5)  # three steps of 1 s: 2 images/s in this slice alone
    assert progress.step == 4 and progress.images_per_s == pytest.approx(8 / 13)
    assert progress.eta_s == pytest.approx(6 * 13 / 4)
    progress = session.run()
    assert progress.done and progress.images_per_s == pytest.approx(2 * progress.step / progress.elapsed_s)
