"""Categories as JSON objects (COCO panoptic style, also semantic PNG's classes.json), read and written,
and the ids an export writes them with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from segview.core.categories import MAX_CATEGORY_ID, Category, CategorySet
from segview.core.palette import parse_color
from segview.core.report import Report
from segview.io.json_reader import JsonReader


def read_categories(reader: JsonReader, entries: Sequence[tuple[str, Any]]) -> CategorySet:
    """Categories from JSON objects {id, name, isthing?, color?, supercategory?} (isthing defaults to 1)."""
    categories = CategorySet()
    for path, item in entries:
        item = reader.check(item, path, "dict")
        category_id = reader.integer(item, path, "id", 1, MAX_CATEGORY_ID)
        name = reader.get(item, path, "name", "str")
        isthing = reader.get(item, path, "isthing", "flag", True)
        supercategory = reader.get(item, path, "supercategory", "str", "")
        color = None
        if "color" in item:
            raw = item["color"]
            if isinstance(raw, list):
                raw = [reader.check(c, f"{path}.color[{i}]", "int") for i, c in enumerate(raw)]
            try:
                color = parse_color(raw)
            except ValueError as exc:
                reader.fail(f"{path}.color", f"is not a colour: {exc}")
        try:
            categories.add(Category(category_id, name, isthing, color, supercategory))
        except ValueError as exc:
            reader.fail(path, f"is not a valid category: {exc}")
    return categories


def category_json(category: Category) -> dict:
    """A category as a JSON object (panoptic style: isthing 0/1, colour [r, g, b])."""
    return {
        "id": category.id,
        "name": category.name,
        "supercategory": category.supercategory,
        "isthing": int(category.isthing),
        "color": list(category.color or ()),
    }


def export_categories(
    categories: CategorySet, base: int | None, minimum: int, report: Report
) -> tuple[list[Category], dict[int, int]] | None:
    """The categories to write and the old → new id map: ids kept (``base`` None) or renumbered from
    ``base``; a base under ``minimum`` is a report error (None returned, nothing is to be written)."""
    if base is None:
        return list(categories), {c.id: c.id for c in categories}
    if base < minimum:
        report.error(
            f"category_id_base {base} is too small for this format: use {minimum} or more; nothing written"
        )
        return None
    return categories.renumbered(base)
