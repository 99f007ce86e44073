"""The Qt face of the inference worker: requests in, signals out (delivered on the GUI thread).

The worker thread owns the model; torch is imported there when a model is first needed, so the window
appears before torch loads. Results carry the generation they were asked for: after a model switch the
window ignores anything older.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from segview.errors import SegviewError
from segview.inference.worker import InferenceWorker, Priority, Request


class WeightsMissing(SegviewError):
    """The chosen model's weights are not on this computer yet (the window offers to get them)."""


class InferenceBridge(QObject):
    """Runs predictions, weight downloads and installs of local copies on the inference thread and
    reports through signals."""

    prediction_ready = Signal(object, int, object, object)  # path, generation, Prediction, CategorySet
    failed = Signal(object, str)  # path (None for the model itself), message
    model_loaded = Signal(str, str)  # card name, device description
    model_failed = Signal(str, str)  # card name, why it cannot be loaded (once per choice of the model)
    needs_download = Signal(str, str, object)  # card name, message, [(member card, file name)] missing
    download_progress = Signal(int, int)  # bytes done, total (0 when unknown)
    download_finished = Signal(str, bool, str)  # card name, ok, message

    def __init__(self, device: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self.model_name: str | None = None
        self._loaded = None  # owned by the worker thread
        self._cancel_download = threading.Event()
        self._offered: set[str] = set()  # models whose download was offered since they were chosen
        self._load_error: tuple[str, BaseException] | None = None  # the chosen model failed to load
        self._worker = InferenceWorker(self._handle, self._on_result, self._on_error)

    @property
    def generation(self) -> int:
        return self._worker.generation

    def set_model(self, name: str) -> int:
        """Switch models: every queued or running request becomes stale. Returns the new generation."""
        self.model_name = name
        self._offered.discard(name)  # choosing a model again may offer its download again
        self._load_error = None  # choosing a model again tries to load it again
        return self._worker.new_generation()

    def request(self, path: Path, priority: Priority = Priority.VISIBLE) -> None:
        """Ask for a prediction of one image (a newer request for the same image replaces it)."""
        if self.model_name is None:
            return
        self._worker.submit(("predict", path), (self.model_name, self.device), priority)

    def download(self, name: str) -> None:
        """Download a model's weights on the worker thread, reporting progress."""
        self._cancel_download.clear()
        self._worker.submit(("download", name), (name,), Priority.VISIBLE)

    def install(self, name: str, files: dict[str, str]) -> None:
        """Check local copies of weights (member card name -> file) and put them where segview looks, on
        the worker thread; reports through ``download_finished`` like a download."""
        self._worker.submit(("install", name), (dict(files),), Priority.VISIBLE)

    def cancel_download(self) -> None:
        self._cancel_download.set()

    def cancel_all(self) -> None:
        """Drop every queued prediction (the running one finishes but is not delivered)."""
        self._worker.new_generation()

    def pending(self) -> int:
        return self._worker.pending()

    def writing_files(self) -> bool:
        """A weights download or install is running: it must stop (at its cancel) and clean up before the
        process ends."""
        running = self._worker._running
        return running is not None and running.key[0] in ("download", "install")

    def shutdown(self, wait: bool = True) -> None:
        """Stop the inference thread after its running request (nothing more is delivered); ``wait=False``
        returns at once (closing the window must not wait for a model that is seconds into an image)."""
        self._cancel_download.set()
        self._worker.shutdown(wait=wait, timeout=30)

    # --- worker thread -------------------------------------------------------------------------------

    def _handle(self, request: Request):
        kind, subject = request.key
        if kind == "download":
            return self._download(subject)
        if kind == "install":
            return self._install(subject, request.payload[0])
        name, device = request.payload
        model = self._model(name, device)
        from segview.io.images import read_image

        image = read_image(subject)
        if self._worker.is_stale(request):
            return None
        return model.predict(image), model.categories

    def _model(self, name: str, device: str):
        if self._loaded is None or self._loaded.card.name != name:
            from segview.inference.pipeline import load_model
            from segview.inference.weights import WeightsError

            failed = self._load_error
            if failed is not None and failed[0] == name:
                raise failed[1]  # not loaded again for every queued image
            self._loaded = None
            try:
                self._loaded = load_model(name, device=device)
            except Exception as exc:
                missing = _missing_weights(name) if isinstance(exc, WeightsError) else []
                error: BaseException = exc
                if missing:
                    if name not in self._offered:
                        self._offered.add(name)  # once, not once per queued image
                        self.needs_download.emit(name, str(exc), missing)
                    files = ", ".join(file for _member, file in missing)
                    error = WeightsMissing(f"its weights ({files}) are not on this computer yet: Get weights… in "
                                           "the Model panel downloads them or takes a copy you have.")
                self._load_error = (name, error)
                message = str(error) if isinstance(error, SegviewError) else f"{type(error).__name__}: {error}"
                self.model_failed.emit(name, message)
                if error is exc:
                    raise
                raise error from None
            # torch, torchvision and the model are hundreds of thousands of long-lived objects: move
            # them out of the collector's reach, or each full collection pauses every thread for
            # ~0.1-0.3 s (the window included).
            gc.collect()
            gc.freeze()
            self.model_loaded.emit(name, str(self._loaded.device))
        return self._loaded

    def _download(self, name: str):
        from segview.inference.cards import get_card, weight_cards
        from segview.inference.weights import ensure_weights

        def progress(done: int, total: int | None) -> None:
            self.download_progress.emit(done, total or 0)

        for member in weight_cards(get_card(name)):
            ensure_weights(member, allow_download=True, progress=progress, cancel=self._cancel_download)
        return name

    def _install(self, name: str, files: dict[str, str]):
        from segview.inference.cards import get_card
        from segview.inference.local_weights import install_local_weights

        for member, path in files.items():
            install_local_weights(get_card(member), path)
        return name

    def _on_result(self, request: Request, result) -> None:
        kind, subject = request.key
        if kind in ("download", "install"):
            self.download_finished.emit(subject, True, "")
        elif result is not None:
            prediction, categories = result
            self.prediction_ready.emit(subject, request.generation, prediction, categories)

    def _on_error(self, request: Request, exc: BaseException) -> None:
        kind, subject = request.key
        message = str(exc) if isinstance(exc, SegviewError) else f"{type(exc).__name__}: {exc}"
        if kind in ("download", "install"):
            self.download_finished.emit(subject, False, message)
        else:
            self.failed.emit(subject, message)


def _missing_weights(name: str) -> list[tuple[str, str]]:
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
