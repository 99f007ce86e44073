"""Undo history of one Annotation, kept next to the document so that it is tested without Qt.

Like napari's Labels layer, an undo step is a list of *atoms* that store only what changed: for pixels,
the changed pixels' mask inside a box plus their old and new values; for the segment table, the old and
new description of each touched id. Strokes group many atoms into one step with ``begin``/``commit``
(``abort`` reverts an open group). A new edit clears the redo list. Listeners hear each change with its
dirty box, so that views redraw that region only and a project store can journal the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from segview.core.segments import Annotation, Segment


@dataclass(frozen=True)
class PixelChange:
    """Pixels of the segment map that changed inside the box at (top, left): where, from what, to what."""

    top: int
    left: int
    where: np.ndarray  # (h, w) bool over the box
    before: np.ndarray  # old ids of the changed pixels, in row-major order of ``where``
    after: np.ndarray  # new ids of the same pixels

    @property
    def slices(self) -> tuple[slice, slice]:
        h, w = self.where.shape
        return slice(self.top, self.top + h), slice(self.left, self.left + w)

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the changed region."""
        return self.top, self.left, int(self.where.shape[0]), int(self.where.shape[1])


@dataclass(frozen=True)
class EditAtom:
    """One change to an annotation: pixels (optional) and segment-table entries (id → old / new; None
    means the id does not exist on that side)."""

    pixels: PixelChange | None = None
    segments_before: dict[int, Segment | None] = field(default_factory=dict)
    segments_after: dict[int, Segment | None] = field(default_factory=dict)


@dataclass
class Edit:
    """One undo step: a name for the history panel and its atoms, in the order they were applied."""

    name: str
    atoms: list[EditAtom] = field(default_factory=list)
    # The segment map after the step, as (dtype, blob) encoded for a project snapshot, when whoever built
    # the step computed it ahead, off the GUI thread (accept all on a big image); None otherwise.
    encoded_after: tuple[str, bytes] | None = None

    def box(self) -> tuple[int, int, int, int] | None:
        """The box (top, left, height, width) covering every changed pixel, or None for table-only edits."""
        boxes = [a.pixels.box for a in self.atoms if a.pixels is not None]
        if not boxes:
            return None
        top = min(b[0] for b in boxes)
        left = min(b[1] for b in boxes)
        bottom = max(b[0] + b[2] for b in boxes)
        right = max(b[1] + b[3] for b in boxes)
        return top, left, bottom - top, right - left


ChangeListener = Callable[[tuple[int, int, int, int] | None], None]
"""Called after every applied, undone or redone atom with its dirty box (None: only the segment table)."""
StepListener = Callable[[str, Edit], None]
"""Called with ("do" | "undo" | "redo", edit) when a step is committed, undone or redone."""


def apply_atom(annotation: Annotation, atom: EditAtom, *, reverse: bool = False) -> None:
    """Write an atom's new state (or, with ``reverse``, its old state) into the annotation."""
    segments = atom.segments_before if reverse else atom.segments_after
    for sid, segment in segments.items():
        if segment is None:
            annotation.segments.pop(sid, None)
        else:
            annotation.segments[sid] = segment
    if atom.pixels is not None:
        values = atom.pixels.before if reverse else atom.pixels.after
        if values.size and int(values.max()) > np.iinfo(annotation.segment_map.dtype).max:
            annotation.segment_map = annotation.segment_map.astype(np.uint32)
        annotation.segment_map[atom.pixels.slices][atom.pixels.where] = values


class EditHistory:
    """Unlimited undo/redo over one Annotation (the annotation's own arrays are changed in place)."""

    def __init__(self, annotation: Annotation) -> None:
        self.annotation = annotation
        self.done: list[Edit] = []
        self.undone: list[Edit] = []
        self._open: Edit | None = None
        self.change_listeners: list[ChangeListener] = []
        self.step_listeners: list[StepListener] = []

    # --- grouping ----------------------------------------------------------------------------------------

    def begin(self, name: str) -> Edit:
        """Start a step that collects atoms until ``commit`` (a brush stroke, a drag); returns it."""
        if self._open is not None:
            self.commit()
        self._open = Edit(name)
        return self._open

    def commit(self) -> Edit | None:
        """Close the open step; an empty one is dropped. Returns the step kept, if any."""
        edit, self._open = self._open, None
        if edit is None or not edit.atoms:
            return None
        self.done.append(edit)
        self.undone.clear()
        self._tell_steps("do", edit)
        return edit

    def abort(self) -> None:
        """Revert and drop the open step (Escape during a stroke)."""
        edit, self._open = self._open, None
        if edit is not None:
            self._replay(edit, reverse=True)

    @property
    def in_step(self) -> bool:
        return self._open is not None

    # --- changes -----------------------------------------------------------------------------------------

    def apply(self, atom: EditAtom | None, name: str = "Edit") -> None:
        """Apply an atom: inside an open step it joins that step, otherwise it is a step of its own."""
        if atom is None:
            return
        apply_atom(self.annotation, atom)
        self._tell_change(atom)
        if self._open is not None:
            self._open.atoms.append(atom)
        else:
            edit = Edit(name, [atom])
            self.done.append(edit)
            self.undone.clear()
            self._tell_steps("do", edit)

    def apply_all(self, atoms: list[EditAtom | None], name: str) -> Edit | None:
        """Apply several atoms as one step."""
        self.begin(name)
        for atom in atoms:
            self.apply(atom)
        return self.commit()

    def undo(self) -> Edit | None:
        """Revert the last step (an open step is committed first)."""
        if self._open is not None:
            self.commit()
        if not self.done:
            return None
        edit = self.done.pop()
        self._replay(edit, reverse=True)
        self.undone.append(edit)
        self._tell_steps("undo", edit)
        return edit

    def redo(self) -> Edit | None:
        """Re-apply the last undone step."""
        if not self.undone:
            return None
        edit = self.undone.pop()
        self._replay(edit, reverse=False)
        self.done.append(edit)
        self._tell_steps("redo", edit)
        return edit

    @property
    def can_undo(self) -> bool:
        return bool(self.done) or (self._open is not None and bool(self._open.atoms))

    @property
    def can_redo(self) -> bool:
        return bool(self.undone)

    def _replay(self, edit: Edit, *, reverse: bool) -> None:
        for atom in reversed(edit.atoms) if reverse else edit.atoms:
            apply_atom(self.annotation, atom, reverse=reverse)
            self._tell_change(atom)

    def _tell_change(self, atom: EditAtom) -> None:
        box = atom.pixels.box if atom.pixels is not None else None
        for listener in self.change_listeners:
            listener(box)

    def _tell_steps(self, kind: str, edit: Edit) -> None:
        for listener in self.step_listeners:
            listener(kind, edit)
