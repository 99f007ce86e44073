"""Project.categories() on damaged category rows: a colour falls back to the default, anything else is a
ProjectError naming the row (the field report saw tracebacks for colour '5', colour not JSON, id -3)."""

import sqlite3

import pytest

from segview.core.palette import class_color
from segview.errors import ProjectError
from segview.io.project import Project
from tests.factories import make_categories, write_image


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "shots"
    write_image(folder / "a.png", 8, 8, seed=0)
    with Project.open(folder) as project:
        project.set_categories(make_categories())
    return folder


def _damage(project: Project, sql: str) -> None:
    with sqlite3.connect(project.db_path) as db:
        db.execute(sql)


@pytest.mark.parametrize("color", ["'5'", "'not json'", "'[1, 2]'", "'[300, 0, 0]'", "'{\"r\": 1}'", "7", "x'00ff'"])
def test_a_damaged_colour_gives_the_default_colour_and_keeps_the_rest(folder, color):
    with Project.open(folder) as project:
        _damage(project, f"UPDATE categories SET color = {color} WHERE id = 2")
        categories = project.categories()
    assert [c.id for c in categories] == [1, 2, 3, 4, 5]
    assert categories[2].color == class_color(2) and categories[2].name == "car"
    assert categories[1].color == make_categories()[1].color


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("id = -3", "must lie in 1..2147483647"),
        ("isthing = 2", "isthing 2 is not 0 or 1"),
        ("isthing = 'yes'", "isthing 'yes' is not 0 or 1"),
        ("name = x'41'", "the name and the supercategory must be text"),
        ("id = 4294967297", "must lie in 1..2147483647"),
    ],
)
def test_a_row_that_cannot_be_a_category_is_a_project_error_naming_it(folder, change, named):
    with Project.open(folder) as project:
        _damage(project, f"UPDATE categories SET {change} WHERE name = 'dog'")
        with pytest.raises(ProjectError, match="categories in .* are damaged: the row") as info:
            project.categories()
    assert named in str(info.value) and "Restore the project from a backup" in str(info.value)
