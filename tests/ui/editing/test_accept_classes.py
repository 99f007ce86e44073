"""Accepting a prediction puts it into the project's classes by name (found by a new-user review: a
labelme project's 'car', id 1, received the model's 'ball' segments, id 1)."""

from __future__ import annotations

from segview.core.categories import Category, CategorySet
from tests.ui.editing.test_editor import _with_prediction


def test_accept_all_maps_model_classes_by_name_and_adds_and_saves_the_missing_ones(qtbot, window, scenes):
    window.open_path(scenes)
    window.workspace.categories = CategorySet([Category(1, "car"), Category(2, "Disc")])
    window.refresh_layers()
    entry = _with_prediction(window)  # the model's classes: disc 1, block 2, ground 3
    window.editor.actions_.accept_all.trigger()
    names = {c.id: c.name for c in window.workspace.categories}
    assert names == {1: "car", 2: "Disc", 3: "block"}  # block added (its id 2 is taken); ground unused
    by_class = sorted(window.workspace.categories.get(s.category_id).name for s in entry.annotation.segments.values())
    assert by_class == ["Disc", "Disc", "block"]
    assert {c.name for c in window.project_link.project.categories()} == {"car", "Disc", "block"}  # saved
    assert window.classes_panel.tree.ids() == [1, 2, 3]  # shown in the Classes tab
