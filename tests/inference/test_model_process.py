"""The model process: a spawned child runs the pipeline; requests, priorities, generations, cancellation,
shared-memory results, crash restarts and the child's end when its parent dies. One child for the module
(a spawn with torch costs seconds)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.inference.model_process import ModelProcess, describe_exit
from segview.inference.shared_arrays import pack_prediction, unpack_prediction
from segview.inference.worker import Priority
from tests.inference.process_events import ProcessEvents


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from tests.inference.tiny_models import write_tiny_cards

    folder = tmp_path_factory.mktemp("model-process-data")
    write_tiny_cards(folder / "models")
    return folder


@pytest.fixture(scope="module")
def shared_process(data_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGVIEW_DATA_DIR", str(data_dir))  # the child gets the parent's environment
        process = ModelProcess(ProcessEvents())
        yield process
        process.shutdown()
    assert not process.alive, (process._process, process._process.exitcode)


@pytest.fixture
def proc(shared_process):
    """The module's child, with a fresh generation and event list for each test."""
    events = ProcessEvents()
    shared_process.set_listener(events)
    shared_process.reset()
    shared_process._failures.clear()
    yield shared_process, events
    shared_process.new_generation()
    shared_process.set_listener(None)


@pytest.fixture
def image_file(tmp_path):
    from PIL import Image

    from segview.train.scenes import generate_scene

    image, _ = generate_scene(3, 96, 128)
    path = tmp_path / "scene.png"
    Image.fromarray(image).save(path)
    return path, image


def results(events):
    return [(e[1], e[3]) for e in events.of("result")]


def test_a_prediction_crosses_shared_memory_whole():
    prediction = Prediction(40, 50, model="m", device="CPU")
    prediction.semantic = np.random.default_rng(0).integers(0, 5, (40, 50)).astype(np.int32)
    prediction.semantic_confidence = np.random.default_rng(1).random((40, 50), dtype=np.float32)
    prediction.instances = [InstancePrediction(3, 0.9, CroppedMask(4, 5, np.eye(6, 7, dtype=bool))),
                            InstancePrediction(1, 0.5, CroppedMask(0, 0, np.zeros((0, 3), bool)))]
    meta, packed = pack_prediction(prediction)
    assert packed[0] is not None and len(repr(meta)) < 1000  # the arrays are not in the message
    back = unpack_prediction(meta, packed)
    assert (back.semantic == prediction.semantic).all() and back.semantic.dtype == np.int32
    assert (back.semantic_confidence == prediction.semantic_confidence).all()
    assert [(i.category_id, i.score, i.mask.x, i.mask.y) for i in back.instances] == [(3, 0.9, 4, 5), (1, 0.5, 0, 0)]
    assert (back.instances[0].mask.mask == np.eye(6, 7, dtype=bool)).all()
    assert back.instances[1].mask.mask.shape == (0, 3)
    from multiprocessing import shared_memory

    with pytest.raises(FileNotFoundError):  # unlinked once read
        shared_memory.SharedMemory(name=packed[0])


def test_the_child_predicts_like_the_pipeline_from_a_path_or_shared_memory(proc, image_file):
    process, events = proc
    path, image = image_file
    process.submit(("load", "tiny_sem"), ("tiny_sem", "cpu"))
    process.submit(("predict", path), ("tiny_sem", "cpu"))
    process.submit(("predict", "array"), ("tiny_sem", "cpu"), image=image)
    assert process.wait_idle(120), events.items
    assert not events.of("error"), events.items
    assert events.of("model_loaded") == [("model_loaded", "tiny_sem", "CPU")]
    got = dict(results(events))
    for key in (("predict", path), ("predict", "array")):
        prediction, categories = got[key]
        assert prediction.semantic.shape == image.shape[:2] and prediction.model == "tiny_sem"
        assert "sky" in [c.name for c in categories]
    from segview.inference.pipeline import load_model

    expected = load_model("tiny_sem", device="cpu").predict(image)  # the same pipeline, in this process
    for prediction, _categories in (got[("predict", path)], got[("predict", "array")]):
        assert (prediction.semantic == expected.semantic).all()
        assert np.allclose(prediction.semantic_confidence, expected.semantic_confidence)


