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
