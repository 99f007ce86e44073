"""A reproducible random mix of edits, undos and redos on an EditHistory (shared by the project tests and
the crash-test child process, so both replay exactly the same steps)."""

from __future__ import annotations

import numpy as np

from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import Segment, Source


def _some_id(history: EditHistory, rng: np.random.Generator) -> int | None:
    ids = sorted(history.annotation.segments)
    return int(rng.choice(ids)) if ids else None


def _brush(history: EditHistory, rng: np.random.Generator):
    ann = history.annotation
    n = int(rng.integers(1, 5))
    points = np.column_stack([rng.uniform(0, ann.width, n), rng.uniform(0, ann.height, n)])
    return edits.brush_mask(points.tolist(), float(rng.uniform(1, 6)), ann.height, ann.width)


def random_step(history: EditHistory, rng: np.random.Generator) -> str:
    """Make one random step (an edit, an undo or a redo) and return what it was."""
    ann = history.annotation
    kind = str(rng.choice(["paint", "paint", "new", "erase", "polygon", "delete", "merge", "split",
                           "relabel", "stroke", "undo", "undo", "redo"]))
    if kind == "undo":
        history.undo()
    elif kind == "redo":
        history.redo()
    elif kind == "paint" and (sid := _some_id(history, rng)) is not None:
        history.apply(edits.paint(ann, _brush(history, rng), sid), "Paint")
    elif kind in ("new", "paint"):
        segment = Segment(int(rng.integers(1, 6)), bool(rng.random() < 0.1), None, Source.PERSON)
        history.apply(edits.new_segment(ann, _brush(history, rng), segment)[1], "New segment")
    elif kind == "erase":
        history.apply(edits.erase(ann, _brush(history, rng)), "Erase")
    elif kind == "polygon":
        cx, cy = rng.uniform(0, ann.width), rng.uniform(0, ann.height)
        ring = [(cx + 12 * np.cos(a), cy + 9 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 7)[:-1]]
        hole = [(cx + 3 * np.cos(a), cy + 3 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 5)[:-1]]
        mask = edits.polygon_mask(ring, [hole], height=ann.height, width=ann.width)
        segment = Segment(int(rng.integers(1, 6)), False, float(rng.uniform(0.3, 1.0)), Source.MODEL)
        history.apply(edits.new_segment(ann, mask, segment)[1], "Polygon")
    elif kind == "delete" and (sid := _some_id(history, rng)) is not None:
        history.apply(edits.delete(ann, [sid]), "Delete")
    elif kind == "merge" and len(ann.segments) >= 2:
        a, b = (int(i) for i in rng.choice(sorted(ann.segments), 2, replace=False))
        history.apply(edits.merge(ann, [a, b]), "Merge")
    elif kind == "split" and (sid := _some_id(history, rng)) is not None:
        history.apply(edits.split(ann, sid)[1], "Split")
    elif kind == "relabel" and (sid := _some_id(history, rng)) is not None:
        history.apply(edits.relabel(ann, [sid], int(rng.integers(1, 6))), "Relabel")
    elif kind == "stroke":
        sid = _some_id(history, rng)
        history.begin("Stroke")
        for _ in range(3):
            if sid is not None:
                history.apply(edits.paint(ann, _brush(history, rng), sid))
        history.commit()
    return kind
