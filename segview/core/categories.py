"""Categories: id, name, thing or stuff, colour, supercategory; and an ordered set of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from segview.core.palette import RGB, class_color, lut_from_colors

MAX_CATEGORY_ID = 2**31 - 1
"""The largest category id: COCO tools (pycocotools, Detectron2, panopticapi) read ids as 32-bit signed integers."""


@dataclass(frozen=True)
class Category:
    """One class. ``isthing`` classes have instances; stuff classes (sky, road) do not."""

    id: int
    name: str
    isthing: bool = True
    color: RGB | None = None
    supercategory: str = ""


class CategorySet:
    """Categories in display order with unique positive ids and unique names; colours resolved."""

    def __init__(self, categories: Iterable[Category] = ()) -> None:
        self._items = []
        self._by_id: dict[int, Category] = {}
        for category in categories:
            self.add(category)

    def add(self, category: Category) -> Category:
        """Append a category; a missing colour gets the deterministic class colour."""
        if not 0 < category.id <= MAX_CATEGORY_ID:
            raise ValueError(f"category id {category.id} of {category.name!r} must lie in 1..{MAX_CATEGORY_ID}")
        if category.id in self._by_id:
            raise ValueError(f"category id {category.id} is used twice")
        if any(c.name == category.name for c in self._items):
            raise ValueError(f"category name {category.name!r} is used twice")
        if category.color is None:
            category = replace(category, color=class_color(category.id))
        self._items.append(category)
        self._by_id[category.id] = category
        return category

    def __iter__(self) -> Iterator[Category]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    def __getitem__(self, category_id: int) -> Category:
        return self._by_id[category_id]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CategorySet) and self._items == other._items

    def __repr__(self) -> str:
        return f"CategorySet({self._items!r})"

    def get(self, category_id: int) -> Category | None:
        return self._by_id.get(category_id)

    def by_name(self, name: str) -> Category | None:
        return next((c for c in self._items if c.name == name), None)

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self._items]

    @property
    def max_id(self) -> int:
        return max(self._by_id, default=0)

    def is_thing(self, category_id: int) -> bool:
        category = self._by_id.get(category_id)
        return bool(category and category.isthing)

    def color_of(self, category_id: int) -> RGB:
        category = self._by_id.get(category_id)
        return category.color if category and category.color else class_color(category_id)

    def thing_table(self) -> np.ndarray:
        """A boolean table indexed by category id: True for thing classes."""
        table = np.zeros(self.max_id + 1, dtype=bool)
        for c in self._items:
            table[c.id] = c.isthing
        return table

    def color_lut(self, alpha: int = 255) -> np.ndarray:
        """RGBA lookup table indexed by category id (0 = void, transparent)."""
        return lut_from_colors({c.id: self.color_of(c.id) for c in self._items}, alpha)

    def renumbered(self, base: int = 1) -> tuple[list[Category], dict[int, int]]:
        """For export: the categories with contiguous ids from ``base`` (0 allowed), and old → new ids."""
        mapping = {c.id: base + i for i, c in enumerate(self._items)}
        return [replace(c, id=mapping[c.id]) for c in self._items], mapping
