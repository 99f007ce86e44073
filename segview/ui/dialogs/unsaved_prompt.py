"""Asking before edits that no project holds (a read-only place) would be lost: on quit, or when another
folder or dataset is opened."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from segview.ui.dialogs.choice_box import Role, ask_choice

EXPORT, DISCARD, CANCEL = "Export…", "Discard", "Cancel"


def may_drop_unsaved(parent: QWidget, steps: int, doing: str, export: Callable[[], object]) -> bool:
    """True when no unexported edit would be lost (``steps`` edit steps no project holds), or the person
    chose to discard them; "Export…" calls ``export`` (the export dialog: returns False, the window stays
    with its edits), "Cancel" returns False."""
    if not steps:
        return True
    answer = ask_choice(
        parent, QMessageBox.Icon.Warning, f"{doing}: unsaved edits",
        f"{steps} edit step{'' if steps == 1 else 's'} made here {'is' if steps == 1 else 'are'} not saved: this "
        "folder cannot hold a project (it is read-only or open in another window).\n\n"
        "Export them to a folder you can write to, or discard them?", "unsaved-edits",
        [(EXPORT, Role.AcceptRole), (DISCARD, Role.DestructiveRole), (CANCEL, Role.RejectRole)], EXPORT)
    if answer == EXPORT:
        export()
    return answer == DISCARD
