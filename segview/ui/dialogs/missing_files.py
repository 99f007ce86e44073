"""The files models need that segview cannot download for them (a detector's weights and tokenizer files, and
EdgeTAM's and SlimSAM's, have no published hash): each named with its URL and where to save it, and a button
that opens that folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


class MissingFilesBox(QMessageBox):
    """Lists ``files`` ((URL, path segview looks for it at) each) of ``name`` (a model, or "A and B");
    "Open folder" opens (and makes) the folder."""

    def __init__(self, name: str, files: Sequence[tuple[str, Path]], parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Information, "Files to download yourself",
                         f"{len(files)} file(s) of {name} are not on this computer.",
                         QMessageBox.StandardButton.Close, parent)
        self.setObjectName("missing-files")
        self.files = list(files)
        self.setInformativeText(
            "segview cannot check these files, so it does not download them: download each from its address "
            "and save it under the name and in the folder given, then try again.\n\n"
            + "\n\n".join(f"{Path(path).name}\n  from {url}\n  save as {path}" for url, path in self.files))
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
