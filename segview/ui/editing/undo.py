"""Qt's undo framework over core's EditHistory: one history and one QUndoStack per image, the active
image's stack in a QUndoGroup (for the Edit menu and the history panel).

The commands only wrap history steps: the edit is already applied when its step is committed, so a
command's first ``redo`` (from ``push``) does nothing; later ones call ``EditHistory.redo``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QWidget

from segview.core.history import Edit, EditHistory
from segview.core.segments import Annotation


class HistoryStep(QUndoCommand):
    """One committed EditHistory step."""

    def __init__(self, history: EditHistory, edit: Edit, batch: Callable[[], AbstractContextManager] = nullcontext
                 ) -> None:
        super().__init__(edit.name)
        self.history = history
        self.edit = edit
        self.batch = batch  # groups the redraw of the step's atoms
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False  # pushed: already applied
            return
        with self.batch():
            self.history.redo()

    def undo(self) -> None:
        with self.batch():
            if self.history.in_step:
                self.history.abort()
            self.history.undo()


class UndoStacks:
    """The history and undo stack of each image (kept while switching images), keyed by image path."""

    def __init__(self, parent: QWidget, on_new: Callable[[object, EditHistory], None] | None = None,
                 batch: Callable[[], AbstractContextManager] = nullcontext) -> None:
        self.group = QUndoGroup(parent)
        self.batch = batch
        self.on_new = on_new  # told of each new history (to listen to it, to journal it)
        self._parent = parent
        self._histories: dict[object, EditHistory] = {}
        self._stacks: dict[object, QUndoStack] = {}

    def history(self, key: object, annotation: Annotation) -> EditHistory:
        """The history of an image's annotation, created on first use (with its stack)."""
        history = self._histories.get(key)
        if history is None or history.annotation is not annotation:
            history = EditHistory(annotation)
            stack = QUndoStack(self._parent)
            self.group.addStack(stack)
            old = self._stacks.pop(key, None)
            if old is not None:
                self.group.removeStack(old)
            history.step_listeners.append(lambda kind, edit, h=history, s=stack: self._push(h, s, kind, edit))
            self._histories[key], self._stacks[key] = history, stack
            if self.on_new is not None:
                self.on_new(key, history)
        return history

    def restore(self, key: object, annotation: Annotation, edits: list[Edit]) -> EditHistory:
        """A new history of an image whose ``edits`` (oldest first) are already applied to ``annotation``
        (steps of an earlier session): they can be undone, and they show in the history panel."""
        history = self.history(key, annotation)
        stack = self._stacks[key]
        for edit in edits:
            history.done.append(edit)
            stack.push(HistoryStep(history, edit, self.batch))
        return history

    def get(self, key: object) -> EditHistory | None:
        return self._histories.get(key)

    def stack(self, key: object) -> QUndoStack | None:
        return self._stacks.get(key)

    def activate(self, key: object | None) -> None:
        """Make an image's stack the active one (None: no stack)."""
        self.group.setActiveStack(self._stacks.get(key) if key is not None else None)

    def _push(self, history: EditHistory, stack: QUndoStack, kind: str, edit: Edit) -> None:
        if kind == "do":
            stack.push(HistoryStep(history, edit, self.batch))

    def clear(self) -> None:
        """Forget every history (another folder was opened)."""
        for stack in self._stacks.values():
            self.group.removeStack(stack)
        self._histories.clear()
        self._stacks.clear()

