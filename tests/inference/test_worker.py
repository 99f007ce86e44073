import threading

import pytest

from segview.inference.worker import InferenceWorker, Priority


class Recorder:
    def __init__(self):
        self.results = []
        self.errors = []
        self.order = []
        self.gate = threading.Event()
        self.started = threading.Event()

    def handler(self, request):
        self.order.append(request.key)
        self.started.set()
        if request.payload == "block":
            assert self.gate.wait(5)
        if request.payload == "fail":
            raise ValueError("model exploded")
        return f"done {request.key}"

    def on_result(self, request, result):
        self.results.append((request.key, result))

    def on_error(self, request, exc):
        self.errors.append((request.key, str(exc)))


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def worker(rec):
    w = InferenceWorker(rec.handler, rec.on_result, rec.on_error)
    yield w
    rec.gate.set()
    w.shutdown()


def _block_first(worker, rec):
    worker.submit("blocker", "block", Priority.VISIBLE)
    assert rec.started.wait(5)


def test_priority_order(worker, rec):
    _block_first(worker, rec)
    worker.submit("batch", None, Priority.BATCH)
    worker.submit("neighbour", None, Priority.NEIGHBOUR)
    worker.submit("visible", None, Priority.VISIBLE)
    assert worker.pending() == 3
    rec.gate.set()
    assert worker.wait_idle(5)
    assert rec.order == ["blocker", "visible", "neighbour", "batch"]
    assert [k for k, _ in rec.results] == rec.order


def test_resubmit_upgrades_priority_and_runs_once(worker, rec):
    _block_first(worker, rec)
    worker.submit("a", None, Priority.BATCH)
    worker.submit("b", None, Priority.NEIGHBOUR)
    worker.submit("a", None, Priority.VISIBLE)
    rec.gate.set()
    assert worker.wait_idle(5)
    assert rec.order == ["blocker", "a", "b"]


def test_new_generation_drops_queued_and_running(worker, rec):
    _block_first(worker, rec)
    worker.submit("old", None, Priority.VISIBLE)
    generation = worker.new_generation()
    assert generation == 1
    fresh = worker.submit("new", None, Priority.BATCH)
    assert fresh.generation == 1
    rec.gate.set()
    assert worker.wait_idle(5)
    assert rec.order == ["blocker", "new"]
    assert rec.results == [("new", "done new")]  # the blocker's result was stale: not delivered


def test_cancel(worker, rec):
    _block_first(worker, rec)
    worker.submit("x", None)
    worker.cancel("x")
    assert worker.pending() == 0
    rec.gate.set()
    assert worker.wait_idle(5)
    assert "x" not in rec.order


def test_errors_reported_and_worker_survives(worker, rec):
    worker.submit("bad", "fail")
    worker.submit("good", None)
    assert worker.wait_idle(5)
    assert rec.errors == [("bad", "model exploded")]
    assert rec.results == [("good", "done good")]


def test_shutdown_is_clean(rec):
    worker = InferenceWorker(rec.handler, rec.on_result, rec.on_error)
    _block_first(worker, rec)
    worker.submit("never", None)
    worker.shutdown(wait=False)
    rec.gate.set()
    worker.shutdown(wait=True)
    assert not worker._thread.is_alive()
    assert "never" not in rec.order
    with pytest.raises(RuntimeError):
        worker.submit("late", None)


def test_requeue_runs_the_next_slice_after_more_urgent_work_and_never_after_a_cancel(rec):
    slices = []

    def handler(request):
        slices.append(request.key)
        if request.key == "long" and request.payload < 3:
            worker.requeue(request, request.payload + 1)
            if request.payload == 0:  # something urgent arrives during the first slice
                worker.submit("urgent", None, Priority.VISIBLE)
        return request.payload

    worker = InferenceWorker(handler, rec.on_result, rec.on_error)
    try:
        worker.submit("long", 0, Priority.TRAINING)
        assert worker.wait_idle(5)
        assert slices == ["long", "urgent", "long", "long", "long"]
        assert rec.results == [("urgent", None), ("long", 3)]  # only the last slice answers
        first = worker.submit("cancelled", 9, Priority.TRAINING)
        worker.cancel("cancelled")
        assert worker.requeue(first, None) is None  # stale: not queued again
        assert worker.wait_idle(5) and worker.pending() == 0
    finally:
        worker.shutdown()


def test_training_is_the_lowest_priority():
    assert max(Priority) is Priority.TRAINING and Priority.TRAINING > Priority.BATCH
