"""Model → Find by Name… and Model → Segment Everything: the window's side of the prompt models' pre-labels.

The person types class names (the project's classes by default) and picks a detector and a prompt model;
the model process finds boxes for the names and segments them (``segview.inference.grounded``), and the
result arrives as the image's prediction: its layers, accept / reject, the score threshold and export
treat it like any model's. Names the project or the model in use already has keep their categories.

Segment Everything asks the prompt model for masks from a grid of points; they arrive as the image's
unlabeled candidates, shown as their own layer, and the candidates tool (U) turns them into segments.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QStatusBar, QWidget

from segview.core.candidates import EverythingParams
from segview.core.categories import CategorySet
from segview.core.class_names import names_known, with_categories
from segview.core.wording import count
from segview.core.workspace import ImageEntry, Workspace
from segview.errors import SegviewError
from segview.inference.cards import DEFAULT_PROMPT_MODEL, list_cards
from segview.ui.canvas.canvas import ImageCanvas
from segview.ui.dialogs.find_by_name import ask_find_by_name
from segview.ui.dialogs.missing_files import MissingFilesBox
from segview.ui.docks.browser import ImageBrowser
from segview.ui.editing.candidate_tool import show_candidates
from segview.ui.editing.editor import Editor
from segview.ui.editing.prompt_session import MODEL_KEY
from segview.ui.inference_bridge import InferenceBridge


class FindHost(Protocol):
    """What Find by name needs from the window."""

    bridge: InferenceBridge
    workspace: Workspace
    settings: QSettings
    browser: ImageBrowser
    current: int | None

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt API
    def current_entry(self) -> ImageEntry | None: ...
    def refresh_layers(self) -> None: ...


class FindByName(QObject):
    """Asks for the names, sends the search to the model process, puts its result into the workspace."""

    finished = Signal(object, str)  # image path, what the status bar said
    download_wanted = Signal(object)  # [card names]: the person agreed to download their files (the window does)

    def __init__(self, window: FindHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.found = CategorySet()  # the classes of the results so far (the model's results drop them)
        self.missing_box: MissingFilesBox | None = None  # the last search's missing files, named
        self.pending: Path | None = None  # the image being searched, until its answer or its cancel
        self.last: tuple | None = None  # the last search (path, detector, prompt model, names, known), to retry

    def connect_signals(self) -> None:
        self.window.bridge.grounded_ready.connect(self._ready)
        self.window.bridge.grounded_failed.connect(self._failed)
        self.window.bridge.find_files_missing.connect(self._files_missing)
        self.window.bridge.dropped.connect(self._dropped)
        self.window.bridge.prediction_ready.connect(self._keep_found_classes)  # after the model's own handler

    def open(self) -> None:
        """The menu command: ask, then search the image on screen."""
        window = self.window
        entry = window.current_entry()
        if entry is None:
            window.statusBar().showMessage("Find by name: open an image first.", 8000)
            return
        try:
            cards = list_cards()
        except SegviewError as exc:
            window.statusBar().showMessage(f"Find by name: {exc}", 15000)
            return
        settings = window.settings
        parent = window if isinstance(window, QWidget) else None
        request = ask_find_by_name(
            parent,
            list(self.last[3]) if self.last else [c.name for c in window.workspace.categories],  # last typed first
            [(c.name, c.title) for c in cards if c.task == "detector"],
            [(c.name, c.title) for c in cards if c.task == "prompt"],
            str(settings.value("find/detector", "")),
            str(settings.value(MODEL_KEY, DEFAULT_PROMPT_MODEL)),
        )
        if request is None:
            return
        settings.setValue("find/detector", request.detector)
        settings.setValue(MODEL_KEY, request.prompt_model)  # the prompt model of the tool and Segment Everything too
        known = names_known(window.workspace.model_categories, window.workspace.categories)
        self._search((entry.path, request.detector, request.prompt_model, request.names, known))

    def _search(self, search: tuple) -> None:
        path, detector, prompt_model, names, known = self.last = search
        self.window.bridge.find_by_name(path, detector, prompt_model, names, known)
        self.pending = path
        self.window.statusBar().showMessage(f"Finding {', '.join(names)} in {path.name} with {detector}…")

    def retry(self, downloaded: bool) -> None:
        """The files the last search lacked were downloaded (``downloaded``): search again, if its image is
        still the one on screen. Else the list of the files is shown again."""
        entry = self.window.current_entry()
        if not downloaded:
            if self.missing_box is not None:
                self.missing_box.open()
        elif self.last is not None and entry is not None and entry.path == self.last[0]:
            self._search(self.last)

    def _files_missing(self, path: Path, models: str, files: list[tuple[str, str]], downloadable: list[str]) -> None:
        """Files of the detector or the prompt model (``models`` names those lacking any) are not on this
        computer: the box that names every one of them and where it goes, and offers to download them when
        segview can check them all (the cards ``downloadable``)."""
        self.pending = None
        window = self.window
        if self.missing_box is not None:  # one box at a time: an earlier try's is replaced, not stacked
            self.missing_box.close()
            self.missing_box.deleteLater()
        self.missing_box = MissingFilesBox(models, files, window if isinstance(window, QWidget) else None,
                                           downloadable=bool(downloadable))
        self.missing_box.download_requested.connect(lambda names=list(downloadable): self.download_wanted.emit(names))
        self.missing_box.open()
        message = f"Find by name needs the files of {models}: " + ", ".join(Path(p).name for _url, p in files)
        window.statusBar().showMessage(message, 30000)
        self.finished.emit(path, message)

    def _ready(self, path: Path, generation: int, prediction, categories: CategorySet) -> None:
        window = self.window
        index = window.workspace.index_of(path)
        if generation != window.bridge.generation or index is None:
            return
        self.pending = None
        workspace = window.workspace
        self.found = with_categories(self.found, categories)
        workspace.set_prediction(index, prediction, with_categories(workspace.model_categories, categories))
        window.browser.set_status(index, workspace.entries[index].status)
        if index == window.current:
            window.refresh_layers()
        counts = Counter(categories[i.category_id].name for i in prediction.instances)
        found = ", ".join(f"{n} {name}" for name, n in counts.most_common()) or "nothing"
        message = f"Found {found} in {Path(path).name}: accept or reject it like a prediction."
        window.statusBar().showMessage(message, 15000)
        self.finished.emit(path, message)

    def _keep_found_classes(self, *_result) -> None:
        """A model's result has made its classes the workspace's model classes: the classes of the images
        Find by name answered stay among them, so those images keep their names, colours and accept."""
        workspace = self.window.workspace
        merged = with_categories(workspace.model_categories, self.found)
        if merged == workspace.model_categories:
            return
        workspace.model_categories = merged
        entry = self.window.current_entry()
        if entry is not None and entry.prediction is not None and entry.prediction.model.startswith("grounded:"):
            self.window.refresh_layers()

    def _dropped(self) -> None:
        """The search was cancelled with the queue (Cancel Batch, another model or folder): "Finding…" goes."""
        if self.pending is None:
            return
        path, self.pending = self.pending, None
        text = f"Find by name in {path.name} cancelled."
        self.window.statusBar().showMessage(text, 5000)
        self.finished.emit(path, text)

    def _failed(self, path: Path, message: str) -> None:
        self.pending = None
        text = f"Find by name in {Path(path).name} failed: {message}"
        self.window.statusBar().showMessage(text, 30000)
        self.finished.emit(path, text)


class _CancelAction(Protocol):
    cancel: QAction  # Model → Cancel (Esc)


class _Batch(Protocol):
    batch_total: int  # images in the batch running (0: none)


class EverythingHost(FindHost, Protocol):
    """What Segment Everything needs from the window besides Find by name's."""

    canvas: ImageCanvas
    editor: Editor
    actions_: _CancelAction
    model_control: _Batch


