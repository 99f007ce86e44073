"""Editing the outlines of an existing segment, its holes' too: drag a vertex, double-click an edge to
insert one, Alt-click a vertex to delete it. Only the pixels between the old and the new outline change,
so the pixel detail away from the edit survives. Holes are cut with the polygon tool, and reshaped here.
"""

from __future__ import annotations

import cv2
import numpy as np

from segview.core import edits
from segview.core.masks import CroppedMask
from segview.core.polygons import outlines
from segview.core.segments import VOID
from segview.ui.canvas.shapes import Handles, Path, Point
from segview.ui.editing.tools import Tool

SIMPLIFY = 1.0  # Douglas-Peucker tolerance in image pixels for the editable outline ...
SIMPLIFY_ON_SCREEN = 2.0  # ... and in screen pixels, so that a zoomed-out outline keeps few handles
GRAB_PIXELS = 8.0  # how near (on screen) a press must be to grab a vertex or an edge


def segment_rings(mask: CroppedMask, tolerance: float = SIMPLIFY) -> tuple[list[list[Point]], list[list[Point]]]:
    """Outlines of a cropped mask simplified to ``tolerance`` pixels, as vertex lists in image
    coordinates: the outer ones, and those of its holes (the outer outlines of the enclosed background)."""
    if mask.mask.size == 0:
        return [], []
    pixels = np.ascontiguousarray(mask.mask)
    rings, has_holes = outlines(pixels, mask.x, mask.y)
    hole_rings = []
    if has_holes:
        hole_rings, _ = outlines(_holes(pixels), mask.x, mask.y)
    return _simplified(rings, tolerance), _simplified(hole_rings, tolerance)


def _holes(mask: np.ndarray) -> np.ndarray:
    """The background pixels of a bool mask that are enclosed by it (not 4-connected to its border)."""
    background = np.pad(~mask, 1, constant_values=True).view(np.uint8)
    _count, labels = cv2.connectedComponents(background, connectivity=4)
    return np.ascontiguousarray((labels != labels[0, 0])[1:-1, 1:-1] & ~mask)


def _simplified(rings: list[np.ndarray], tolerance: float) -> list[list[Point]]:
    out = []
    for ring in rings:
        points = ring.reshape(-1, 1, 2).astype(np.int32)
        simple = cv2.approxPolyDP(points, tolerance, True).reshape(-1, 2)
        if len(simple) >= 3:
            out.append([(float(x), float(y)) for x, y in simple])
    return out


def minus(a: CroppedMask, b: CroppedMask) -> CroppedMask:
    """The pixels of ``a`` that are not in ``b``."""
    out = a.mask.copy()
    y0, y1 = max(a.y, b.y), min(a.y + a.height, b.y + b.height)
    x0, x1 = max(a.x, b.x), min(a.x + a.width, b.x + b.width)
    if y1 > y0 and x1 > x0:
        out[y0 - a.y : y1 - a.y, x0 - a.x : x1 - a.x] &= ~b.mask[y0 - b.y : y1 - b.y, x0 - b.x : x1 - b.x]
    return CroppedMask(a.x, a.y, out)


