"""Model → Find by Name…: the class names to look for (the project's classes by default), the
open-vocabulary detector that finds their boxes and the prompt model that turns the boxes into masks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from segview.core.class_names import ClassNamesError, parse_class_names


@dataclass(frozen=True)
class FindRequest:
    """What to look for and with which models (card names)."""

    names: tuple[str, ...]
    detector: str
    prompt_model: str


class FindByNameDialog(QDialog):
    """Names in one line (comma-separated), a detector and a prompt model; OK only with usable names."""

    def __init__(self, parent: QWidget | None, names: Sequence[str], detectors: Sequence[tuple[str, str]],
                 prompt_models: Sequence[tuple[str, str]], detector: str = "", prompt_model: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Find by name")
        self.setObjectName("find-by-name")
        self.names = QLineEdit(", ".join(names))
        self.names.setObjectName("find-names")
        self.names.setPlaceholderText("helmet, flag, red car")
        self.detector = _combo(detectors, detector, "find-detector")
        self.prompt_model = _combo(prompt_models, prompt_model, "find-prompt-model")
        self.problem = QLabel("")
        self.problem.setObjectName("find-problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("QLabel { color: #c0392b; }")
        form = QFormLayout()
        form.addRow("Class names:", self.names)
        form.addRow("Detector:", self.detector)
        form.addRow("Masks from:", self.prompt_model)
        note = QLabel("Runs on the image on screen; the objects found arrive as a prediction to accept or reject.")
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Find")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.request: FindRequest | None = None
        missing = [what for what, combo in (("open-vocabulary detector", self.detector),
                                            ("prompt model (Segment Anything)", self.prompt_model))
                   if not combo.count()]
        if missing:
            self.problem.setText(f"No {' and no '.join(missing)} card is installed: add one to the models folder.")
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

    def accept(self) -> None:
        try:
            names = parse_class_names(self.names.text())
        except ClassNamesError as exc:
            self.problem.setText(str(exc))
            return
        self.request = FindRequest(names, self.detector.currentData(), self.prompt_model.currentData())
        super().accept()


def _combo(cards: Sequence[tuple[str, str]], chosen: str, name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for card_name, title in cards:
        combo.addItem(f"{card_name} — {title}", card_name)
    index = combo.findData(chosen)
    if index >= 0:
        combo.setCurrentIndex(index)
    return combo


def ask_find_by_name(parent: QWidget, names: Sequence[str], detectors: Sequence[tuple[str, str]],
                     prompt_models: Sequence[tuple[str, str]], detector: str = "",
                     prompt_model: str = "") -> FindRequest | None:
    """The request, or None when the person cancels."""
    dialog = FindByNameDialog(parent, names, detectors, prompt_models, detector, prompt_model)
    return dialog.request if dialog.exec() == QDialog.DialogCode.Accepted else None
