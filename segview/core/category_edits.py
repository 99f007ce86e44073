"""Edits of a CategorySet that return a new CategorySet: add, rename, recolour, thing/stuff, reorder,
delete and merge. Qt-free, so the classes panel only calls these and shows their messages.

Ids never change: an edit keeps every existing category's id, so segments keep pointing at the right
class. Names are compared without surrounding spaces and case-insensitively ("Car" duplicates "car").
A refused edit raises :class:`CategoryEditError` with a message for the person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from segview.core.categories import Category, CategorySet
from segview.core.palette import RGB
from segview.core.segments import Annotation
from segview.errors import SegviewError


class CategoryEditError(SegviewError):
    """An edit of the class list that would break it (duplicate or empty name, class in use, ...)."""


def name_key(name: str) -> str:
    """What two names are compared by: no surrounding spaces, case-folded."""
    return name.strip().casefold()


def _require(categories: CategorySet, category_id: int) -> Category:
    category = categories.get(category_id)
    if category is None:
        raise CategoryEditError(f"There is no class with id {category_id}.")
    return category


def _clean_name(categories: CategorySet, name: str, own_id: int | None = None) -> str:
    clean = name.strip()
    if not clean:
        raise CategoryEditError("A class needs a name: type one.")
    for other in categories:
        if other.id != own_id and name_key(other.name) == name_key(clean):
            raise CategoryEditError(
                f"A class named {other.name!r} already exists (id {other.id}): choose another name."
            )
    return clean


def _replaced(categories: CategorySet, category: Category) -> CategorySet:
    return CategorySet(category if c.id == category.id else c for c in categories)


def add_category(
    categories: CategorySet,
    name: str,
    isthing: bool = True,
    color: RGB | None = None,
    supercategory: str = "",
    category_id: int | None = None,
) -> tuple[CategorySet, Category]:
    """Append a class (id: the next free one unless given); returns the new set and the class added."""
    clean = _clean_name(categories, name)
    new_id = categories.max_id + 1 if category_id is None else int(category_id)
    if new_id <= 0 or new_id in categories:
        raise CategoryEditError(f"Class id {new_id} is not free: leave the id to segview.")
    result = CategorySet(categories)
    added = result.add(Category(new_id, clean, bool(isthing), color, supercategory))
    return result, added


def rename_category(categories: CategorySet, category_id: int, name: str) -> CategorySet:
    """Give a class a new name; an empty name or one another class has is refused."""
    category = _require(categories, category_id)
    return _replaced(categories, replace(category, name=_clean_name(categories, name, category_id)))


def recolor_category(categories: CategorySet, category_id: int, color: RGB) -> CategorySet:
    """Give a class a new display colour (three 0–255 channels)."""
    rgb = tuple(int(v) for v in color)
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise CategoryEditError(f"{color!r} is not a colour: give three values from 0 to 255.")
    return _replaced(categories, replace(_require(categories, category_id), color=rgb))


def set_isthing(categories: CategorySet, category_id: int, isthing: bool) -> CategorySet:
    """Make a class a thing (countable instances) or stuff (amorphous regions)."""
    return _replaced(categories, replace(_require(categories, category_id), isthing=bool(isthing)))


def move_category(categories: CategorySet, category_id: int, index: int) -> CategorySet:
    """Move a class to position ``index`` of the display order (clamped to the list)."""
    category = _require(categories, category_id)
    rest = [c for c in categories if c.id != category_id]
    index = max(0, min(int(index), len(rest)))
    return CategorySet([*rest[:index], category, *rest[index:]])


def reorder_categories(categories: CategorySet, order: Sequence[int]) -> CategorySet:
    """Put the classes in the order of ``order`` (every id exactly once), e.g. after a drag and drop."""
    if sorted(order) != sorted(categories.ids):
        raise CategoryEditError("The new order must name every class exactly once.")
    return CategorySet(categories[i] for i in order)


def delete_category(categories: CategorySet, category_id: int, in_use: int = 0) -> CategorySet:
    """Remove a class; refused while ``in_use`` segments still use it."""
    category = _require(categories, category_id)
    if in_use > 0:
        raise CategoryEditError(
            f"{in_use} segment(s) still use {category.name!r}: relabel or delete them first."
        )
    return CategorySet(c for c in categories if c.id != category_id)


def merge_categories(categories: CategorySet, other: Iterable[Category]) -> tuple[CategorySet, list[Category]]:
    """Add the classes of ``other`` (e.g. a model's) that are missing by name, after the existing ones.

    Existing ids never change. An added class keeps its own id when that id is free and gets the next
    free id otherwise; its name, kind, colour and supercategory are kept. Returns the merged set and
    the classes added (with their ids in the merged set).
    """
    result = CategorySet(categories)
    added: list[Category] = []
    for category in other:
        if any(name_key(c.name) == name_key(category.name) for c in result) or not category.name.strip():
            continue
        new_id = category.id if category.id > 0 and category.id not in result else result.max_id + 1
        added.append(result.add(replace(category, id=new_id, name=category.name.strip())))
    return result, added


def in_project_classes(
    categories: CategorySet, model: CategorySet, fused: Annotation, ids: Iterable[int] | None = None
) -> tuple[CategorySet, Annotation]:
    """A model's fused prediction relabelled into the project's classes, matched by name: the classes of
    the segments to accept (``ids``, None: all) that the project lacks are merged in first (see
    :func:`merge_categories`). Returns the project's categories (grown, or unchanged) and the prediction
    with project ids; its segment map is shared, not copied. The model's ids name the model's classes
    only: copying them as they are put a model's 'ball' (id 1) into a labelme project's 'car' (id 1)."""
    chosen = fused.segments if ids is None else [sid for sid in ids if sid in fused.segments]
    used = {fused.segments[sid].category_id for sid in chosen}
    merged, _added = merge_categories(categories, [c for c in model if c.id in used])
    project_id = {name_key(c.name): c.id for c in merged}
    to_project = {c.id: project_id[name_key(c.name)] for c in model if name_key(c.name) in project_id}
    segments = {
        sid: replace(segment, category_id=to_project.get(segment.category_id, segment.category_id))
        for sid, segment in fused.segments.items()
    }
    return merged, Annotation(fused.height, fused.width, fused.segment_map, segments)


def segment_counts(annotations: Iterable[Annotation | None]) -> Counter[int]:
    """How many segments use each category id, over the given annotations (None skipped)."""
    counts: Counter[int] = Counter()
    for annotation in annotations:
        if annotation is not None:
            counts.update(s.category_id for s in annotation.segments.values())
    return counts
