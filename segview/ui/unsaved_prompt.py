"""Asking before edits that no project holds (a read-only place) would be lost: on quit, or when another
folder or dataset is opened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from segview.ui.main_window import MainWindow

EXPORT, DISCARD, CANCEL = "Export…", "Discard", "Cancel"


def may_drop_unsaved(window: MainWindow, doing: str) -> bool:
    """True when no unexported edit would be lost, or the person chose to discard them; "Export…" opens
    the export dialog (and returns False: the window stays, with its edits), "Cancel" returns False."""
    steps = window.project_link.unsaved_steps
    if not steps:
        return True
    box = QMessageBox(QMessageBox.Icon.Warning, f"{doing}: unsaved edits",
                      f"{steps} edit step{'' if steps == 1 else 's'} made here {'is' if steps == 1 else 'are'} not "
                      "saved: this folder cannot hold a project (it is read-only or open in another window).\n\n"
                      "Export them to a folder you can write to, or discard them?", parent=window)
    box.setObjectName("unsaved-edits")
    buttons = {
        EXPORT: box.addButton(EXPORT, QMessageBox.ButtonRole.AcceptRole),
        DISCARD: box.addButton(DISCARD, QMessageBox.ButtonRole.DestructiveRole),
        CANCEL: box.addButton(CANCEL, QMessageBox.ButtonRole.RejectRole),
    }
    box.setDefaultButton(buttons[EXPORT])
    box.setEscapeButton(buttons[CANCEL])
    box.exec()
    answer = next((name for name, button in buttons.items() if button is box.clickedButton()), CANCEL)
    if answer == EXPORT:
        window.open_export_dialog()
    return answer == DISCARD
