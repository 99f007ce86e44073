"""The window's side of the model: choosing a model, its results arriving (or failing), the fusion
parameters, and running it on this image, on all images (a batch, with progress and Cancel) or ahead on
the neighbours of the image on screen. The model itself runs behind ``InferenceBridge``."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QStatusBar

from segview.core.categories import CategorySet
from segview.core.category_edits import in_project_classes
from segview.core.workspace import ImageEntry, ImageStatus, Workspace
from segview.errors import SegviewError
from segview.inference.worker import Priority
from segview.ui.docks.browser import ImageBrowser
from segview.ui.docks.model_panel import ModelEntry, ModelPanel
from segview.ui.inference_bridge import InferenceBridge


def available_models() -> list[ModelEntry]:
    """Name, title and hint of every model card; an unreadable user card is skipped, not fatal."""
    from segview.inference.cards import PREDICT_TASKS, list_cards

    try:
        return [ModelEntry(c.name, c.title, c.hint) for c in list_cards() if c.task in PREDICT_TASKS]
    except SegviewError:
        return []


class ModelHost(Protocol):
    """What the model's side needs from the window."""

    bridge: InferenceBridge
    workspace: Workspace
    settings: QSettings
    browser: ImageBrowser
    model_panel: ModelPanel
    device_label: QLabel  # the status bar's "<model> on <device>"
    current: int | None

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt API
    def current_entry(self) -> ImageEntry | None: ...
    def show_image(self, index: int) -> None: ...
    def refresh_layers(self) -> None: ...


