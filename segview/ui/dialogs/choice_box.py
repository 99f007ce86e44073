"""A question with named answers (a message box whose buttons are the choices), the last one cancelling."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

Role = QMessageBox.ButtonRole


def ask_choice(parent: QWidget, icon: QMessageBox.Icon, title: str, text: str, object_name: str,
               choices: list[tuple[str, Role]], default: str) -> str:
    """Show the question and return the label of the button clicked; the last choice is what Escape or
    closing the box answers."""
    box = QMessageBox(icon, title, text, parent=parent)
    box.setObjectName(object_name)
    buttons = {label: box.addButton(label, role) for label, role in choices}
    box.setDefaultButton(buttons[default])
    cancel = choices[-1][0]
    box.setEscapeButton(buttons[cancel])
    box.exec()
    return next((label for label, button in buttons.items() if button is box.clickedButton()), cancel)
