"""Accept all predictions of a big image without freezing the window.

The atom (which pixels change, from what, to what: 1.5 s for 48 megapixels) is computed on a worker
thread by the same ``edits.accept`` as a small image's, and cut into row bands there; the bands are then
applied on the GUI thread one per event-loop turn, inside one history step: one undo step, journaled
when it is committed (as a snapshot of the map, which the worker encodes too). Meanwhile the editor refuses other edits and no undo stack is active. If the
annotation changed while the atom was computed (an undo), it is computed again.

The worker's work is a few numpy calls over whole arrays (comparisons, lookups, boolean indexing, sorts),
each of which releases the GIL: while it computes 48 megapixels the GUI thread waits for the GIL no longer
than the interpreter's switch interval (bench/accept_all.py, "computing"), so a thread is enough; a
process would add copies of the 200 MB of maps it reads and of the atom it returns.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from segview.core import edits
from segview.core.edit_bands import split_rows
from segview.core.history import EditAtom, EditHistory, apply_atom
from segview.core.segments import Annotation
from segview.core.workspace import ImageEntry
from segview.io.project import encode_map
from segview.ui.background import BackgroundJobs
from segview.ui.editing.undo import UndoStacks

INLINE_PIXELS = 4_000_000  # smaller images accept at once (the thread hop is not worth it)
BAND_PIXELS = 1_000_000  # pixels of the changed box applied per event-loop turn (~5 ms with its redraw)
BAND_DELAY_MS = 1  # a real timer between bands: a 0 ms single shot is a posted event, run before the timers
# that fell due during the band, so bands ran two at a time between them


def needs_background(annotation: Annotation) -> bool:
    """Whether accepting into ``annotation`` is worth the worker thread (more than ``INLINE_PIXELS``)."""
    return annotation.segment_map.size > INLINE_PIXELS


def accepted_bands(annotation: Annotation, fused: Annotation, replace: bool = False,
                   only_void: bool = False) -> list[EditAtom]:
    """Every fused segment accepted into ``annotation`` (``replace``: after deleting every annotated
    segment; ``only_void``: only where nothing is annotated), as row bands; empty when nothing changes.
    The annotation itself is not changed."""
    atoms = []
    if replace and annotation.segments:
        delete = edits.delete(annotation, list(annotation.segments))
        annotation = annotation.copy()
        apply_atom(annotation, delete)
        atoms.append(delete)
    atoms.append(edits.accept(annotation, fused, only_void=only_void)[1])
    return [band for atom in atoms if atom is not None for band in split_rows(atom, BAND_PIXELS)]


def accepted_step(annotation: Annotation, fused: Annotation, replace: bool = False, only_void: bool = False
                  ) -> tuple[list[EditAtom], tuple[str, bytes] | None]:
    """``accepted_bands`` and the annotation's map after them, encoded for the project's snapshot (its
    dtype and ``encode_map``'s blob; None when nothing changes): the step's commit would otherwise encode
    the whole map on the GUI thread (20 ms on 48 MP, 0.5 s on a loaded machine)."""
    bands = accepted_bands(annotation, fused, replace, only_void)
    if not bands:
        return bands, None
    after = annotation.copy()
    for band in bands:
        apply_atom(after, band)
    return bands, (np.dtype(after.segment_map.dtype).str, encode_map(after.segment_map))


def _state(history: EditHistory) -> tuple:
    """What identifies the annotation's content: its arrays and the steps applied to it."""
    done = history.done[-1] if history.done else None
    return id(history.annotation), id(history.annotation.segment_map), len(history.done), id(done)


class AcceptHost(Protocol):
    """What the job needs from the editor that starts it: its undo stacks (none active while the step
    is open) and the image being edited (whose stack comes back after)."""

    stacks: UndoStacks
    entry: ImageEntry | None


class AcceptJob(QObject):
    """Accepts all predictions into one image's history in the background."""

    finished = Signal(object)  # the EditHistory that received the step (or nothing changed)

    def __init__(self, editor: AcceptHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.jobs = BackgroundJobs("accept", self)
        self.jobs.finished.connect(self._computed)
        self._task: tuple | None = None  # key, history, fused, name, options, state when computed
        self._bands: list[EditAtom] = []

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, key: object, history: EditHistory, fused: Annotation, name: str, *, replace: bool = False,
              only_void: bool = False) -> None:
        """Accept every segment of ``fused`` into ``history``'s annotation as the step ``name`` (see
        ``accepted_bands`` for the options)."""
        options = {"replace": replace, "only_void": only_void}
        self._task = (key, history, fused, name, options, _state(history))
        self.jobs.submit(accepted_step, history.annotation, fused, replace, only_void)

    def _computed(self, ticket: int, step: tuple[list[EditAtom], tuple[str, bytes] | None] | None,
                  error: Exception | None) -> None:
        if not self.jobs.is_current(ticket) or self._task is None:
            return
        key, history, fused, name, options, state = self._task
        if _state(history) != state:  # undone or replaced meanwhile: the atom's old values are stale
            self.start(key, history, fused, name, **options)
            return
        if error is not None:
            self._task = None
            raise error
        bands, encoded = step
        if not bands:
            self._done(history)
            return
        self._bands = bands
        history.begin(name).encoded_after = encoded  # the project's snapshot at commit, ready
        self.editor.stacks.activate(None)  # no undo while the step is open
        QTimer.singleShot(BAND_DELAY_MS, self._apply_band)

    def cancel(self) -> None:
        """Drop the job (another folder was opened); bands already applied are reverted."""
        if self._task is not None and self._bands:
            self._task[1].abort()
        self._task, self._bands = None, []
        self.jobs.cancel()

    def _apply_band(self) -> None:
        if self._task is None:  # cancelled
            return
        history = self._task[1]
        history.apply(self._bands.pop(0))
        if self._bands:
            QTimer.singleShot(BAND_DELAY_MS, self._apply_band)
            return
        history.commit()
        self._done(history)

    def _done(self, history: EditHistory) -> None:
        self._task = None
        entry = self.editor.entry
        self.editor.stacks.activate(None if entry is None else entry.path)
        self.finished.emit(history)
