"""Asking before Accept all changes an image that already has an annotation: replace it with the
prediction, add the prediction only where nothing is annotated, or cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

REPLACE, ADD_WHERE_EMPTY, CANCEL = "Replace", "Add only where nothing is annotated", "Cancel"


def ask_accept_all(parent: QWidget, segments: int) -> str:
    """REPLACE, ADD_WHERE_EMPTY or CANCEL (also when the box is closed)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Accept all predictions",
                      f"This image already has {segments} annotated segment{'' if segments == 1 else 's'}.\n\n"
                      "Replace the annotation with the prediction, or add the prediction only where nothing "
                      "is annotated yet?", parent=parent)
    box.setObjectName("accept-all-question")
    buttons = {
        REPLACE: box.addButton(REPLACE, QMessageBox.ButtonRole.DestructiveRole),
        ADD_WHERE_EMPTY: box.addButton(ADD_WHERE_EMPTY, QMessageBox.ButtonRole.AcceptRole),
        CANCEL: box.addButton(CANCEL, QMessageBox.ButtonRole.RejectRole),
    }
    box.setDefaultButton(buttons[ADD_WHERE_EMPTY])
    box.setEscapeButton(buttons[CANCEL])
    box.exec()
    return next((name for name, button in buttons.items() if button is box.clickedButton()), CANCEL)
