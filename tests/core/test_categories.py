import numpy as np
import pytest

from segview.core.categories import Category, CategorySet
from segview.core.palette import class_color, instance_color, parse_color


def test_missing_colour_gets_deterministic_class_colour():
    cats = CategorySet([Category(1, "a"), Category(7, "b", color=(1, 2, 3))])
    assert cats[1].color == class_color(1)
    assert cats[7].color == (1, 2, 3)
    assert CategorySet([Category(1, "a")])[1].color == cats[1].color


@pytest.mark.parametrize(
    "bad",
    [
        [Category(0, "zero")],
        [Category(1, "a"), Category(1, "b")],
        [Category(1, "a"), Category(2, "a")],
    ],
)
def test_invalid_sets_are_refused(bad):
    with pytest.raises(ValueError):
        CategorySet(bad)


def test_lookup_and_thing_table():
    cats = CategorySet([Category(2, "car"), Category(5, "sky", isthing=False)])
    assert cats.ids == [2, 5] and cats.max_id == 5
    assert cats.by_name("sky").id == 5 and cats.by_name("nope") is None
    assert cats.thing_table().tolist() == [False, False, True, False, False, False]
    lut = cats.color_lut()
    assert lut.shape == (6, 4) and lut[0, 3] == 0 and lut[2, 3] == 255 and tuple(lut[5, :3]) == cats[5].color


def test_renumbered_is_contiguous_in_display_order():
    cats = CategorySet([Category(10, "b"), Category(3, "a", isthing=False)])
    renumbered, mapping = cats.renumbered(base=0)
    assert mapping == {10: 0, 3: 1}
    assert [(c.id, c.name, c.isthing) for c in renumbered] == [(0, "b", True), (1, "a", False)]
    assert [c.color for c in renumbered] == [cats[10].color, cats[3].color]


def test_palette_is_deterministic_and_distinct():
    colors = [class_color(i) for i in range(1, 200)]
    assert colors == [class_color(i) for i in range(1, 200)]
    assert len(set(colors[:20])) == 20
    base = (200, 30, 40)
    instances = {instance_color(i, base) for i in range(1, 30)}
    assert len(instances) >= 25
    assert all(0 <= c <= 255 for rgb in instances for c in rgb)


@pytest.mark.parametrize("value,expected", [("#ff8000", (255, 128, 0)), ([1, 2, 3], (1, 2, 3))])
def test_parse_color(value, expected):
    assert parse_color(value) == expected


@pytest.mark.parametrize("value", ["#ff80", [1, 2], [1, 2, 300], "red", None, [1.5, 2, 3]])
def test_parse_color_rejects(value):
    with pytest.raises(ValueError):
        parse_color(value)


def test_colour_lut_is_uint8():
    assert CategorySet([Category(3, "x")]).color_lut().dtype == np.uint8
