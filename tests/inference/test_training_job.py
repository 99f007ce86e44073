"""Training as a sliced job of the model process, in this process: the job's turns and events, the stop that
keeps a checkpoint, and training requests outliving new generations (a model switch does not stop a run)."""

from __future__ import annotations

import threading

from segview.inference.jobs import JobContext, lasting
from segview.inference.training_job import start_training, stop_training
from segview.inference.worker import InferenceWorker, Priority
from segview.train.plan import TrainingPlan, TrainingProgress, TrainingSetup
from tests.train.helpers import use_tiny_bases, write_scenes_panoptic


def context(key, payload=None) -> JobContext:
    return JobContext(key, payload, None, lambda: False)


def test_the_job_prepares_trains_in_slices_and_a_stop_keeps_a_checkpoint(monkeypatch, tmp_path):
    models = use_tiny_bases(monkeypatch, tmp_path)
    source = write_scenes_panoptic(tmp_path / "scenes", count=4)
    plan = TrainingPlan(str(source), "tiny_sem", "mine", steps=10_000, device="cpu")
    job = start_training(context(("train", "mine"), plan))
    assert job.step(0.05) is False
    [(name, setup)] = job.events()
    assert name == "prepared" and isinstance(setup, TrainingSetup) and setup.device == "cpu"
    assert job.step(0.05) is False and job.step(0.05) is False
    progress = [value for name, value in job.events() if name == "progress"]
    assert len(progress) == 2 and isinstance(progress[-1], TrainingProgress) and progress[-1].step >= 2
    assert stop_training(context(("train_stop", "mine"))) is True
    assert job.step(0.05) is True  # the next turn stops, without training further
    how, stopped, kept = job.result()
    assert (how, kept) == ("stopped", True) and stopped.step == progress[-1].step
    assert (models / "training" / "mine.pt").is_file()
    assert stop_training(context(("train_stop", "mine"))) is False  # it is over: nothing to stop


def test_a_new_generation_keeps_a_training_request_and_drops_the_rest():
    holding, gate, ran = threading.Event(), threading.Event(), []

    def handler(request):
        if request.key == "hold":
            holding.set()
            gate.wait(10)
        ran.append(request.key)

    worker = InferenceWorker(handler, lambda *_: None, lambda *_: None)
    try:
        worker.submit("hold", None, Priority.INTERACTIVE)
        assert holding.wait(10)
        worker.submit(("train", "mine"), None, Priority.TRAINING)
        worker.submit(("predict", "a.png"), None, Priority.BATCH)
        worker.new_generation(keep=lasting)
        gate.set()
        assert worker.wait_idle(10)
        assert ran == ["hold", ("train", "mine")]
    finally:
        worker.shutdown()
    assert lasting(("train", "x")) and not lasting(("predict", "x")) and not lasting("train")
