"""Editing the outline of an existing segment: drag a vertex, double-click an edge to insert one,
Alt-click a vertex to delete it. Only the pixels between the old and the new outline change, so holes
and the pixel detail away from the edit survive. Outer outlines only (holes are cut with the polygon).
"""

from __future__ import annotations

import cv2
import numpy as np

from segview.core import edits
from segview.core.masks import CroppedMask
from segview.core.polygons import outlines
from segview.core.segments import VOID
from segview.ui.tools import Handles, Path, Point, Tool

SIMPLIFY = 1.0  # Douglas-Peucker tolerance in pixels for the editable outline
GRAB_PIXELS = 8.0  # how near (on screen) a press must be to grab a vertex or an edge


def segment_rings(mask: CroppedMask) -> list[list[Point]]:
    """Simplified outer outlines of a cropped mask, as vertex lists in image coordinates."""
    if mask.mask.size == 0:
        return []
    rings, _holes = outlines(np.ascontiguousarray(mask.mask), mask.x, mask.y)
    out = []
    for ring in rings:
        points = ring.reshape(-1, 1, 2).astype(np.int32)
        simple = cv2.approxPolyDP(points, SIMPLIFY, True).reshape(-1, 2)
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
        self.rings: list[list[Point]] = []
        self._base: list[list[Point]] = []  # the outline the pixels currently follow
        self._drag: tuple[int, int] | None = None

    def load(self, segment_id: int | None) -> None:
        """Show the outline of a segment (None: nothing)."""
        annotation = self.ctx.annotation()
        if segment_id is None or annotation is None or segment_id not in annotation.segments:
            self.segment_id, self.rings = None, []
        else:
            self.segment_id = segment_id
            self.rings = segment_rings(edits.segment_crop(annotation, segment_id))
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

    def _apply(self) -> None:
        """Change the pixels between each edited ring and the outline they followed, as one step."""
        history = self.ctx.history() if self.segment_id is not None else None
        if history is None:
            return
        annotation, sid = history.annotation, self.segment_id
        history.begin("Edit outline")
        for old, new in zip(self._base, self.rings, strict=True):
            if old == new:
                continue
            before = edits.polygon_mask(old, height=annotation.height, width=annotation.width)
            after = edits.polygon_mask(new, height=annotation.height, width=annotation.width)
            history.apply(edits.paint(annotation, minus(after, before), sid))
            history.apply(edits.erase(annotation, minus(before, after), only=[sid]))
        history.commit()
        self._base = [list(r) for r in self.rings]
        self.ctx.preview_changed()
