"""The question asked about a model whose weights are not here: download them, use a copy on this computer
("Use a local file…"), or not now. ``segview.ui.weights_offer`` asks it and acts on the answer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt);;All files (*)"


class WeightsDialog(QMessageBox):
    """Asks what to do about a model without weights; ``choice`` is "download", "local" or "later"."""

    def __init__(self, name: str, message: str, parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Question, "Get the model's weights?",
                         f"The weights of {name} are not on this computer.", QMessageBox.StandardButton.NoButton,
                         parent)
        self.setObjectName("weights-dialog")
        self.setInformativeText("Download them now, or use a copy you have (a .pth or .pt file). Without them, "
                                "choose another model.")
        self.setDetailedText(message)
        self.buttons = {
            "download": self._button("Download", QMessageBox.ButtonRole.AcceptRole),
            "local": self._button("Use a local file…", QMessageBox.ButtonRole.ActionRole),
            "later": self._button("Not now", QMessageBox.ButtonRole.RejectRole),
        }
        self.setDefaultButton(self.buttons["download"])
        self.setEscapeButton(self.buttons["later"])
        self.setWindowModality(Qt.WindowModality.WindowModal)

    def _button(self, text: str, role: QMessageBox.ButtonRole) -> QPushButton:
        button = self.addButton(text, role)
        button.setObjectName(f"weights-{text.split()[0].lower()}")
        return button

    def choice(self) -> str:
        clicked = self.clickedButton()
        return next((key for key, button in self.buttons.items() if button is clicked), "later")
