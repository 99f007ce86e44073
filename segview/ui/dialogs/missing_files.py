"""The files models need that are not on this computer: each named with its URL and where to save it, a
button that opens that folder, and, when segview can check every one of them (a published SHA-256, or the
Hugging Face Hub's record of the file), a Download button."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from segview.core.wording import count


class MissingFilesBox(QMessageBox):
    """Lists ``files`` ((URL, path segview looks for it at) each) of ``name`` (a model, or "A and B");
    "Open folder" opens (and makes) the folder; with ``downloadable``, "Download" emits
    ``download_requested``."""

    download_requested = Signal()

    def __init__(self, name: str, files: Sequence[tuple[str, Path]], parent: QWidget | None = None,
                 downloadable: bool = False) -> None:
        title = "Files to download" if downloadable else "Files to download yourself"
        super().__init__(QMessageBox.Icon.Information, title,
                         f"{count(len(files), 'file')} of {name} {'is' if len(files) == 1 else 'are'} not on this "
                         "computer.", QMessageBox.StandardButton.Close, parent)
        self.setObjectName("missing-files")
        self.files = list(files)
        how = ("segview can download them, checking each against the Hugging Face Hub's record of it (or its "
               "published SHA-256). Or download each from its address and save it under the name and in the "
               "folder given, then try again." if downloadable else
               "segview cannot check these files, so it does not download them: download each from its address "
               "and save it under the name and in the folder given, then try again.")
        self.setInformativeText(
            how + "\n\n" + "\n\n".join(f"{Path(path).name}\n  from {url}\n  save as {path}" for url, path in self.files))
        self.download_button = None
        if downloadable:
            self.download_button = self.addButton("Download", QMessageBox.ButtonRole.AcceptRole)
            self.download_button.setObjectName("missing-files-download")
            self.download_button.clicked.connect(self.download_requested)
            self.setDefaultButton(self.download_button)
        self.open_button = self.addButton("Open folder", QMessageBox.ButtonRole.ActionRole)
        self.open_button.setObjectName("missing-files-open")
        self.open_button.clicked.disconnect()  # opening the folder does not close the box
        self.open_button.clicked.connect(self.open_folder)

    def folder(self) -> Path:
        """The folder the files go in (the first file's)."""
        return Path(self.files[0][1]).parent

    def open_folder(self) -> None:
        """Open the folder in the file manager, made first if it is not there yet."""
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