class VertexTool(Tool):
    """Edit the vertices of the selected segment's outline (click a segment to pick it)."""

    name, label, shortcut = "vertices", "Edit outline", "O"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.segment_id: int | None = None
        self.rings: list[list[Point]] = []  # the outer outlines, then the holes'
        self.hole_count = 0  # how many of ``rings`` (the last ones) are holes
        self._base: list[list[Point]] = []  # the outline the pixels currently follow
        self._drag: tuple[int, int] | None = None

    def load(self, segment_id: int | None) -> None:
        """Show the outline of a segment (None: nothing)."""
        annotation = self.ctx.annotation()
        if segment_id is None or annotation is None or segment_id not in annotation.segments:
            self.segment_id, self.rings, self.hole_count = None, [], 0
        else:
            self.segment_id = segment_id
            tolerance = max(SIMPLIFY, SIMPLIFY_ON_SCREEN * getattr(self.ctx, "pixel_size", 1.0))
            outer, holes = segment_rings(edits.segment_crop(annotation, segment_id), tolerance)
            self.rings, self.hole_count = outer + holes, len(holes)
        self._base = [list(r) for r in self.rings]
        self.ctx.preview_changed()

    def press(self, x, y, mods):
        selected = self.ctx.selection[0] if self.ctx.selection else None
        if selected != self.segment_id:
            self.load(selected)
        hit = self._vertex_at(x, y)
        if hit is not None and mods.alt:
            ring = self.rings[hit[0]]
            if len(ring) > 3:
                ring.pop(hit[1])
                self._apply()
        elif hit is not None:
            self._drag = hit
        else:
            annotation = self.ctx.annotation()
            px, py = int(np.floor(x)), int(np.floor(y))
            inside = annotation is not None and 0 <= px < annotation.width and 0 <= py < annotation.height
            sid = int(annotation.segment_map[py, px]) if inside else VOID
            self.ctx.select([] if sid == VOID else [sid])  # the editor then loads its outline

    def move(self, x, y, mods, pressed):
        if pressed and self._drag is not None:
            ring, index = self._drag
            self.rings[ring][index] = (x, y)
            self.ctx.preview_changed()

    def release(self, x, y, mods):
        if self._drag is not None:
            self._drag = None
            self._apply()

    def double_click(self, x, y, mods):
        edge = self._edge_at(x, y)
        if edge is not None:
            ring, index = edge
            self.rings[ring].insert(index + 1, (x, y))
            self._base[ring].insert(index + 1, (x, y))
            self.ctx.preview_changed()

    def busy(self):
        return self._drag is not None

    def cancel(self):
        self._drag = None
        self.rings = [list(r) for r in self._base]
        self.ctx.preview_changed()

    def preview(self):
        shapes = []
        for ring in self.rings:
            shapes += [Path(list(ring), closed=True), Handles(list(ring))]
        return shapes

    def _tolerance(self) -> float:
        return GRAB_PIXELS * getattr(self.ctx, "pixel_size", 1.0)

    def _vertex_at(self, x: float, y: float) -> tuple[int, int] | None:
        best, found = self._tolerance() ** 2, None
        for i, ring in enumerate(self.rings):
            for j, (vx, vy) in enumerate(ring):
                d = (vx - x) ** 2 + (vy - y) ** 2
                if d <= best:
                    best, found = d, (i, j)
        return found

    def _edge_at(self, x: float, y: float) -> tuple[int, int] | None:
        best, found = self._tolerance(), None
        p = np.array([x, y])
        for i, ring in enumerate(self.rings):
            for j in range(len(ring)):
                a, b = np.array(ring[j]), np.array(ring[(j + 1) % len(ring)])
                t = float(np.clip(np.dot(p - a, b - a) / max(np.dot(b - a, b - a), 1e-9), 0, 1))
                d = float(np.hypot(*(a + t * (b - a) - p)))
                if d <= best:
                    best, found = d, (i, j)
        return found

    def is_hole(self, ring: int) -> bool:
        """Whether ``rings[ring]`` outlines a hole."""
        return ring >= len(self.rings) - self.hole_count

    def _apply(self) -> None:
        """Change the pixels between each edited ring and the outline they followed, as one step: an
        outer outline gains what it grew over and loses what it left; a hole the other way round."""
        history = self.ctx.history() if self.segment_id is not None else None
        if history is None:
            return
        annotation, sid = history.annotation, self.segment_id
        history.begin("Edit outline")
        for ring, (old, new) in enumerate(zip(self._base, self.rings, strict=True)):
            if old == new:
                continue
            before = edits.polygon_mask(old, height=annotation.height, width=annotation.width)
            after = edits.polygon_mask(new, height=annotation.height, width=annotation.width)
            gained, lost = (minus(before, after), minus(after, before)) if self.is_hole(ring) else \
                (minus(after, before), minus(before, after))
            history.apply(edits.paint(annotation, gained, sid))
            history.apply(edits.erase(annotation, lost, only=[sid]))
        history.commit()
        self._base = [list(r) for r in self.rings]
        self.ctx.preview_changed()
