"""Getting the weights of a model that does not have them here: download them (with progress), or use a
copy on this computer ("Use a local file…", checked like a download), or not now. The answer "not now" is
remembered, so a later start with that model does not ask again: "Get weights…" in the Model panel does.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from segview.ui.dialogs.download_dialog import WeightsDialog, file_filter
from segview.ui.docks.model_panel import ModelPanel
from segview.ui.inference_bridge import InferenceBridge

DECLINED_KEY = "weights/declined"  # QSettings: models whose weights the user chose not to get now


class WeightsHost(Protocol):
    """What the offer needs from the window (a QWidget: the parent of its dialogs)."""

    bridge: InferenceBridge
    model_panel: ModelPanel

    def set_model(self, name: str) -> None: ...


class WeightsOffer(QObject):
    """The window's side of missing weights: asks once per model (remembered in QSettings), downloads or
    installs a local copy through the inference bridge, then loads the model again."""

    downloads_done = Signal(bool)  # the models of download_all are all here (True), or one failed or was cancelled

    def __init__(self, window: WeightsHost, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.bridge = window.bridge
        self.panel = window.model_panel
        self.dialog: WeightsDialog | None = None
        self.progress: QProgressDialog | None = None
        self._downloading = False  # the request running is a download (not a local file's check)
        self._missing: dict[str, tuple[str, list[tuple[str, str]]]] = {}  # name -> message, missing files
        self._queue: list[str] = []  # download_all's models still to download, after the one running
        self._queued = False  # the download running is one of download_all's
        self.bridge.needs_download.connect(self._needs)
        self.bridge.model_loaded.connect(self._loaded)
        self.bridge.model_failed.connect(self._failed)
        self.bridge.download_progress.connect(self._progress)
        self.bridge.download_finished.connect(self._finished)
        self.panel.get_weights.connect(lambda: self.ask(self.bridge.model_name or ""))

    def declined(self) -> set[str]:
        """The models whose weights the user chose not to get now (not asked about again)."""
        return set(self.settings.value(DECLINED_KEY, [], type=list))

    def ask(self, name: str) -> None:
        """Show the dialog for ``name`` (its weights were found missing when it was loaded)."""
        if name not in self._missing:
            return
        if self.dialog is not None:  # replaced, not answered: its closing must not count as "not now"
            self.dialog.finished.disconnect()
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = WeightsDialog(_shown_name(name), self._missing[name][0], self.window,
                                    downloadable=_downloadable(self._missing[name][1]))
        self.dialog.finished.connect(lambda _result, d=self.dialog, n=name: self._answered(n, d.choice()))
        self.dialog.open()

    def offer(self, name: str, message: str, missing: list[tuple[str, str]]) -> None:
        """Ask about ``name``'s missing weights now, even after "not now": a command the user chose needs them."""
        self._missing[name] = (message, list(missing))
        self.ask(name)

    def download_all(self, names: list[str]) -> None:
        """Download the weights of ``names`` one after the other (the person agreed to all of them at once);
        ``downloads_done`` says how it ended."""
        self._queue = list(names)
        self._download_next()

    def _download_next(self) -> None:
        self._queued = bool(self._queue)
        if not self._queue:
            self.downloads_done.emit(True)
            return
        name = self._queue.pop(0)
        self._start(f"Downloading the weights of {name}…", lambda: self.bridge.download(name), downloading=True)

    def _needs(self, name: str, message: str, missing: list[tuple[str, str]]) -> None:
        self._missing[name] = (message, list(missing))
        if name == self.bridge.model_name:
            self.panel.set_weights_missing(True)
        if name not in self.declined():
            self.ask(name)

    def _answered(self, name: str, choice: str) -> None:
        declined = self.declined()
        if choice == "later":
            declined.add(name)
        else:
            declined.discard(name)
        self.settings.setValue(DECLINED_KEY, sorted(declined))
        if choice == "download":
            self._start(f"Downloading the weights of {name}…", lambda: self.bridge.download(name), downloading=True)
        elif choice == "local":
            self._use_local_files(name)

    def _use_local_files(self, name: str) -> None:
        files = {}
        for member, file_name in self._missing[name][1]:
            path, _filter = QFileDialog.getOpenFileName(
                self.window, f"The weights of {member} ({file_name})", "", file_filter(file_name))
            if not path:
                return
            files[member] = path
        self._start(f"Checking the weights for {name}…", lambda: self.bridge.install(name, files), downloading=False)

    def _start(self, text: str, begin, *, downloading: bool) -> None:
        self._downloading = downloading
        if self.progress is not None:
            self.progress.deleteLater()
        self.progress = QProgressDialog(text, "Cancel", 0, 0, self.window)
        self.progress.setObjectName("weights-progress")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.canceled.connect(self.bridge.cancel_download)
        begin()
        self.progress.show()

    def _progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.setMaximum(max(total // 1024, 0))
            self.progress.setValue(done // 1024)

    def _finished(self, name: str, ok: bool, text: str) -> None:
        if self.progress is not None:
            self.progress.close()
        if not ok:
            if self._downloading:  # the download's advice is the command line's: say the window's way
                text += "\n\n" + _local_copy_advice(name, self._queued)
            QMessageBox.warning(self.window, "The weights cannot be used", text)
            if self._queued:
                self._queue, self._queued = [], False
                self.downloads_done.emit(False)
            return
        self._missing.pop(name, None)
        if self._queued:  # download_all's: the models are for the command that asked, not the Model panel
            self._download_next()
        elif _predicts(name):  # a prompt model (the prompt tool's) is used at its next prompt
            self.window.set_model(name)

    def _loaded(self, name: str, _device: str) -> None:
        if name == self.bridge.model_name:
            self.panel.set_weights_missing(False)

    def _failed(self, name: str, _message: str) -> None:
        if name == self.bridge.model_name:  # "Get weights…" only for a model that lacks them
            self.panel.set_weights_missing(name in self._missing)


def _shown_name(name: str) -> str:
    """A model as the menus show it, with its card's name: "EdgeTAM (edgetam)"."""
    from segview.errors import SegviewError
    from segview.inference.cards import get_card

    try:
        title = get_card(name).title.split(" (")[0].strip()
    except SegviewError:
        return name
    return f"{title} ({name})" if title and title != name else name


def _local_copy_advice(name: str, for_find_by_name: bool) -> str:
    """How to give ``name``'s files in the window when they cannot be downloaded: the way that fits it."""
    if for_find_by_name:
        return ("With copies of the files on this computer: save them under the names and in the folder that "
                "Model → Find by Name… lists (Open folder), then find again.")
    if _predicts(name):
        return "With a copy of the file on this computer: Get weights… in the Model panel, then Use a local file…"
    return "With a copy of the file on this computer: choose the prompt tool again (T), then Use a local file…"


def _predicts(name: str) -> bool:
    """The card ``name`` is a prediction model (not the prompt tool's Segment Anything)."""
    from segview.errors import SegviewError
    from segview.inference.cards import PREDICT_TASKS, get_card

    try:
        return get_card(name).task in PREDICT_TASKS
    except SegviewError:
        return True


def _downloadable(missing: list[tuple[str, str]]) -> bool:
    """segview can download every missing file: each card's weights come from torchvision, or from a URL with
    a SHA-256 or the Hub's record of one (a card with neither is refused by the download, so the window does
    not offer it)."""
    from segview.errors import SegviewError
    from segview.inference.cards import get_card

    try:
        sources = [get_card(member).weights for member, _file_name in missing]
    except SegviewError:
        return True  # the download says what is wrong with the card
    return all(source is not None and source.checkable for source in sources)