def test_the_most_urgent_request_runs_first(proc):
    process, events = proc
    process.submit(("debug", "block"), ("sleep", 0.5))
    assert process.wait_running(("debug", "block"), 60)
    process.submit(("debug", "batch"), ("sleep", 0), Priority.BATCH)
    process.submit(("debug", "neighbour"), ("sleep", 0), Priority.NEIGHBOUR)
    process.submit(("debug", "visible"), ("sleep", 0), Priority.VISIBLE)
    process.submit(("debug", "prompt"), ("sleep", 0), Priority.INTERACTIVE)
    assert process.wait_idle(60)
    assert [key[1] for key, _ in results(events)] == ["block", "prompt", "visible", "neighbour", "batch"]


def test_a_new_generation_and_cancel_drop_older_requests(proc):
    process, events = proc
    process.submit(("debug", "running"), ("sleep", 0.5))
    assert process.wait_running(("debug", "running"), 60)
    process.submit(("debug", "queued"), ("sleep", 0))
    process.submit(("debug", "cancelled"), ("sleep", 0))
    process.cancel(("debug", "cancelled"))
    generation = process.new_generation()
    process.submit(("debug", "new"), ("sleep", 0))
    process.submit(("debug", "fails"), ("fail", "model exploded"))
    assert process.wait_idle(60)
    time.sleep(0.6)  # the old running request ends in the child meanwhile: it is not delivered
    assert [(e[1][1], e[2]) for e in events.of("result")] == [("new", generation)]
    assert events.of("error") == [("error", ("debug", "fails"), generation, "ValueError: model exploded")]


def test_a_killed_child_is_restarted_and_its_requests_queued_again(proc, image_file):
    process, events = proc
    path, _image = image_file
    first = process.pid
    process.submit(("predict", path), ("tiny_sem", "cpu"))
    process.submit(("debug", "long"), ("sleep", 1.0), Priority.INTERACTIVE)  # a prediction a second long
    assert process.wait_running(("debug", "long"), 60)
    os.kill(first, signal.SIGKILL)
    events.wait_for(lambda e: e.of("died"), 30)
    (_, message, restarting), = events.of("died")
    assert restarting and "killed" in message and "SIGKILL" in message and "restarted" in message
    assert "while running debug" in message
    assert process.wait_idle(120), events.items
    assert process.pid != first and process.alive
    assert {key for key, _ in results(events)} == {("debug", "long"), ("predict", path)}  # by the new child
    assert not events.of("error")


def test_three_deaths_in_a_minute_stop_the_restarts(proc):
    process, events = proc
    for attempt in range(3):
        process.submit(("debug", "crash"), ("crash",))
        events.wait_for(lambda e, n=attempt + 1: len(e.of("died")) == n, 120)
    messages = [e[1] for e in events.of("died")]
    assert [e[2] for e in events.of("died")] == [True, True, False]
    assert "segmentation fault" in messages[0] and "not restarted" in messages[2]
    assert events.of("error")[-1][1] == ("debug", "crash")  # the pending request fails, with the reason
    process.submit(("debug", "later"), ("sleep", 0))  # answered at once while it is down
    assert events.of("error")[-1][1] == ("debug", "later")
    process.retry()  # the user chose a model again
    process.submit(("debug", "after"), ("sleep", 0))
    assert process.wait_idle(120)
    assert results(events)[-1] == (("debug", "after"), 0)


def test_describe_exit_names_what_ended_the_child():
    assert "out-of-memory" in describe_exit(-signal.SIGKILL)
    assert "CUDA" in describe_exit(-signal.SIGABRT)
    assert describe_exit(3) == "exited with status 3"


PARENT = r"""
import sys, time
from segview.inference.model_process import ModelProcess
process = ModelProcess()
assert process.wait_state("idle", 120)
print(process.pid, flush=True)
time.sleep(120)
"""


