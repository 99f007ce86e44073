"""A new-user review of the main window: hover names, laptop sizes, read-only notices, overlay defaults,
Esc, unreadable files, dark-theme indicators."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from tests.ui.test_main_window import _predict


def _hover(qtbot, window, x, y):
    canvas = window.canvas
    point = canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))
    qtbot.mouseMove(canvas.viewport(), point)
    qtbot.waitUntil(lambda: window.hover_label.text().startswith(f"x={x} y={y}"), timeout=2000)
    return window.hover_label.text()


def test_hover_names_the_annotation_with_the_project_classes_after_a_rename(qtbot, window, scenes):
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.editor.actions_.accept_all.trigger()
    entry = window.current_entry()
    ys, xs = np.nonzero(entry.annotation.segment_map)
    x, y = int(xs[len(xs) // 2]), int(ys[len(ys) // 2])
    sid = int(entry.annotation.segment_map[y, x])
    category_id = entry.annotation.segments[sid].category_id
    old_name = window.workspace.model_categories[category_id].name
    with qtbot.waitSignal(window.classes_panel.categories_changed):
        assert window.classes_panel.rename(category_id, "sphere")
    text = _hover(qtbot, window, x, y)
    assert f"annotation: #{sid} sphere" in text
    assert "panoptic: " in text and old_name in text  # the prediction keeps the model's name
