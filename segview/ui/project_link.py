"""The window's link to a folder's or a dataset's project store: annotations load from it, every edit is
journaled; without a project (a read-only place) the edits not yet exported are counted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from segview.core.categories import CategorySet
from segview.core.dataset import Dataset
from segview.core.history import EditHistory
from segview.core.segments import Annotation
from segview.core.workspace import ImageEntry, ImageStatus
from segview.errors import ProjectLockedError, ProjectReadOnlyError
from segview.io.project import DB_DIR, Project, dataset_store
from segview.ui.editing.undo import UndoStacks


class ProjectLink:
    """The open project (at most one) of the folder or dataset shown in the window."""

    def __init__(self, on_write_error: Callable[[str], None] | None = None) -> None:
        self.project: Project | None = None
        self.on_write_error = on_write_error
        self.read_only = False  # the last folder opened without a project: edits stay in the window
        self.unsaved_steps = 0  # edit steps made without a project since the last export
        self._names: dict[Path, str] = {}  # image path -> its name in the project
        self._stored: set[Path] = set()  # images whose annotation the project gave (earlier sessions)

    def open(self, folder: Path, entries: list[ImageEntry]) -> tuple[CategorySet, str]:
        """Open or create the folder's project and load each image's stored annotation into ``entries``.
        Returns the project's categories and a status-bar message (crash recovery), possibly empty.
        A folder that cannot be written (a read-only install of the demo images, a share) opens without
        a project, and says so; a project another segview holds opens read-only: its saved annotations
        are shown, and edits stay in this window. A broken project raises ProjectError and leaves the
        open project untouched."""
        folder = Path(folder)
        return self._open(lambda: Project.open(folder), lambda: Project.open_read_only(folder), folder, entries,
                          {e.path: e.path for e in entries}, folder.resolve() / DB_DIR)

    def open_dataset(self, path: Path, dataset: Dataset, entries: list[ImageEntry]) -> tuple[CategorySet, str]:
        """As ``open``, for a dataset (its images in ``entries``, in the dataset's order): its project lives
        in ``dataset_store(path)``; an image without a stored annotation keeps the dataset's (its starting
        state). Returns the project's categories, or the dataset's before any were stored."""
        root, store = Path(dataset.image_root or Path(path).parent), dataset_store(path)
        images = [(r.file_name, r.width, r.height) for r in dataset.images]
        categories, message = self._open(
            lambda: Project.open(root, store=store, images=images),
            lambda: Project.open_read_only(root, store=store), Path(path), entries,
            {e.path: r.file_name for e, r in zip(entries, dataset.images, strict=True)}, store)
        return (categories if len(categories) else dataset.categories), message

    def _open(self, opener: Callable[[], Project], reader: Callable[[], Project], shown: Path,
              entries: list[ImageEntry], keys: dict[Path, object], store: Path) -> tuple[CategorySet, str]:
        """Open a project with ``opener`` (``reader`` when another window holds it); ``keys`` maps each
        image path to its project name, or to a path inside the project's folder."""
        if self.project is not None and self.project.store == store:
            self.close()  # reopening the same folder: our own lock must go first
        try:
            project = opener()
        except ProjectReadOnlyError as exc:
            self.close()
            self.read_only = True
            return CategorySet(), f"{exc} Until then, edits are kept in this window only: export them to keep them."
        except ProjectLockedError as exc:
            with reader() as held:
                self.close()
                self._load(held, entries, keys, lazy=False)  # the reader closes here
                categories = held.categories()
            self._names.clear()  # read-only: nothing is journaled
            self.read_only = True
            return categories, (f"{exc} This window shows its saved annotations, read-only: edits made here "
                                "are kept in this window only (export them to keep them).")
        self.close()
        self.project = project
        self._load(project, entries, keys)
        message = ""
        skipped = project.scan_report.warnings
        if skipped:  # they are listed in the image browser (as 'unreadable'), only not in the project
            names = [issue.image or "?" for issue in skipped]
            listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            files = "1 file cannot be read" if len(names) == 1 else f"{len(names)} files cannot be read"
            message = f"{files} (listed as unreadable): {listed}. {names[0]}: {skipped[0].message}"
        if project.recovered:
            steps = project.recovered_edits
            message += (" " if message else "") + (f"{shown.name}: the last session did not close cleanly; its "
                       f"{steps} edit step{'' if steps == 1 else 's'} {'was' if steps == 1 else 'were'} recovered.")
        return project.categories(), message

    def _load(self, project: Project, entries: list[ImageEntry], keys: dict[Path, object], lazy: bool = True) -> None:
        """Each entry's stored annotation, for the images the project knows (an unreadable file is listed
        in its scan_report, not stored); an entry without one keeps its own (a dataset's).

        ``lazy``: an entry with a stored annotation is replaced (in ``entries``) by one that reads it from
        the project when it is first asked for (the image shown, an export), so opening costs one query
        whatever the number and size of the annotations (decoding them all took 6.5 s for one 48 MP and
        twenty 1920×1080 annotations); its status (corrected) needs no map."""
        known = set(project.image_names())
        stored = project.annotation_versions()
        self._names, self._stored = {}, set()
        for i, entry in enumerate(entries):
            key = keys.get(entry.path)
            name = _name_in(project.folder, key) if isinstance(key, Path) else key
            if name is None or name not in known:
                continue
            self._names[entry.path] = name
            if name not in stored:
                continue
            self._stored.add(entry.path)
            if lazy:
                entries[i] = StoredEntry(entry.path, entry.prediction, entry.fused, None, entry.reference,
                                         entry.rejected)
                entries[i].stored_in(project, name)
            else:
                entry.annotation = project.load_annotation(name)

    def name_of(self, path: Path) -> str | None:
        """The project's name of an image, or None when the project does not hold it."""
        return None if self.project is None else self._names.get(Path(path))

    def last_edited(self, entries: list[ImageEntry]) -> int | None:
        """The index of the image edited last in this project (any session), or None."""
        name = None if self.project is None else self.project.last_edited()
        return next((i for i, e in enumerate(entries) if name is not None and self._names.get(e.path) == name),
                    None)

    def restore_history(self, entry: ImageEntry, stacks: UndoStacks) -> None:
        """Give an image that holds edits of earlier sessions the steps journaled since its last snapshot,
        undoable (once: before its history exists)."""
        name = self.name_of(entry.path)
        if name is None or entry.path not in self._stored or stacks.get(entry.path) is not None:
            return
        edits = self.project.undoable_edits(name)
        entry.blank_start = self.project.starts_empty(name)  # undoing every step leaves it uncorrected
        if entry.annotation is not None:  # with no undoable step too: the panel shows where history begins
            stacks.restore(entry.path, entry.annotation, edits)

    def history_origin(self, entry: ImageEntry) -> str:
        """What the state before the first undoable step is, for the History panel: the empty image when
        every stored step is journaled (a folder's image: its first step too), else the stored edits."""
        name = self.name_of(entry.path)
        if entry.path in self._stored and name is not None:
            if self.project is not None and self.project.starts_empty(name):
                return "Opened"
            return "Earlier edits, saved (not undoable)"
        return "Opened" if entry.annotation is None else "Opened with its annotation"

    def attach(self, path: Path, history: EditHistory, categories: CategorySet) -> None:
        """Journal every step of an image's history (and store the categories the first time); without a
        project, count the steps as unsaved."""
        name = self.name_of(path)
        if name is None:
            history.step_listeners.append(self._unsaved_step)
            return
        if len(categories) and not len(self.project.categories()):
            self.project.set_categories(categories)
        self.project.attach(name, history, on_error=self._write_failed)

    def _unsaved_step(self, _kind: str, _edit: object) -> None:
        self.unsaved_steps += 1

    def exported(self) -> None:
        """An export wrote the window's edits out: nothing is unsaved any more."""
        self.unsaved_steps = 0

    def _write_failed(self, exc: Exception) -> None:
        if self.on_write_error is not None:
            self.on_write_error(f"{exc} The edit is kept in this window and saved with the next edit that fits.")

    def save_categories(self, categories: CategorySet) -> None:
        """Store edited categories (a no-op without a project)."""
        if self.project is not None:
            self.project.set_categories(categories)

    def close(self) -> None:
        """Close the project (a clean shutdown); forget the read-only state and unsaved steps."""
        if self.project is not None:
            self.project.close()
            self.project = None
        self.read_only = False
        self.unsaved_steps = 0
        self._names, self._stored = {}, set()


class StoredEntry(ImageEntry):
    """An image whose annotation is in the project: read (snapshot and journal replayed) when first asked
    for, not when the project opens. Setting ``annotation`` replaces it as on any entry."""

    def stored_in(self, project: Project, name: str) -> None:
        self.__dict__["_source"] = (project, name)

    @property
    def annotation(self) -> Annotation | None:
        source = self.__dict__.pop("_source", None)
        if source is not None and not source[0].closed:
            self.__dict__["annotation"] = source[0].load_annotation(source[1])
        return self.__dict__.get("annotation")

    @annotation.setter
    def annotation(self, value: Annotation | None) -> None:
        self.__dict__.pop("_source", None)
        self.__dict__["annotation"] = value

    @property
    def status(self) -> ImageStatus:
        if "_source" in self.__dict__:  # stored, not read yet: corrected all the same
            return ImageStatus.CORRECTED
        return super().status


def _name_in(folder: Path, path: Path) -> str | None:
    """The path relative to the folder (posix separators), or None when outside it."""
    try:
        return Path(path).resolve().relative_to(folder).as_posix()
    except ValueError:
        return None