class ModelControl(QObject):
    """Connects the Model dock and the bridge's results to the window's workspace and status bar."""

    def __init__(self, window: ModelHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.bridge = window.bridge
        self.cancel_action: QAction | None = None  # Model → Cancel Batch: on only while a batch runs
        self.batch_total = 0
        self.batch_done = 0
        self.model_error: str | None = None  # why the chosen model failed to load
        self._model_error_shown: str | None = None  # the status-bar text saying so (cleared by a working model)
        self._reference_classes: CategorySet | None = None  # the previous model's, until the new model's come

    def connect_signals(self) -> None:
        panel = self.window.model_panel
        panel.model_chosen.connect(self.set_model)
        panel.params_changed.connect(self._params_changed)
        panel.run_all.connect(self.run_all)
        panel.cancel.connect(self.cancel_batch)
        self.bridge.prediction_ready.connect(self._prediction_ready)
        self.bridge.failed.connect(self._prediction_failed)
        self.bridge.model_loaded.connect(self._model_loaded)
        self.bridge.model_failed.connect(self._model_failed)
        self.bridge.process_state.connect(self._process_state)
        self.bridge.process_died.connect(self._process_died)
        if self.bridge.process.state == "starting":  # it was spawned with the bridge, before this was connected
            self._process_state("starting", "")

    def set_model(self, name: str) -> None:
        """Use another model: old results are kept as the reference for model-vs-model diffs."""
        window = self.window
        previous = self.bridge.model_name
        self.bridge.set_model(name)
        self.model_error = None
        window.settings.setValue("model", name)
        if previous:
            self._reference_classes = window.workspace.model_categories
        window.workspace.clear_predictions(keep_as_reference=previous or "")
        self.set_batch(0, 0)
        window.device_label.setText(f"Loading {name}…")
        for index, entry in enumerate(window.workspace.entries):
            window.browser.set_status(index, entry.status)
        shown = window.current if window.current is not None else window.browser.current_index()
        if shown is not None and 0 <= shown < len(window.workspace.entries):
            window.show_image(shown)  # an unreadable image still gets its neighbours predicted

    def use_new_model(self, name: str) -> None:
        """A model trained in the window: list it, make it the active model (the previous model's results
        stay as the compare view's reference) and predict again the images not corrected yet."""
        self.window.model_panel.set_models(available_models(), name)
        self.set_model(name)
        self.run_all(uncorrected_only=True)

    def prefetch_neighbours(self, index: int) -> None:
        workspace = self.window.workspace
        for neighbour in workspace.neighbours(index):
            if workspace.entries[neighbour].prediction is None:
                self.bridge.request(workspace.entries[neighbour].path, Priority.NEIGHBOUR)

    def run_current(self) -> None:
        entry = self.window.current_entry()
        if entry is not None:
            self.bridge.request(entry.path, Priority.VISIBLE)

    def run_all(self, uncorrected_only: bool = False) -> None:
        """Predict every image without a result (``uncorrected_only``: but the corrected ones)."""
        todo = [e for e in self.window.workspace.entries if e.prediction is None
                and not (uncorrected_only and e.status == ImageStatus.CORRECTED)]
        for entry in todo:
            self.bridge.request(entry.path, Priority.BATCH)
        self.set_batch(0, len(todo))

    def set_batch(self, done: int, total: int) -> None:
        """Batch progress; the batch is over when done reaches total. Cancel (Esc) works only while it
        runs: otherwise Escape goes to the tool or the selection."""
        running = total > 0 and done < total
        self.batch_done, self.batch_total = (done, total) if running else (0, 0)
        self.window.model_panel.set_batch(done, total)
        if self.cancel_action is not None:
            self.cancel_action.setEnabled(running)

    def cancel_batch(self) -> None:
        if not self.batch_total:  # nothing to cancel: the prefetch of the neighbours goes on
            return
        self.bridge.cancel_all()
        self.set_batch(0, 0)
        self.window.statusBar().showMessage("Batch cancelled", 5000)
        entry = self.window.current_entry()
        if entry is not None and entry.prediction is None:  # the image on screen still gets its result
            self.bridge.request(entry.path, Priority.VISIBLE)

    def _prediction_ready(self, path, generation: int, prediction, categories: CategorySet) -> None:
        if generation != self.bridge.generation:
            return
        window = self.window
        index = window.workspace.index_of(path)
        if index is None:
            return
        if self._reference_classes is not None:
            self._relabel_references(categories)
        window.workspace.set_prediction(index, prediction, categories)
        window.device_label.setText(f"{self.bridge.model_name} on {prediction.device}")
        window.browser.set_status(index, window.workspace.entries[index].status)
        if self.batch_total:
            self.set_batch(self.batch_done + 1, self.batch_total)
        if index == window.current:
            window.refresh_layers()

    def _relabel_references(self, categories: CategorySet) -> None:
        """The previous model's results in this model's classes, matched by name (its class ids name other
        classes: a trained model numbers its classes anew), so that "this model vs the previous model"
        marks the pixels whose class changed; a class this model lacks gets an id of its own."""
        previous, self._reference_classes = self._reference_classes, None
        for entry in self.window.workspace.entries:
            if entry.reference is not None:
                entry.reference = in_project_classes(categories, previous, entry.reference)[1]

    def _prediction_failed(self, path, message: str) -> None:
        entry = self.window.current_entry()
        prefetch = path is not None and not self.batch_total and (entry is None or entry.path != path)
        if message != self.model_error and not prefetch:  # a neighbour's failure shows when it is visited
            name = Path(path).name if path is not None else "model"
            self.window.statusBar().showMessage(f"{name}: {message}", 15000)
        if self.batch_total:
            self.set_batch(self.batch_done + 1, self.batch_total)

    def _model_failed(self, name: str, message: str) -> None:
        if name != self.bridge.model_name:
            return
        self.model_error = message
        self.window.device_label.setText(f"{name}: failed to load")
        self.window.model_panel.device.setText("device: failed to load")
        self._model_error_shown = f"Model {name} cannot be used: {message} Choose another model."
        self.window.statusBar().showMessage(self._model_error_shown)

    def _model_loaded(self, name: str, device: str) -> None:
        self.window.device_label.setText(f"{name} on {device}")
        self.window.model_panel.device.setText(f"device: {device}")
        status = self.window.statusBar()
        if self._model_error_shown is not None and status.currentMessage() == self._model_error_shown:
            status.clearMessage()  # a model works now: the failure of another is history
        self._model_error_shown = None

    def _process_state(self, state: str, detail: str) -> None:
        """The model process's state in the status bar: starting, loading MODEL (then "MODEL on DEVICE")."""
        label, name = self.window.device_label, self.bridge.model_name
        if state == "starting":
            label.setText("Starting the model process…" if name is None else f"Starting the model process for {name}…")
        elif state == "idle" and name is None:
            label.setText("No model loaded")
        elif state == "loading" and detail == name:
            label.setText(f"Loading {name}…")
            self.window.model_panel.device.setText("device: loading…")

    def _process_died(self, message: str, restarting: bool) -> None:
        """The model process died (kill -9, segfault, CUDA error, OOM killer): say so; it was restarted and
        asked again for what was pending (the image on screen too), or it was given up on after three deaths
        in a minute. Edits live in this process and the project store: none is touched."""
        window = self.window
        window.statusBar().showMessage(message, 30000 if restarting else 0)
        if not restarting:
            self.model_error = message  # each pending image fails with it: said once, here
            window.device_label.setText("Model process stopped")
            window.model_panel.device.setText("device: stopped")
            return
        window.device_label.setText("Restarting the model process…")
        entry = window.current_entry()
        if entry is not None and entry.prediction is None:
            self.bridge.request(entry.path, Priority.VISIBLE)

    def _params_changed(self, params) -> None:
        self.window.workspace.set_params(
            score_threshold=params.score_threshold,
            overlap_threshold=params.overlap_threshold,
            stuff_area_limit=params.stuff_area_limit,
        )
        self.window.refresh_layers()
