"""Class names typed by a person ("helmet, flag") → the categories an open-vocabulary prediction uses.

A name that the project already has (compared without case) keeps the project's category: its id, colour
and kind, so the prediction's layers and an accept land in that class. Other names become thing
categories with ids after the largest the project uses. No torch, no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from segview.core.categories import Category, CategorySet
from segview.errors import SegviewError

MAX_NAMES = 100
MAX_NAME_LENGTH = 60


class ClassNamesError(SegviewError):
    """The class names to look for are missing or unusable."""


def parse_class_names(text: str) -> tuple[str, ...]:
    """Comma- or line-separated names, stripped, inner spaces collapsed, repeats (any case) dropped."""
    names: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,\n;]", text):
        name = " ".join(part.split())
        if not name or name.casefold() in seen:
            continue
        if len(name) > MAX_NAME_LENGTH:
            raise ClassNamesError(f"The class name {name[:20]!r}… is {len(name)} characters long: keep each name "
                                  f"under {MAX_NAME_LENGTH} (a few words, such as 'red helmet').")
        seen.add(name.casefold())
        names.append(name)
    if not names:
        raise ClassNamesError("No class names given: give one or more, separated by commas (helmet, flag).")
    if len(names) > MAX_NAMES:
        raise ClassNamesError(f"{len(names)} class names given: ask for at most {MAX_NAMES} at a time.")
    return tuple(names)


def categories_for_names(names: Iterable[str], known: CategorySet | None = None) -> CategorySet:
    """One category per name, in the names' order: a known category of that name (any case) as it is,
    else a new thing category numbered after the largest known id."""
    known = known or CategorySet()
    by_name = {c.name.casefold(): c for c in known}
    next_id = known.max_id + 1
    result = CategorySet()
    for name in names:
        category = by_name.get(name.casefold())
        if category is None:
            category = Category(next_id, name, True)
            next_id += 1
        if category.id not in result:
            result.add(category)
    return result


def names_known(model: CategorySet, project: CategorySet) -> CategorySet:
    """The categories typed names are matched with in a window whose images also hold another model's
    predictions: the model's (their ids are in use), then each project category whose id and name are free."""
    known = CategorySet(model)
    names = {c.name.casefold() for c in model}
    for category in project:
        if category.id not in known and category.name.casefold() not in names:
            known.add(category)
    return known


def with_categories(base: CategorySet, extra: CategorySet) -> CategorySet:
    """``base`` and then each category of ``extra`` whose id it lacks (``extra`` came from
    :func:`categories_for_names` over ``base``, so a shared id is the same category)."""
    merged = CategorySet(base)
    for category in extra:
        if category.id not in merged:
            merged.add(category)
    return merged
