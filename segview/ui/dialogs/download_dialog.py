"""The question asked about a model whose weights are not here: download them, use a copy on this computer
("Use a local file…"), or not now. ``segview.ui.weights_offer`` asks it and acts on the answer.
"""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt);;All files (*)"


def file_filter(file_name: str) -> str:
    """The file dialog's filter for a copy of ``file_name``: PyTorch weights, or files of its own suffix
    (``model.safetensors``, a tokenizer's ``vocab.json``), then all files."""
    suffix = PurePath(file_name).suffix
    if suffix in ("", ".pth", ".pt"):
        return WEIGHTS_FILTER
    return f"{suffix[1:]} files (*{suffix});;All files (*)"


class WeightsDialog(QMessageBox):
    """Asks what to do about a model without weights; ``choice`` is "download", "local" or "later"."""

    def __init__(self, name: str, message: str, parent: QWidget | None = None, *, downloadable: bool = True) -> None:
        super().__init__(QMessageBox.Icon.Question, "Get the model's weights?",
                         f"The weights of {name} are not on this computer.", QMessageBox.StandardButton.NoButton,
                         parent)
        self.setObjectName("weights-dialog")
        self.setInformativeText(
            "Download them now, or use a copy you have. Without them, choose another model." if downloadable else
            f"{message} Without them, choose another model.")  # the file's address in view, not under Details
        self.setDetailedText(message)
        self.buttons = {
            "local": self._button("Use a local file…", QMessageBox.ButtonRole.ActionRole),
            "later": self._button("Not now", QMessageBox.ButtonRole.RejectRole),
        }
        if downloadable:
            self.buttons["download"] = self._button("Download", QMessageBox.ButtonRole.AcceptRole)
        self.setDefaultButton(self.buttons["download" if downloadable else "local"])
        self.setEscapeButton(self.buttons["later"])
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def _button(self, text: str, role: QMessageBox.ButtonRole) -> QPushButton:
        button = self.addButton(text, role)
        button.setObjectName(f"weights-{text.split()[0].lower()}")
        return button

    def choice(self) -> str:
        clicked = self.clickedButton()
        return next((key for key, button in self.buttons.items() if button is clicked), "later")
