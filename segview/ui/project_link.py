"""The window's link to a folder's project store: annotations load from it, every edit is journaled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from segview.core.categories import CategorySet
from segview.core.history import EditHistory
from segview.core.workspace import ImageEntry
from segview.errors import ProjectLockedError, ProjectReadOnlyError
from segview.io.project import Project


class ProjectLink:
    """The open project (at most one) of the folder shown in the window."""

    def __init__(self, on_write_error: Callable[[str], None] | None = None) -> None:
        self.project: Project | None = None
        self.on_write_error = on_write_error
        self.read_only = False  # the last folder opened without a project: edits stay in the window

    def open(self, folder: Path, entries: list[ImageEntry]) -> tuple[CategorySet, str]:
        """Open or create the folder's project and load each image's stored annotation into ``entries``.
        Returns the project's categories and a status-bar message (crash recovery), possibly empty.
        A folder that cannot be written (a read-only install of the demo images, a share) opens without
        a project, and says so; a project another segview holds opens read-only: its saved annotations
        are shown, and edits stay in this window. A broken project raises ProjectError and leaves the
        open project untouched."""
        if self.project is not None and self.project.folder == Path(folder).resolve():
            self.close()  # reopening the same folder: our own lock must go first
        try:
            project = Project.open(folder)
        except ProjectReadOnlyError as exc:
            self.close()
            self.read_only = True
            return CategorySet(), f"{exc} Until then, edits are kept in this window only: export them to keep them."
        except ProjectLockedError as exc:
            with Project.open_read_only(folder) as held:
                _load_annotations(held, entries)
                categories = held.categories()
            self.close()
            self.read_only = True
            return categories, (f"{exc} This window shows its saved annotations, read-only: edits made here "
                                "are kept in this window only (export them to keep them).")
        self.close()
        self.project, self.read_only = project, False
        _load_annotations(project, entries)
        message = ""
        skipped = project.scan_report.warnings
        if skipped:  # they are listed in the image browser (as 'unreadable'), only not in the project
            names = [issue.image or "?" for issue in skipped]
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            files = "1 file cannot be read" if len(names) == 1 else f"{len(names)} files cannot be read"
            message = f"{files} (listed as unreadable): {shown}. {names[0]}: {skipped[0].message}"
        if project.recovered:
            message += (" " if message else "") + (f"{folder.name}: the last session did not close cleanly; "
                       f"{project.recovered_edits} journaled edit(s) were recovered.")
        return project.categories(), message

    def name_of(self, path: Path) -> str | None:
        """The project's name of an image (its path relative to the folder), or None when outside it."""
        return None if self.project is None else _name_in(self.project.folder, path)

    def attach(self, path: Path, history: EditHistory, categories: CategorySet) -> None:
        """Journal every step of an image's history (and store the categories the first time)."""
        name = self.name_of(path)
        if name is None or name not in self.project.image_names():
            return
        if len(categories) and not len(self.project.categories()):
            self.project.set_categories(categories)
        self.project.attach(name, history, on_error=self._write_failed)

    def _write_failed(self, exc: Exception) -> None:
        if self.on_write_error is not None:
            self.on_write_error(f"{exc} The edit is kept in this window and saved with the next edit that fits.")

    def save_categories(self, categories: CategorySet) -> None:
        """Store edited categories (a no-op without a project)."""
        if self.project is not None:
            self.project.set_categories(categories)

    def close(self) -> None:
        if self.project is not None:
            self.project.close()
            self.project = None
        self.read_only = False


def _load_annotations(project: Project, entries: list[ImageEntry]) -> None:
    """Each entry's stored annotation, for the images the project knows (an unreadable file is listed
    in its scan_report, not stored)."""
    known = set(project.image_names())
    for entry in entries:
        name = _name_in(project.folder, entry.path)
        if name is not None and name in known:
            entry.annotation = project.load_annotation(name)


def _name_in(folder: Path, path: Path) -> str | None:
    """The path relative to the folder (posix separators), or None when outside it."""
    try:
        return Path(path).resolve().relative_to(folder).as_posix()
    except ValueError:
        return None
