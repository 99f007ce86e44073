"""The candidates tool (U): Segment Everything's unlabeled masks become segments of a class.

The candidates of the image on screen are shown as their own layer (each its own colour, outlined). Pick
the class with 1–9 (or the class list), then click a candidate: it becomes a new segment of that class (one
undo step) and leaves the candidates; undoing the step gives it back, redoing takes it again. The candidate under the cursor is previewed.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from segview.core import edits
from segview.core.candidates import Candidates
from segview.core.history import Edit
from segview.core.render import OverlayMode
from segview.core.workspace import ImageEntry
from segview.ui.canvas.canvas import ImageCanvas
from segview.ui.canvas.shapes import Mask, Shape
from segview.ui.editing.tools import Tool, ToolContext

CANDIDATES_LAYER = "candidates"
CANDIDATES_Z = 5.0  # over the prediction and annotation layers, under boxes, selection and tool shapes


class CandidateContext(ToolContext, Protocol):
    """What the candidates tool needs beyond the other tools' context."""

    entry: ImageEntry | None
    canvas: ImageCanvas

    def show_status(self, message: str) -> None: ...


def show_candidates(canvas: ImageCanvas, candidates: Candidates | None) -> None:
    """Draw an image's candidates as their own layer (nothing when there are none)."""
    canvas.layer(CANDIDATES_LAYER, CANDIDATES_Z)
    if not candidates:
        canvas.set_layer(CANDIDATES_LAYER, None, np.zeros((1, 4), np.uint8))
        return
    canvas.set_layer(CANDIDATES_LAYER, candidates.label_map(), candidates.lut())
    canvas.set_layer_style(CANDIDATES_LAYER, OverlayMode.BOTH, 0.8, 90)


class CandidateTool(Tool):
    """Click a candidate to make it a segment of the current class."""

    name, label, shortcut = "candidates", "Candidates (Segment Everything)", "U"

    def __init__(self, ctx: CandidateContext) -> None:
        super().__init__(ctx)
        self.ctx: CandidateContext = ctx
        self.hover: int | None = None
        # id of a taken candidate's step -> (the step, its image, the candidates before and after)
        self._taken: dict[int, tuple[Edit, ImageEntry, Candidates, Candidates]] = {}

    def candidates(self) -> Candidates | None:
        entry = self.ctx.entry
        return None if entry is None else entry.candidates

    def move(self, x, y, mods, pressed):
        candidates = self.candidates()
        index = candidates.at(x, y) if candidates else None
        if index != self.hover:
            self.hover = index
            self.ctx.preview_changed()

    def press(self, x, y, mods):
        self.take(x, y)

    def take(self, x: float, y: float) -> int | None:
        """Make the candidate at (x, y) a segment of the current class; its id, or None."""
        candidates, entry = self.candidates(), self.ctx.entry
        index = candidates.at(x, y) if candidates else None
        if index is None or entry is None:
            self.ctx.show_status("No candidate here: Model → Segment Everything finds them")
            return None
        if self.ctx.category_id not in self.ctx.categories():
            self.ctx.show_status("Pick the class first (1–9 or the class list), then click the candidate")
            return None
        history = self.ctx.history()
        if history is None:
            return None
        sid, atom = edits.new_segment(history.annotation, candidates.masks[index], self._segment(),
                                      categories=self.ctx.categories())
        entry.candidates = candidates.without(index)
        self.hover = None
        show_candidates(self.ctx.canvas, entry.candidates)
        if atom is None:
            self.ctx.show_status("The candidate changes nothing here")
            return None
        edit = history.apply_all([atom], "Candidate")
        if edit is not None:  # undo gives the candidate back, redo takes it again
            self._taken[id(edit)] = (edit, entry, candidates, entry.candidates)
            if self._on_step not in history.step_listeners:
                history.step_listeners.append(self._on_step)
        self.ctx.select([sid])
        return sid

    def _on_step(self, kind: str, edit: Edit) -> None:
        """A taken candidate's step undone or redone: its image's candidates as they were before or after
        (unless Segment Everything has answered that image again since)."""
        taken = self._taken.get(id(edit))
        if kind == "do" or taken is None or taken[0] is not edit:
            return
        _edit, entry, before, after = taken
        if entry.candidates is not (after if kind == "undo" else before):
            return
        entry.candidates = before if kind == "undo" else after
        if self.ctx.entry is entry:
            self.hover = None
            show_candidates(self.ctx.canvas, entry.candidates)

    def cancel(self) -> None:
        self.hover = None

    def preview(self) -> list[Shape]:
        candidates = self.candidates()
        if self.hover is None or not candidates or self.hover >= len(candidates):
            return []
        crop = candidates.masks[self.hover]
        return [Mask(crop.x, crop.y, crop.mask)]
