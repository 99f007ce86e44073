"""The navigation tool bar: previous / next image and whether the edits are saved in the project."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QStyle, QToolBar, QWidget

from segview.core.history import Edit, EditHistory
from segview.ui.project_link import ProjectLink

SAVED = "Saved"
READ_ONLY = "Not saved (read-only)"
WRITE_FAILED = "Not saved: writing failed"
NO_PROJECT = "Not saved (no project)"


class SaveStatus(QLabel):
    """Says whether the edits are in the project store: every step is journaled as it is made, so the
    state changes only with the project (none, read-only) or when a write fails (until one succeeds)."""

    def __init__(self, link: ProjectLink, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("save-status")
        self.link = link
        self._failed = False
        self._failed_in_step = False
        self._project = link.project
        previous = link.on_write_error

        def write_failed(text: str) -> None:
            self._failed_in_step = self._failed = True
            if previous is not None:
                previous(text)
            self.refresh()

        link.on_write_error = write_failed
        self.refresh()

    def watch(self, history: EditHistory) -> None:
        """Follow an image's history; attach after the project journals it, so that each step's state
        is known when this hears of it."""
        history.step_listeners.append(self._stepped)

    def _stepped(self, _kind: str, _edit: Edit) -> None:
        self._failed, self._failed_in_step = self._failed_in_step, False
        self.refresh()

    def refresh(self) -> None:
        """Show the state of the project open now."""
        link = self.link
        if link.project is not self._project:  # another folder: no failure there yet
            self._project, self._failed = link.project, False
        if link.project is not None:
            text, tip = (WRITE_FAILED, "The last edit could not be written (see the status bar); it is kept in "
                         "this window and saved with the next edit that can be written.") if self._failed else (
                SAVED, f"Every edit is saved as it is made, in {link.project.store}")
        elif link.read_only:
            text, tip = READ_ONLY, "Another window holds this project, or its folder cannot be written: export " \
                                   "the edits to keep them."
        else:
            steps = link.unsaved_steps
            text = NO_PROJECT if not steps else f"Not saved: {steps} edit{'' if steps == 1 else 's'}"
            tip = "These images have no project: export the edits to keep them."
        self.setText(text)
        self.setToolTip(tip)
        saved = text == SAVED
        self.setStyleSheet("" if saved else "QLabel { color: #b35900; font-weight: bold; }")


def navigation_toolbar(previous: QAction, next_: QAction, status: SaveStatus) -> QToolBar:
    """A tool bar with the previous / next image actions (given arrow icons) and the saved state."""
    bar = QToolBar("Navigation")
    bar.setObjectName("toolbar-navigation")
    style = bar.style()
    previous.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
    next_.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward))
    for action, what in ((previous, "Previous image"), (next_, "Next image")):
        keys = action.shortcut().toString()
        action.setToolTip(f"{what} ({keys})" if keys else what)
    bar.addActions([previous, next_])
    bar.addSeparator()
    bar.addWidget(status)
    return bar
