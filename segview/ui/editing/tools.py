"""Editing tools: one class per tool, fed image-coordinate press/move/release events by the canvas and
turning them into atoms of ``segview.core.edits`` applied through the image's ``EditHistory``.

Nothing here imports Qt: a tool talks to a ``ToolContext`` (the editor) and describes what the canvas
should draw over the image (``preview``) as the plain shapes of ``segview.ui.canvas.shapes``; the canvas knows
a tool only as a ``CanvasTool``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from segview.core import edits
from segview.core.categories import CategorySet
from segview.core.history import EditHistory
from segview.core.segments import VOID, Annotation, Segment
from segview.ui.canvas.shapes import Box, Circle, Handles, Mods, Path, Point, Shape

DRAG_THRESHOLD = 2.0  # image pixels a press must move before it counts as a drag


class ToolContext(Protocol):
    """What a tool needs from the editor."""

    image: np.ndarray | None
    category_id: int
    brush_radius: float
    add_hole: bool
    selection: list[int]

    def annotation(self) -> Annotation | None: ...
    def categories(self) -> CategorySet: ...
    def history(self) -> EditHistory | None: ...  # creates the annotation on first use
    def fused(self) -> Annotation | None: ...
    def select(self, ids: list[int]) -> None: ...
    def accept(self, ids: list[int]) -> None: ...
    def reject(self, segment_id: int) -> None: ...
    def preview_changed(self) -> None: ...


def _pixel(x: float, y: float) -> tuple[int, int]:
    return int(np.floor(x)), int(np.floor(y))


def _segment_at(annotation: Annotation, x: float, y: float) -> int:
    """The segment id under image point (x, y); void outside the image."""
    px, py = _pixel(x, y)
    if 0 <= px < annotation.width and 0 <= py < annotation.height:
        return int(annotation.segment_map[py, px])
    return VOID


def _box(a: Point, b: Point) -> tuple[int, int, int, int]:
    """Integer (x, y, width, height) of the pixels covered by the drag from a to b."""
    x0, y0 = int(np.floor(min(a[0], b[0]))), int(np.floor(min(a[1], b[1])))
    x1, y1 = int(np.ceil(max(a[0], b[0]))), int(np.ceil(max(a[1], b[1])))
    return x0, y0, x1 - x0, y1 - y0


def paint_target(ctx: ToolContext, annotation: Annotation) -> int:
    """The segment that painting goes into: the selected one when it has the current class, else the
    class's segment when it is stuff (stuff has no instances: one segment per class), else a new id."""
    for sid in ctx.selection:
        segment = annotation.segments.get(sid)
        if segment is not None and segment.category_id == ctx.category_id:
            return sid
    return edits.class_segment(annotation, ctx.categories(), ctx.category_id)


class Tool:
    """Base tool: ignores everything. ``pans``: a left drag pans the view instead."""

    name = "tool"
    label = "Tool"
    shortcut = ""
    pans = False
    takes_right_button = False  # right clicks come to press() with Mods.right, not the context menu

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx

    def press(self, x: float, y: float, mods: Mods) -> None:
        """Left button pressed at image point (x, y)."""

    def move(self, x: float, y: float, mods: Mods, pressed: bool) -> None:
        """Pointer moved (with the left button held when ``pressed``)."""

    def release(self, x: float, y: float, mods: Mods) -> None:
        """Left button released."""

    def double_click(self, x: float, y: float, mods: Mods) -> None:
        """Left button double-clicked (after its first press and release)."""

    def key(self, key: str) -> bool:
        """A key ("escape", "enter", "backspace", "delete"); True when the tool used it."""
        if key == "escape" and self.busy():
            self.cancel()
            return True
        return False

    def busy(self) -> bool:
        """Something is in progress that Escape would cancel."""
        return False

    def cancel(self) -> None:
        """Drop what is in progress."""

    def preview(self) -> list[Shape]:
        """Shapes to draw over the image."""
        return []

    def _segment(self) -> Segment:
        return Segment(self.ctx.category_id)


class HandTool(Tool):
    name, label, shortcut, pans = "hand", "Pan", "H", True