class SegmentEverything(QObject):
    """Sends an image to the prompt model's point grid, keeps its candidates, shows them on screen."""

    finished = Signal(object, str)  # image path, what the status bar said
    weights_wanted = Signal(str, str, object)  # prompt model, message, [(card, file name)]: the window offers them

    def __init__(self, window: EverythingHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.params = EverythingParams()  # the point grid and the filters
        self.pending: Path | None = None  # the image being segmented, until its answer or its cancel

    def connect_signals(self) -> None:
        bridge = self.window.bridge
        bridge.candidates_ready.connect(self._ready)
        bridge.candidates_failed.connect(self._failed)
        bridge.everything_progress.connect(self._progress)
        bridge.everything_weights_missing.connect(self._weights_missing)
        bridge.dropped.connect(self._dropped)
        self.window.actions_.cancel.triggered.connect(self.cancel)
        self.window.editor.refreshed.connect(self._show)

    def cancel(self) -> None:
        """Model → Cancel (Esc): stop the image being segmented (between two batches of points)."""
        if self.pending is not None:
            self.window.bridge.cancel_everything(self.pending)
            self._dropped()

    def run(self) -> None:
        """The menu command: the candidates of the image on screen, with the prompt model last chosen."""
        window = self.window
        entry = window.current_entry()
        if entry is None:
            window.statusBar().showMessage("Segment everything: open an image first.", 8000)
            return
        try:
            prompts = [c.name for c in list_cards() if c.task == "prompt"]
        except SegviewError as exc:
            window.statusBar().showMessage(f"Segment everything: {exc}", 15000)
            return
        chosen = str(window.settings.value(MODEL_KEY, DEFAULT_PROMPT_MODEL))  # the prompt tool's (Edit → Tools)
        name = chosen if chosen in prompts else DEFAULT_PROMPT_MODEL if DEFAULT_PROMPT_MODEL in prompts else None
        name = name or (prompts[0] if prompts else None)
        if name is None:
            window.statusBar().showMessage("Segment everything needs a prompt model (Segment Anything) card.", 15000)
            return
        window.bridge.segment_everything(entry.path, name, self.params)
        self.pending = entry.path
        window.actions_.cancel.setEnabled(True)
        window.statusBar().showMessage(f"Segmenting everything in {entry.name} with {name}… (Esc cancels)")

    def _progress(self, path: Path, done: int, total: int) -> None:
        if path == self.pending:
            self.window.actions_.cancel.setEnabled(True)  # a batch that ended meanwhile turned it off
            self.window.statusBar().showMessage(
                f"Segmenting everything in {path.name}: {done} of {total} points (Esc cancels)")

    def _dropped(self) -> None:
        """Cancelled (Esc, or the queue dropped with Cancel Batch, another model or folder)."""
        if self.pending is None:
            return
        path = self.pending
        self._end()
        text = f"Segment everything in {path.name} cancelled."
        self.window.statusBar().showMessage(text, 5000)
        self.finished.emit(path, text)

    def _end(self) -> None:
        """Not busy any more: Cancel (Esc) stays on only for a batch."""
        self.pending = None
        self.window.actions_.cancel.setEnabled(bool(self.window.model_control.batch_total))

    def _ready(self, path: Path, generation: int, candidates) -> None:
        window = self.window
        index = window.workspace.index_of(path)
        if generation != window.bridge.generation or index is None:
            return
        if path == self.pending:
            self._end()
        window.workspace.entries[index].candidates = candidates
        if index == window.current:
            self._show()
            window.editor.set_tool("candidates")
        message = (f"{count(len(candidates), 'candidate')} in {Path(path).name}: pick a class (1–9), then click a "
                   "candidate to make it a segment of that class." if len(candidates) else
                   f"No candidates in {Path(path).name}: the prompt model found no mask that passed the filters.")
        window.statusBar().showMessage(message, 30000)
        self.finished.emit(path, message)

    def _failed(self, path: Path, message: str) -> None:
        if path == self.pending:
            self._end()
        text = f"Segment everything in {Path(path).name} failed: {message}"
        self.window.statusBar().showMessage(text, 30000)
        self.finished.emit(path, text)

    def _weights_missing(self, path: Path, name: str, message: str, files: list[tuple[str, str]]) -> None:
        """The prompt model's weights are not on this computer: the window offers to get them."""
        if path == self.pending:
            self._end()
        text = (f"Segment everything needs the weights of {name} ({', '.join(file for _card, file in files)}), "
                "not on this computer yet: get them, then try again.")
        self.window.statusBar().showMessage(text, 30000)
        self.weights_wanted.emit(name, message, files)
        self.finished.emit(path, text)

    def _show(self) -> None:
        entry = self.window.editor.entry
        show_candidates(self.window.canvas, None if entry is None else entry.candidates)
