"""Asking before Accept all changes an image that already has an annotation: replace it with the
prediction, add the prediction only where nothing is annotated, or cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from segview.ui.dialogs.choice_box import Role, ask_choice

REPLACE, ADD_WHERE_EMPTY, CANCEL = "Replace", "Add only where nothing is annotated", "Cancel"


def ask_accept_all(parent: QWidget, segments: int) -> str:
    """REPLACE, ADD_WHERE_EMPTY or CANCEL (also when the box is closed)."""
    return ask_choice(
        parent, QMessageBox.Icon.Question, "Accept all predictions",
        f"This image already has {segments} annotated segment{'' if segments == 1 else 's'}.\n\n"
        "Replace the annotation with the prediction, or add the prediction only where nothing is annotated yet?",
        "accept-all-question",
        [(REPLACE, Role.DestructiveRole), (ADD_WHERE_EMPTY, Role.AcceptRole), (CANCEL, Role.RejectRole)],
        ADD_WHERE_EMPTY)