class _DragTool(Tool):
    """A press, a drag and a release; a press without drag is a click."""

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self.start: Point | None = None
        self.end: Point | None = None

    def press(self, x, y, mods):
        self.start = self.end = (x, y)

    def move(self, x, y, mods, pressed):
        if pressed and self.start is not None:
            self.end = (x, y)
            self.ctx.preview_changed()

    def release(self, x, y, mods):
        start, self.start, self.end = self.start, None, None
        if start is None:
            return
        if max(abs(x - start[0]), abs(y - start[1])) >= DRAG_THRESHOLD:
            self.dragged(start, (x, y), mods)
        else:
            self.clicked(x, y, mods)
        self.ctx.preview_changed()

    def busy(self):
        return self.start is not None

    def cancel(self):
        self.start = self.end = None
        self.ctx.preview_changed()

    def dragged(self, a: Point, b: Point, mods: Mods) -> None:
        """The left button was dragged from a to b."""

    def clicked(self, x: float, y: float, mods: Mods) -> None:
        """The left button was clicked at (x, y)."""

    def preview(self):
        if self.start is None or self.end is None:
            return []
        x, y, w, h = _box(self.start, self.end)
        return [Box(x, y, w, h)]


class SelectTool(_DragTool):
    """Click a segment to select it, shift-click to add or remove it; drag a box to select what it touches."""

    name, label, shortcut = "select", "Select", "V"

    def clicked(self, x, y, mods):
        annotation = self.ctx.annotation()
        if annotation is None:
            return
        sid = _segment_at(annotation, x, y)
        selection = list(self.ctx.selection)
        if mods.shift:
            if sid in selection:
                selection.remove(sid)
            elif sid != VOID:
                selection.append(sid)
        else:
            selection = [] if sid == VOID else [sid]
        self.ctx.select(selection)

    def dragged(self, a, b, mods):
        annotation = self.ctx.annotation()
        if annotation is None:
            return
        x, y, w, h = _box(a, b)
        region = annotation.segment_map[max(y, 0) : y + h, max(x, 0) : x + w]
        found = [int(i) for i in np.unique(region) if i != VOID]
        selection = list(self.ctx.selection) if mods.shift else []
        self.ctx.select(selection + [i for i in found if i not in selection])


class AcceptTool(Tool):
    """Click a segment of the model's fused result to accept it; shift- or alt-click to reject it."""

    name, label, shortcut = "accept", "Accept / reject prediction", "A"

    def press(self, x, y, mods):
        fused = self.ctx.fused()
        sid = VOID if fused is None else _segment_at(fused, x, y)
        if sid == VOID:
            return
        if mods.shift or mods.alt:
            self.ctx.reject(sid)
        else:
            self.ctx.accept([sid])


class PolygonTool(Tool):
    """Click vertices; double-click or Enter closes. The closed polygon becomes a new segment of the
    current class, or, with a segment selected and "add hole" on (or Ctrl held on the first vertex),
    a hole cut into that segment."""

    name, label, shortcut = "polygon", "Polygon", "G"

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self.points: list[Point] = []
        self.hole = False
        self.cursor: Point | None = None

    def press(self, x, y, mods):
        if not self.points:
            self.hole = mods.ctrl
        if not self.points or self.points[-1] != (x, y):
            self.points.append((x, y))
        self.ctx.preview_changed()

    def move(self, x, y, mods, pressed):
        self.cursor = (x, y)
        if self.points:
            self.ctx.preview_changed()

    def double_click(self, x, y, mods):
        self.close()

    def key(self, key):
        if key == "enter" and self.points:
            self.close()
            return True
        if key == "backspace" and self.points:
            self.points.pop()
            self.ctx.preview_changed()
            return True
        return super().key(key)

    def busy(self):
        return bool(self.points)

    def cancel(self):
        self.points = []
        self.ctx.preview_changed()

    def close(self) -> None:
        """Finish the polygon: a new segment, or a hole in the selected segment."""
        points, self.points = self.points, []
        self.ctx.preview_changed()
        history = self.ctx.history() if len(points) >= 3 else None
        if history is None:
            return
        annotation = history.annotation
        mask = edits.polygon_mask(points, height=annotation.height, width=annotation.width)
        target = [sid for sid in self.ctx.selection if sid in annotation.segments]
        if (self.hole or self.ctx.add_hole) and target:
            history.apply(edits.cut_hole(annotation, mask, target[0], self.ctx.categories()), "Cut hole")
            return
        sid, atom = edits.new_segment(annotation, mask, self._segment(), categories=self.ctx.categories())
        if atom is not None:
            history.apply(atom, "Polygon")
            self.ctx.select([sid])

    def preview(self):
        if not self.points:
            return []
        shown = self.points + ([self.cursor] if self.cursor is not None else [])
        return [Path(shown, closed=len(shown) > 2), Handles(list(self.points))]


