"""Class-list edits: new sets out, ids stable, refusals with messages."""


import numpy as np
import pytest

from segview.core.categories import Category, CategorySet
from segview.core.category_edits import (
    CategoryEditError,
    add_category,
    delete_category,
    merge_categories,
    move_category,
    recolor_category,
    rename_category,
    reorder_categories,
    segment_counts,
    set_isthing,
)
from segview.core.segments import Annotation, Segment
from tests.factories import make_categories


def test_add_gets_next_id_and_refuses_duplicates_and_empty_names():
    cats = make_categories()
    new, added = add_category(cats, "  bike ", isthing=True, color=(1, 2, 3))
    assert added == Category(6, "bike", True, (1, 2, 3))
    assert new.ids == [1, 2, 3, 4, 5, 6] and cats.ids == [1, 2, 3, 4, 5]  # the input is unchanged
    stuff, grass = add_category(new, "grass", isthing=False)
    assert grass.id == 7 and not grass.isthing and grass.color is not None
    with pytest.raises(CategoryEditError, match="already exists"):
        add_category(cats, "Car")
    with pytest.raises(CategoryEditError, match="needs a name"):
        add_category(cats, "   ")


def test_rename_keeps_id_and_position_and_refuses_duplicates():
    cats = make_categories()
    renamed = rename_category(cats, 2, "automobile")
    assert [c.name for c in renamed] == ["person", "automobile", "dog", "sky", "road"]
    assert renamed[2].id == 2 and renamed[2].color == cats[2].color
    assert rename_category(cats, 2, "CAR")[2].name == "CAR"  # its own name in another case is fine
    with pytest.raises(CategoryEditError, match="'dog' already exists"):
        rename_category(cats, 2, " Dog")
    with pytest.raises(CategoryEditError, match="no class with id 9"):
        rename_category(cats, 9, "x")


def test_recolor_and_thing_stuff():
    cats = make_categories()
    assert recolor_category(cats, 4, (10, 20, 30))[4].color == (10, 20, 30)
    with pytest.raises(CategoryEditError):
        recolor_category(cats, 4, (10, 20, 300))
    flipped = set_isthing(cats, 4, True)
    assert flipped[4].isthing and not cats[4].isthing


def test_move_and_reorder():
    cats = make_categories()
    assert move_category(cats, 5, 0).ids == [5, 1, 2, 3, 4]
    assert move_category(cats, 1, 99).ids == [2, 3, 4, 5, 1]
    assert reorder_categories(cats, [3, 1, 2, 5, 4]).ids == [3, 1, 2, 5, 4]
    with pytest.raises(CategoryEditError):
        reorder_categories(cats, [1, 2, 3])


def test_delete_refused_while_in_use():
    cats = make_categories()
    with pytest.raises(CategoryEditError, match="2 segment"):
        delete_category(cats, 3, in_use=2)
    assert delete_category(cats, 3).ids == [1, 2, 4, 5]


def test_merge_adds_missing_by_name_keeping_ids_stable():
    cats = make_categories()
    model = CategorySet([Category(1, "Person"), Category(2, "bus", color=(9, 9, 9)), Category(9, "tree", False)])
    merged, added = merge_categories(cats, model)
    assert [c.name for c in added] == ["bus", "tree"]
    assert merged.ids == [1, 2, 3, 4, 5, 6, 9]  # bus's id 2 is taken: next free; tree keeps 9
    assert merged[6] == Category(6, "bus", True, (9, 9, 9)) and not merged[9].isthing
    assert [merged[i] for i in cats.ids] == list(cats)
    again, none = merge_categories(merged, model)
    assert again == merged and none == []


def test_segment_counts():
    ann = Annotation(4, 4)
    ann.add(np.eye(4, dtype=bool), Segment(2))
    ann.add(np.fliplr(np.eye(4, dtype=bool)), Segment(2))
    assert segment_counts([ann, None]) == {2: 2}


def test_a_prediction_takes_the_project_classes_by_name_and_adds_the_missing_ones():
    import numpy as np

    from segview.core.category_edits import in_project_classes
    from segview.core.segments import Annotation, Segment, Source

    project = CategorySet([Category(1, "car"), Category(2, "Ball")])
    model = CategorySet([Category(1, "ball"), Category(2, "crate"), Category(5, "sky", isthing=False)])
    segment_map = np.array([[1, 2, 3]], dtype=np.uint16)
    fused = Annotation(1, 3, segment_map, {
        1: Segment(1, score=0.9, source=Source.MODEL),  # ball: the project's "Ball" is id 2
        2: Segment(2, score=0.8, source=Source.MODEL),  # crate: new, its model id 2 is taken -> 3
        3: Segment(5, source=Source.MODEL),  # sky: new, id 5 is free -> kept
    })
    merged, relabelled = in_project_classes(project, model, fused)
    assert [(c.id, c.name, c.isthing) for c in merged] == [
        (1, "car", True), (2, "Ball", True), (3, "crate", True), (5, "sky", False)]
    assert {sid: s.category_id for sid, s in relabelled.segments.items()} == {1: 2, 2: 3, 3: 5}
    assert relabelled.segments[1].score == 0.9 and relabelled.segment_map is segment_map
    assert fused.segments[1].category_id == 1  # the prediction itself is left as it was
    same, again = in_project_classes(merged, model, fused)
    assert same == merged and {s.category_id for s in again.segments.values()} == {2, 3, 5}
    only_ball, _ = in_project_classes(project, model, fused, ids=[1])  # one segment accepted: no new class
    assert only_ball == project
