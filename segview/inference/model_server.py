"""The child side of the model process: torch, the models and the device live here.

``serve`` runs in the spawned child. Its main thread reads requests from the pipe; an
:class:`InferenceWorker` thread runs them (most urgent first, generations, cancellation) with the same
pipeline code as ``segview predict``; results go back as small messages, their arrays through shared
memory. The child ends when the pipe reaches its end (the parent closed it or died) or the parent's pid
changes (it was re-parented), so no model process outlives its window.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import threading
import time
from typing import Any

from segview.errors import SegviewError
from segview.inference.jobs import SLICE_SECONDS, JobContext, JobHandler, SlicedJob, counting_job, lasting
from segview.inference.shared_arrays import pack_prediction, unpack_arrays
from segview.inference.worker import InferenceWorker, Priority, Request


def _lazy(module: str, name: str) -> JobHandler:
    """The handler ``module.name``, imported when first called (the child starts without it)."""

    def handler(context: JobContext) -> Any:
        return getattr(importlib.import_module(module), name)(context)

    return handler


# Job kinds beyond predict/load/download/install (prompt models, training): kind -> handler, called on the
# worker thread with a JobContext; it returns the result, or a SlicedJob run a slice at a time
# (segview.inference.jobs says how). Register handlers that import their module lazily.
JOB_HANDLERS: dict[str, JobHandler] = {
    "debug_slices": counting_job,  # tests and benchmarks: (units, unit_s)
    "prompt_embed": _lazy("segview.inference.prompt_jobs", "embed"),  # the image's embedding, kept here
    "prompt_decode": _lazy("segview.inference.prompt_jobs", "decode"),  # a PromptSet's masks, cropped
    "grounded": _lazy("segview.inference.grounded", "grounded_job"),  # class names → (Prediction, CategorySet)
    "everything": _lazy("segview.inference.everything", "everything_job"),  # an image's unlabeled Candidates
    "train": _lazy("segview.inference.training_job", "start_training"),  # a TrainingPlan, in slices
    "train_stop": _lazy("segview.inference.training_job", "stop_training"),  # the run NAME keeps a checkpoint
}


class WeightsMissing(SegviewError):
    """The chosen model's weights are not on this computer yet (the window offers to get them)."""


def message_of(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SegviewError) else f"{type(exc).__name__}: {exc}"


