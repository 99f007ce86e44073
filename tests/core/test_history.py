"""Undo history: changed-pixels-only atoms, grouping, unlimited undo/redo, listeners."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import Annotation, Segment
from tests.factories import random_annotation


def _state(annotation: Annotation):
    return annotation.segment_map.copy(), dict(annotation.segments)


def _same(annotation: Annotation, state) -> bool:
    segment_map, segments = state
    return np.array_equal(annotation.segment_map, segment_map) and annotation.segments == segments


def test_atoms_store_only_the_changed_pixels():
    annotation = random_annotation(np.random.default_rng(0), 120, 160)
    history = EditHistory(annotation)
    stroke = edits.brush_mask([(20, 30), (60, 35)], 4, 120, 160)
    atom = edits.paint(annotation, stroke, 1)
    changed = np.count_nonzero(annotation.segment_map[stroke.slices][stroke.mask] != 1)
    assert atom.pixels.before.size == atom.pixels.after.size == changed
    assert atom.pixels.where.shape[0] <= stroke.height and atom.pixels.where.shape[1] <= stroke.width
    history.apply(atom, "brush")
    assert (annotation.segment_map[stroke.slices][stroke.mask] == 1).all()


def test_a_stroke_is_one_step_and_abort_reverts_it():
    annotation = Annotation(40, 40)
    history = EditHistory(annotation)
    history.begin("brush")
    sid = annotation.next_id()
    for x in range(5, 30, 5):
        history.apply(edits.paint(annotation, edits.brush_mask([(x, 10)], 2, 40, 40), sid, Segment(1)))
    history.commit()
    assert [e.name for e in history.done] == ["brush"] and len(history.done[0].atoms) == 5
    before = _state(annotation)
    history.begin("eraser")
    history.apply(edits.erase(annotation, edits.brush_mask([(10, 10)], 6, 40, 40)))
    assert not _same(annotation, before)
    history.abort()
    assert _same(annotation, before) and len(history.done) == 1


def test_new_edit_clears_redo_and_empty_steps_are_dropped():
    annotation = Annotation(20, 20)
    history = EditHistory(annotation)
    _sid, atom = edits.new_segment(annotation, edits.brush_mask([(5, 5)], 3, 20, 20), Segment(2))
    history.apply(atom, "add")
    history.undo()
    assert history.can_redo
    history.begin("nothing")
    assert history.commit() is None
    assert history.can_redo  # an empty step is not an edit
    _sid, atom = edits.new_segment(annotation, edits.brush_mask([(12, 12)], 3, 20, 20), Segment(2))
    history.apply(atom, "add again")
    assert not history.can_redo


def test_listeners_get_dirty_boxes_and_steps():
    annotation = Annotation(50, 50)
    history = EditHistory(annotation)
    boxes, steps = [], []
    history.change_listeners.append(boxes.append)
    history.step_listeners.append(lambda kind, edit: steps.append((kind, edit.name)))
    _sid, atom = edits.new_segment(annotation, edits.brush_mask([(10, 20)], 3, 50, 50), Segment(1))
    history.apply(atom, "add")
    history.apply(edits.relabel(annotation, [1], 3), "relabel")
    history.undo()
    history.redo()
    top, left, h, w = boxes[0]
    assert (top, left) == (17, 7) and (h, w) == (6, 6)
    assert boxes[1] is None  # relabelling changes the table only
    assert steps == [("do", "add"), ("do", "relabel"), ("undo", "relabel"), ("redo", "relabel")]


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["brush", "erase", "fill", "polygon", "delete", "merge", "split", "relabel", "crowd", "undo",
                         "redo"]),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=25,
)


@given(OPERATIONS, st.integers(0, 1000))
def test_undo_all_and_redo_all_are_byte_identical(operations, seed):
    rng = np.random.default_rng(seed)
    annotation = random_annotation(rng, 48, 64)
    history = EditHistory(annotation)
    states = [_state(annotation)]  # after each done step; states[0] is the start
    redo_states = []  # after each undone step, most recently undone last
    for name, value in operations:
        r = np.random.default_rng(value)
        ids = sorted(annotation.segments) or [0]
        if name == "undo":
            if history.undo() is not None:
                redo_states.append(states.pop())
            assert _same(annotation, states[-1])
            continue
        if name == "redo":
            if history.redo() is not None:
                states.append(redo_states.pop())
            assert _same(annotation, states[-1])
            continue
        x, y = int(r.integers(0, 64)), int(r.integers(0, 48))
        some = [int(v) for v in r.choice(ids, size=min(2, len(ids)), replace=False)]
        if name == "brush":
            atom = edits.paint(annotation, edits.brush_mask([(x, y), (x + 9, y + 4)], 3, 48, 64), annotation.next_id(),
                               Segment(1))
        elif name == "erase":
            atom = edits.erase(annotation, edits.brush_mask([(x, y)], 5, 48, 64))
        elif name == "fill":
            atom = edits.fill(annotation, x, y, annotation.next_id(), Segment(2))
        elif name == "polygon":
            atom = edits.new_segment(annotation, edits.polygon_mask([(x, y), (x + 12, y), (x + 6, y + 10)],
                                                                   height=48, width=64), Segment(3))[1]
        elif name == "delete":
            atom = edits.delete(annotation, some[:1])
        elif name == "merge":
            atom = edits.merge(annotation, some)
        elif name == "split":
            atom = edits.split(annotation, some[0])[1] if some[0] in annotation.segments else None
        elif name == "relabel":
            atom = edits.relabel(annotation, [s for s in some if s in annotation.segments], 4)
        else:
            atom = edits.set_crowd(annotation, [s for s in some if s in annotation.segments], True)
        if atom is not None:
            history.apply(atom, name)
            states.append(_state(annotation))
            redo_states.clear()
        assert _same(annotation, states[-1])
    redo_states.extend(reversed(states[1:]))
    while history.undo() is not None:
        states.pop()
        assert _same(annotation, states[-1])
    assert len(states) == 1
    while history.redo() is not None:
        assert _same(annotation, redo_states.pop())
    assert not redo_states