def test_the_child_ends_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_prediction_runs_between_the_slices_of_a_long_job(proc, image_file):
    process, events = proc
    path, _image = image_file
    job = ("debug_slices", "training")
    process.submit(job, (150, 0.01), Priority.TRAINING)  # >= 1.5 s of work: three slices or more
    assert process.wait_running(job, 60)
    process.submit(("predict", path), ("tiny_sem", "cpu"), Priority.VISIBLE)
    assert process.wait_idle(120), events.items
    assert not events.of("error"), events.items
    assert [key for key, _ in results(events)] == [("predict", path), job]  # the prediction did not wait
    assert results(events)[-1] == (job, 150)
    done = [e[3] for e in events.of("job_event") if e[1] == job and e[2] == "progress"]
    assert len(done) >= 3 and done == sorted(done) and done[-1] == 150
    predicted_at = events.items.index(next(e for e in events.items if e[0] == "result"))
    assert any(e[0] == "job_event" for e in events.items[predicted_at:])  # slices ran after it, too


def test_cancelling_a_long_job_stops_it_between_slices(proc):
    process, events = proc
    job = ("debug_slices", "cancelled")
    process.submit(job, (10_000, 0.01), Priority.TRAINING)  # 100 s if it ran to the end
    events.wait_for(lambda e: e.of("job_event"), 60)
    process.cancel(job)
    process.submit(("debug", "after"), ("sleep", 0), Priority.TRAINING)
    assert process.wait_idle(30)
    assert results(events) == [(("debug", "after"), 0)]  # the job's result never comes
    assert len(events.of("job_event")) <= 2  # at most the slice that was running when it was cancelled


def test_the_server_runs_no_slice_after_a_cancel_or_a_new_generation():
    """In this process (no spawn): the child's server queues a sliced job's next slice only while it is live."""
    import multiprocessing

    from segview.inference.model_server import ModelServer

    ours, theirs = multiprocessing.Pipe()
    server = ModelServer(theirs, os.getpid())
    try:
        for stop in (server.worker.cancel, lambda _key: server.worker.new_generation()):
            key = ("debug_slices", "x")
            server.worker.submit(key, (7, (10_000, 0.01), None), Priority.TRAINING)
            assert ours.poll(10) and ours.recv() == ("started", key, 7)
            assert ours.poll(10) and ours.recv()[0] == "job_event"  # the first slice ended
            stop(key)
            assert server.worker.wait_idle(3)  # one slice at most (0.5 s), not the 100 s job
            messages = []
            while ours.poll(0.1):
                messages.append(ours.recv())
            assert not [m for m in messages if m[0] == "result"], messages
            assert len([m for m in messages if m[0] == "started"]) <= 1, messages
    finally:
        server.worker.shutdown()


def test_the_collection_after_a_load_waits_for_the_first_prediction(proc, image_file, monkeypatch):
    process, events = proc
    path, _image = image_file
    process.submit(("load", "tiny_sem"), ("tiny_sem", "cpu"))
    process.submit(("predict", path), ("tiny_sem", "cpu"))
    process.submit(("debug", "frozen"), ("frozen",), Priority.BATCH)
    assert process.wait_idle(120), events.items
    assert dict(results(events))[("debug", "frozen")] > 10_000  # torch and the model: out of the collector's reach

    import multiprocessing

    from segview.inference import model_server

    collected = []
    monkeypatch.setattr(model_server, "gc", type("Gc", (), {"collect": lambda: collected.append("collect"),
                                                            "freeze": lambda: collected.append("freeze")}))
    ours, theirs = multiprocessing.Pipe()
    server = model_server.ModelServer(theirs, os.getpid())
    try:
        server._collection_owed = True  # a model was just loaded
        server.worker.submit(("debug", "block"), (1, ("sleep", 30), None))
        server.worker.submit(("predict", "next"), (2, None, None))  # queued behind it
        server._collect_if_owed("load")
        assert collected == []  # the load's own answer: the prediction asked for is still to come
        server._collect_if_owed("predict")
        assert collected == ["collect", "freeze"] and not server._collection_owed
        server._collect_if_owed("predict")
        assert collected == ["collect", "freeze"]  # once per load
    finally:
        server.worker.shutdown(wait=False)