class ModelServer:
    """Requests in through ``conn``, results and events out through it."""

    def __init__(self, conn, parent_pid: int) -> None:
        self.conn = conn
        self.parent_pid = parent_pid
        self._send_lock = threading.Lock()
        self._loaded = None  # the LoadedModel (worker thread)
        self._load_error: tuple[str, BaseException] | None = None
        self._offered: set[str] = set()
        self.cancel_download = threading.Event()
        self.worker = InferenceWorker(self._handle, self._on_result, self._on_error, name="segview-model")

    def send(self, *message: Any) -> None:
        with self._send_lock:
            try:
                self.conn.send(message)
            except (BrokenPipeError, EOFError, OSError):
                os._exit(0)  # the parent is gone

    # --- main thread: the pipe -----------------------------------------------------------------------

    def serve(self) -> None:
        threading.Thread(target=self._watch_parent, name="segview-parent-watch", daemon=True).start()
        self.worker.submit(("start", None), (-1, None, None), Priority.INTERACTIVE)  # torch and the device, at once
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the parent closed the pipe or died: nothing is left to answer
            command, *args = message
            if command == "submit":
                key, serial, payload, priority, packed = args
                image = unpack_arrays(packed)[0] if packed is not None else None
                self.worker.submit(key, (serial, payload, image), Priority(priority))
            elif command == "cancel":
                self.worker.cancel(args[0])
            elif command == "new_generation":
                self.worker.new_generation(keep=lasting)  # a training run goes on
            elif command == "cancel_download":
                self.cancel_download.set()
            elif command == "env":
                os.environ.update(args[0])
            elif command == "reset":  # a model chosen (again), or a new window: offer, load and try afresh
                self._offered.clear()
                self._load_error = None
                self._loaded = None  # its cards or weights may have changed (reloaded when asked for)
            elif command == "shutdown":
                self._shutdown()

    def _shutdown(self) -> None:
        self.cancel_download.set()
        running = self.worker._running
        if running is not None and running.key[0] in ("download", "install"):
            self.worker.shutdown(wait=True, timeout=30)  # it stops at its cancel and removes its partial file
        os._exit(0)

    def _watch_parent(self) -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != self.parent_pid:
                os._exit(0)

    # --- worker thread -------------------------------------------------------------------------------

    def _handle(self, request: Request):
        kind, subject = request.key
        serial, payload, image = request.payload
        self.send("started", request.key, serial)
        if kind == "start":
            return self._start()
        if kind == "download":
            return self._download(subject)
        if kind == "install":
            return self._install(subject, payload)
        if kind == "debug":  # tests: sleep (until done or stale), fail, crash
            return _debug(payload, lambda: self.worker.is_stale(request))
        if kind in JOB_HANDLERS:
            return self._job(request, payload, image)
        name, device, *budget = payload
        if budget:  # the window's pixel budget (--max-pixels) holds here too
            from segview.io.pixel_budget import set_max_pixels

            set_max_pixels(budget[0])
        loads = self._loads
        model = self._model(name, device)
        if kind == "load":
            if loads == self._loads:  # loaded before: the window that asked still hears where it runs
                self.send("model_loaded", name, str(model.device))
            return None
        if image is None:
            from segview.io.images import read_image

            image = read_image(subject)
        if self.worker.is_stale(request):
            return None
        return model.predict(image), model.categories

    def _job(self, request: Request, payload, image):
        """Run a registered job kind: a short one's result, or one slice of a long one (queued again at its
        own priority until it is done, cancelled or stale)."""
        if isinstance(payload, _NextSlice):
            job = payload.job
        else:
            context = JobContext(request.key, payload, image, lambda: self.worker.is_stale(request))
            job = JOB_HANDLERS[request.key[0]](context)
            if not isinstance(job, SlicedJob):
                return job
        serial = request.payload[0]
        done = job.step(SLICE_SECONDS)
        for name, value in job.events():
            self.send("job_event", request.key, serial, name, value)
        if done:
            return job.result()
        self.worker.requeue(request, (serial, _NextSlice(job), None))  # replaces it: nothing delivered now
        return None

    def _start(self):
        import torch  # noqa: F401 - paid now, before the first image needs it
        import torchvision  # noqa: F401

        self.send("state", "idle", "")
        return None

    def _model(self, name: str, device: str):
        if self._loaded is None or self._loaded.card.name != name or self._loaded_device != device:
            from segview.inference.pipeline import load_model
            from segview.inference.weights import WeightsError

            failed = self._load_error
            if failed is not None and failed[0] == name:
                raise failed[1]  # not loaded again for every queued image
            self._loaded = None
            self.send("state", "loading", name)
            try:
                self._loaded = load_model(name, device=device)
            except Exception as exc:
                missing = missing_weights(name) if isinstance(exc, WeightsError) else []
                error: BaseException = exc
                if missing:
                    if name not in self._offered:
                        self._offered.add(name)  # once, not once per queued image
                        self.send("needs_download", name, str(exc), missing)
                    files = ", ".join(file for _member, file in missing)
                    error = WeightsMissing(f"its weights ({files}) are not on this computer yet: Get weights… in "
                                           "the Model panel downloads them or takes a copy you have.")
                self._load_error = (name, error)
                self.send("model_failed", name, message_of(error))
                if error is exc:
                    raise
                raise error from None
            self._loaded_device = device
            self._loads += 1
            self._collection_owed = True
            self.send("model_loaded", name, str(self._loaded.device))
        return self._loaded

    _loaded_device = ""
    _loads = 0
    _collection_owed = False

    def _collect_if_owed(self, kind: str) -> None:
        """Torch and a model are hundreds of thousands of long-lived objects: once loaded, they are put out
        of the collector's reach (or each full collection pauses this process for 0.1-0.3 s). That takes
        0.1-0.7 s itself, so it waits until the first prediction after the load has been sent (or the queue
        is idle): the image on screen does not wait for it."""
        if self._collection_owed and (kind == "predict" or self.worker.pending() == 0):
            self._collection_owed = False
            gc.collect()
            gc.freeze()

    def _download(self, name: str):
        from segview.inference.cards import get_card, weight_cards
        from segview.inference.weights import ensure_weights

        self.cancel_download.clear()
        last = [0.0]

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.05 or (total and done >= total):
                last[0] = now
                self.send("progress", done, total or 0)

        for member in weight_cards(get_card(name)):
            ensure_weights(member, allow_download=True, progress=progress, cancel=self.cancel_download)
        return name

    def _install(self, name: str, files: dict[str, str]):
        from segview.inference.cards import get_card
        from segview.inference.local_weights import install_local_weights

        for member, path in files.items():
            install_local_weights(get_card(member), path)
        self._load_error = None  # the model may load now
        return name

    def _on_result(self, request: Request, result) -> None:
        kind, _subject = request.key
        serial = request.payload[0]
        if kind in ("predict",) and result is not None:
            prediction, categories = result
            meta, packed = pack_prediction(prediction)
            self.send("result", request.key, serial, (meta, packed, categories))
        else:
            shown = kind in ("download", "install", "debug") or kind in JOB_HANDLERS
            self.send("result", request.key, serial, result if shown else None)
        self._collect_if_owed(kind)

    def _on_error(self, request: Request, exc: BaseException) -> None:
        self.send("error", request.key, request.payload[0], message_of(exc))


class _NextSlice:
    """The payload of a sliced job's next turn in the queue."""

    __slots__ = ("job",)

    def __init__(self, job: SlicedJob) -> None:
        self.job = job


def missing_weights(name: str) -> list[tuple[str, str]]:
    """(member card, file name) of each of a model's weights that is not on this computer and can be
    downloaded; empty when none is missing (the model failed for another reason)."""
    from segview.inference.cards import get_card, weight_cards
    from segview.inference.weights import find_weights, remote_weights

    try:
        members = weight_cards(get_card(name))
        return [(m.name, remote.filename) for m in members
                if (remote := remote_weights(m)) is not None and find_weights(m) is None]
    except SegviewError:
        return []


def _debug(payload, stale):
    """Test requests: ("sleep", seconds) sleeps like a long prediction (ending early, as the pipeline's
    stages do, once it is stale); ("fail", message) raises; ("crash",) is a segfault in native code;
    ("frozen",) answers how many objects the collector no longer scans (gc.freeze)."""
    if payload[0] == "frozen":
        return gc.get_freeze_count()
    if payload[0] == "sleep":
        end = time.monotonic() + payload[1]
        while time.monotonic() < end and not stale():
            time.sleep(0.01)
        return payload[1]
    if payload[0] == "crash":
        import ctypes

        ctypes.string_at(0)  # a segfault in native code
    if payload[0] == "fail":
        raise ValueError(payload[1])
    return None


def serve(conn, parent_pid: int) -> None:
    """The child's entry point (called through ``segview.inference.model_process._child``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the window's to handle
    ModelServer(conn, parent_pid).serve()
