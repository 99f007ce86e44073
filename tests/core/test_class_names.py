"""Typed class names → the categories of an open-vocabulary prediction."""

import pytest

from segview.core.categories import Category, CategorySet
from segview.core.class_names import (
    MAX_NAMES,
    ClassNamesError,
    categories_for_names,
    names_known,
    parse_class_names,
    with_categories,
)


def test_names_are_split_stripped_and_deduplicated_without_case():
    assert parse_class_names(" helmet,flag\n red   car ;Helmet,, ") == ("helmet", "flag", "red car")


@pytest.mark.parametrize("text", ["", " , ;\n", ",".join(f"c{i}" for i in range(MAX_NAMES + 1)), "x" * 61])
def test_unusable_names_are_refused_with_advice(text):
    with pytest.raises(ClassNamesError, match="name"):
        parse_class_names(text)


def test_known_names_keep_the_project_category_and_new_ones_follow_its_largest_id():
    known = CategorySet([Category(3, "Helmet", True, (1, 2, 3)), Category(7, "sky", False)])
    result = categories_for_names(["flag", "helmet", "SKY", "car"], known)
    assert [(c.id, c.name, c.isthing) for c in result] == [(8, "flag", True), (3, "Helmet", True),
                                                            (7, "sky", False), (9, "car", True)]
    assert result[3].color == (1, 2, 3)


def test_without_a_project_names_are_numbered_from_one():
    assert [(c.id, c.name) for c in categories_for_names(["a", "b"])] == [(1, "a"), (2, "b")]


def test_names_in_a_window_with_another_models_predictions_get_ids_neither_uses():
    model = CategorySet([Category(1, "person"), Category(3, "car")])
    project = CategorySet([Category(1, "helmet"), Category(2, "flag"), Category(9, "Car")])
    known = names_known(model, project)
    assert [(c.id, c.name) for c in known] == [(1, "person"), (3, "car"), (2, "flag")]
    found = categories_for_names(["helmet", "flag", "car"], known)
    assert [(c.id, c.name) for c in found] == [(4, "helmet"), (2, "flag"), (3, "car")]
    merged = with_categories(model, found)
    assert [(c.id, c.name) for c in merged] == [(1, "person"), (3, "car"), (4, "helmet"), (2, "flag")]
