"""The Qt face of the model process: requests in, signals out (delivered on the GUI thread).

A child process (``segview.inference.model_process``) owns torch, the models and the device; it is started
as the window opens, so torch's import and the model's load are paid before the first image needs them,
and the GUI process never imports torch. Results carry the generation they were asked for: after a model
switch the window ignores anything older. When the child dies (kill -9, a segfault, a CUDA error, the OOM
killer) ``process_died`` says so; it is restarted and what was not answered is asked again, up to three
deaths in a minute.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from segview.core.masks import CroppedMask
from segview.inference.model_process import ModelProcess
from segview.inference.worker import Priority
from segview.io.pixel_budget import max_pixels

ENV_PREFIX = "SEGVIEW_"  # the child gets these as they are when a window takes it over


class InferenceBridge(QObject):
    """Runs predictions, weight downloads and installs of local copies in the model process and reports
    through signals."""

    prediction_ready = Signal(object, int, object, object)  # path, generation, Prediction, CategorySet
    failed = Signal(object, str)  # path (None for the model itself), message
    model_loaded = Signal(str, str)  # card name, device description
    model_failed = Signal(str, str)  # card name, why it cannot be loaded (once per choice of the model)
    needs_download = Signal(str, str, object)  # card name, message, [(member card, file name)] missing
    download_progress = Signal(int, int)  # bytes done, total (0 when unknown)
    download_finished = Signal(str, bool, str)  # card name, ok, message
    process_state = Signal(str, str)  # "starting" | "idle" (torch imported) | "loading", model name
    process_died = Signal(str, bool)  # what happened, whether it was restarted
    prompt_ready = Signal(object, int, object)  # path, token, [(CroppedMask, predicted IoU)] best first
    prompt_failed = Signal(object, str)  # path, message
    embedding_ready = Signal(object, str)  # path, where it was: "memory" | "disk" | "computed"
    prompt_weights_missing = Signal(str, str, object)  # prompt model, message, [(card, file name)]
    grounded_ready = Signal(object, int, object, object)  # path, generation, Prediction, CategorySet (Find by name)
    grounded_failed = Signal(object, str)  # path, message
    dropped = Signal()  # every queued and running request became stale (Cancel, a model switch, a new folder)
    # path, models lacking files ("A and B"), [(URL, where it goes)], the cards segview can download for them
    find_files_missing = Signal(object, str, object, object)
    candidates_ready = Signal(object, int, object)  # path, generation, Candidates (Segment Everything)
    candidates_failed = Signal(object, str)  # path, message
    everything_progress = Signal(object, int, int)  # path, points decoded, points in all (Segment Everything)
    everything_weights_missing = Signal(object, str, str, object)  # path, prompt model, message, [(card, file name)]
    training_event = Signal(str, object)  # "prepared" TrainingSetup | "progress" TrainingProgress | "evaluating"
    training_ended = Signal(str, object)  # "finished" TrainingOutcome | "stopped" (progress, kept) | "failed" message

    shared_process: ModelProcess | None = None  # tests: one child taken over by window after window

    def __init__(self, device: str = "auto", parent: QObject | None = None,
                 process: ModelProcess | None = None) -> None:
        """``process``: a model process started already (the app spawns it before the window), now this
        bridge's to own and shut down."""
        super().__init__(parent)
        self.device = device
        self.model_name: str | None = None
        self.training: str | None = None  # the name of the model being trained, while a run goes on
        shared = InferenceBridge.shared_process if process is None else None
        self._owns = shared is None
        self._process = shared or process or ModelProcess(start=False)
        self._process.set_listener(self._on_event)
        self._process.set_env({k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)})
        if shared is not None:
            self._process.reset()
        elif process is None:
            self._process.start()  # in the background: the window does not wait for it

    @property
    def generation(self) -> int:
        return self._process.generation

    @property
    def process(self) -> ModelProcess:
        return self._process

    def set_model(self, name: str) -> int:
        """Switch models: every queued or running request becomes stale, the model loads at once.
        Returns the new generation."""
        self.model_name = name
        self._process.reset()  # offers its download again, loads it afresh; restarts a process given up on
        generation = self._process.generation
        self._process.submit(("load", name), (name, self.device), Priority.VISIBLE)
        self.dropped.emit()
        return generation

    def request(self, path: Path, priority: Priority = Priority.VISIBLE) -> None:
        """Ask for a prediction of one image (a newer request for the same image replaces it)."""
        if self.model_name is None:
            return
        self._process.submit(("predict", path), (self.model_name, self.device, max_pixels()), priority)

    def download(self, name: str) -> None:
        """Download a model's weights in the model process, reporting progress."""
        self._process.submit(("download", name), None, Priority.VISIBLE)

    def install(self, name: str, files: dict[str, str]) -> None:
        """Check local copies of weights (member card name -> file) and put them where segview looks, in the
        model process; reports through ``download_finished`` like a download."""
        self._process.submit(("install", name), dict(files), Priority.VISIBLE)

    def find_by_name(self, path: Path, detector: str, prompt_model: str, names, known) -> None:
        """Look for class names in one image: ``detector`` finds boxes, ``prompt_model`` segments them
        (``segview.inference.grounded``); ``known`` (a CategorySet) gives names their categories. Reports through
        ``grounded_ready`` or ``grounded_failed``."""
        payload = {"detector": detector, "prompt_model": prompt_model, "device": self.device, "names": tuple(names),
                   "known": known, "max_pixels": max_pixels()}
        self._process.submit(("grounded", path), payload, Priority.VISIBLE)

    def embed(self, path: Path, prompt_model: str, priority: Priority = Priority.VISIBLE) -> None:
        """Have the prompt model's embedding of an image ready in the model process (VISIBLE for the image
        on screen, NEIGHBOUR for the next); reports through ``embedding_ready``."""
        self._process.submit(("prompt_embed", path), (prompt_model, self.device, max_pixels()), priority)

    def decode(self, path: Path, prompt_model: str, prompts, multimask: bool, token: int) -> None:
        """The masks of a prompt (a ``PromptSet``) on an image, most urgent of all; a newer prompt for the
        image replaces one not started yet. Reports through ``prompt_ready`` (with ``token``)."""
        payload = (prompt_model, self.device, max_pixels(), prompts, multimask, token)
        self._process.submit(("prompt_decode", path), payload, Priority.INTERACTIVE)

    def segment_everything(self, path: Path, prompt_model: str, params=None) -> None:
        """Unlabeled mask candidates for a whole image from the prompt model's point grid
        (``segview.inference.everything``; ``params`` an EverythingParams, None for its defaults); reports
        through ``candidates_ready`` or ``candidates_failed``."""
        payload = (prompt_model, self.device, max_pixels(), params)
        self._process.submit(("everything", path), payload, Priority.VISIBLE)

    def cancel_everything(self, path: Path) -> None:
        """Stop Segment Everything on an image (between two batches of points); nothing is delivered."""
        self._process.cancel(("everything", path))

    def cancel_download(self) -> None:
        self._process.cancel_download()

    def start_training(self, plan) -> None:
        """Train ``plan`` (a ``segview.train.plan.TrainingPlan``) in the model process, a slice at a time
        between predictions (``segview.inference.training_job``); reports through ``training_event`` and
        ``training_ended``."""
        self.training = plan.name
        self._process.submit(("train", plan.name), plan, Priority.TRAINING)

    def stop_training(self) -> None:
        """Ask the run to stop at its next slice; it keeps a checkpoint and ends as "stopped"."""
        if self.training is not None:
            self._process.submit(("train_stop", self.training), None, Priority.INTERACTIVE)

    def cancel_all(self) -> None:
        """Drop every queued prediction (the running one finishes but is not delivered)."""
        self._process.new_generation()
        self.dropped.emit()

    def pending(self) -> int:
        return self._process.pending()

    def writing_files(self) -> bool:
        """A weights download or install is running: it must stop (at its cancel) and clean up before the
        process ends."""
        return self._process.running_kind() in ("download", "install")

    def shutdown(self, wait: bool = True) -> None:
        """Stop the model process: at once, unless it writes weights (then it stops at its cancel and
        removes its partial file); ``wait`` joins it. A shared process is only released (a training run
        is dropped: its checkpoints stay)."""
        self._process.cancel_download()
        if self.training is not None:
            self._process.cancel(("train", self.training))
            self.training = None
        if self._owns:
            self._process.shutdown(wait=wait)
        else:
            self._process.new_generation()
            self._process.set_listener(None)

    # --- the process's reader thread (signals are queued to the GUI thread) --------------------------

    def _on_event(self, kind: str, *args) -> None:
        if kind in ("result", "error"):
            key, generation, value = args
            what, subject = key
            if what == "train":
                self._training_ended(subject, kind, value)
            elif what in ("download", "install"):
                self.download_finished.emit(subject, kind == "result", "" if kind == "result" else value)
            elif what in ("prompt_decode", "prompt_embed"):
                self._prompt_answer(what, subject, kind, value)
            elif what == "everything":
                if kind == "error":
                    self.candidates_failed.emit(subject, value)
                elif isinstance(value, tuple) and value and value[0] == "missing":
                    self.everything_weights_missing.emit(subject, *value[1:])
                elif value is not None:
                    self.candidates_ready.emit(subject, generation, value)
            elif what == "grounded":
                if kind == "error":
                    self.grounded_failed.emit(subject, value)
                elif isinstance(value, tuple) and value and value[0] == "missing":
                    self.find_files_missing.emit(subject, *value[1:])
                elif value is not None:
                    self.grounded_ready.emit(subject, generation, *value)
            elif what == "predict":
                if kind == "error":
                    if generation == self.generation:  # an earlier model's failure is not this one's
                        self.failed.emit(subject, value)
                elif value is not None:
                    prediction, categories = value
                    self.prediction_ready.emit(subject, generation, prediction, categories)
        elif kind == "state":
            self.process_state.emit(args[0], args[1])
        elif kind == "job_event":
            key, name, payload = args
            if key == ("train", self.training):
                self.training_event.emit(name, payload)
            elif key[0] == "everything" and name == "progress":
                self.everything_progress.emit(key[1], *payload)
        elif kind == "died":
            if self.training is not None:  # not run again after the restart: it says why and stays stopped
                self._process.cancel(("train", self.training))
                self._training_ended(self.training, "error", args[0])
            self.process_died.emit(args[0], args[1])
        elif kind == "model_loaded":
            self.model_loaded.emit(*args)
        elif kind == "model_failed":
            self.model_failed.emit(*args)
        elif kind == "needs_download":
            self.needs_download.emit(*args)
        elif kind == "progress":
            self.download_progress.emit(*args)

    def _training_ended(self, name: str, kind: str, value) -> None:
        if name != self.training:
            return
        self.training = None
        if kind == "error":
            self.training_ended.emit("failed", value)
        else:
            self.training_ended.emit(value[0], value[1:] if value[0] == "stopped" else value[1])

    def _prompt_answer(self, what: str, path, kind: str, value) -> None:
        if kind == "error":
            self.prompt_failed.emit(path, value)
        elif isinstance(value, tuple) and value and value[0] == "missing":
            self.prompt_weights_missing.emit(*value[1:])
        elif value is not None and what == "prompt_embed":
            self.embedding_ready.emit(path, value[2])
        elif value is not None:
            meta, crops = value
            masks = [(CroppedMask(x, y, crop), score) for (x, y, score), crop in zip(meta["masks"], crops, strict=True)]
            self.prompt_ready.emit(path, meta["token"], masks)