class BrushTool(Tool):
    """Paint with a round brush: one stroke (press … release) is one undo step, Escape aborts it. Paints
    the selected segment when it has the current class, else a new segment of the current class."""

    name, label, shortcut = "brush", "Brush", "D"
    step_name = "Brush"

    def __init__(self, ctx: ToolContext) -> None:
        super().__init__(ctx)
        self.last: Point | None = None
        self.cursor: Point | None = None
        self.segment_id: int | None = None

    def press(self, x, y, mods):
        history = self.ctx.history()
        if history is None:
            return
        history.begin(self.step_name)
        self.segment_id = self._target(history.annotation)
        self.last = (x, y)
        self._stroke(history, [(x, y)])

    def move(self, x, y, mods, pressed):
        self.cursor = (x, y)
        history = self.ctx.history() if pressed and self.last is not None else None
        if history is not None and history.in_step:
            self._stroke(history, [self.last, (x, y)])
            self.last = (x, y)
        self.ctx.preview_changed()

    def release(self, x, y, mods):
        history = self.ctx.history() if self.last is not None else None
        self.last = None
        if history is not None and history.in_step:
            history.commit()
            if self.segment_id is not None and self.segment_id in history.annotation.segments:
                self.ctx.select([self.segment_id])

    def busy(self):
        return self.last is not None

    def cancel(self):
        history = self.ctx.history() if self.last is not None else None
        self.last = None
        if history is not None:
            history.abort()

    def preview(self):
        return [] if self.cursor is None else [Circle(*self.cursor, self.ctx.brush_radius)]

    def _target(self, annotation: Annotation) -> int | None:
        return paint_target(self.ctx, annotation)

    def _stroke(self, history: EditHistory, points: list[Point]) -> None:
        annotation = history.annotation
        mask = edits.brush_mask(points, self.ctx.brush_radius, annotation.height, annotation.width)
        sid = self.segment_id
        segment = None if sid in annotation.segments else self._segment()
        history.apply(edits.paint(annotation, mask, sid, segment))


class EraserTool(BrushTool):
    """Make pixels void with a round brush (one stroke, one undo step)."""

    name, label, shortcut = "eraser", "Eraser", "E"
    step_name = "Erase"

    def _target(self, annotation):
        return None

    def _stroke(self, history, points):
        annotation = history.annotation
        mask = edits.brush_mask(points, self.ctx.brush_radius, annotation.height, annotation.width)
        history.apply(edits.erase(annotation, mask))


class FillTool(Tool):
    """Flood-fill the clicked region (the 4-connected pixels of one id) with the current class: the
    selected segment when it has that class, else a new segment."""

    name, label, shortcut = "fill", "Fill", "K"

    def press(self, x, y, mods):
        history = self.ctx.history()
        if history is None:
            return
        annotation = history.annotation
        px, py = _pixel(x, y)
        sid = paint_target(self.ctx, annotation)
        segment = None if sid in annotation.segments else self._segment()
        atom = edits.fill(annotation, px, py, sid, segment)
        if atom is not None:
            history.apply(atom, "Fill")
            self.ctx.select([sid])


class GrabCutTool(_DragTool):
    """Drag a box around an object: GrabCut finds it and it becomes a new segment of the current class."""

    name, label, shortcut = "grabcut", "GrabCut box", "Q"

    def dragged(self, a, b, mods):
        image = self.ctx.image
        history = self.ctx.history() if image is not None else None
        if history is None:
            return
        mask = edits.grabcut_mask(image, _box(a, b))
        sid, atom = edits.new_segment(history.annotation, mask, self._segment(), categories=self.ctx.categories())
        if atom is not None:
            history.apply(atom, "GrabCut")
            self.ctx.select([sid])


TOOL_TYPES: tuple[type[Tool], ...] = (
    HandTool, SelectTool, AcceptTool, PolygonTool, BrushTool, EraserTool, FillTool, GrabCutTool,
)
