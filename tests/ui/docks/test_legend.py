"""The legend: every class with colour, kind and pixel share; unticking a class hides it on the canvas."""

import numpy as np
from PySide6.QtCore import QPointF, Qt

from segview.core.categories import Category, CategorySet
from segview.core.segments import Annotation, Segment
from segview.core.workspace import ImageEntry
from segview.io.images import read_image


def _colour_at(canvas, x, y):
    grab = canvas.viewport().grab().toImage()
    p = canvas.viewportTransform().map(QPointF(x + 0.5, y + 0.5))
    c = grab.pixelColor(int(p.x()), int(p.y()))
    return c.red(), c.green(), c.blue()


def test_legend_lists_shares_and_hides_unticked_classes(qtbot, window, scenes):
    window.open_path(scenes)
    image = read_image(window.current_entry().path)
    h, w = image.shape[:2]
    annotation = Annotation(h, w)
    annotation.add(np.ones((h, w), bool) & (np.arange(w) < w // 4)[None], Segment(1))
    annotation.add(np.ones((h, w), bool) & (np.arange(w) >= w // 2)[None], Segment(2))
    entry: ImageEntry = window.current_entry()
    entry.annotation = annotation
    window.workspace.categories = CategorySet([Category(1, "ball"), Category(2, "sky", False)])
    window.layers_panel.opacity["annotation.panoptic"].setValue(100)
    window.layers_panel.mode.setCurrentIndex(0)  # fill
    window.refresh_layers()
    table = window.legend.table
    rows = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    assert rows == {"ball": ("thing", "25.0 %"), "sky": ("stuff", "50.0 %")}
    x, y = w - 5, h // 2
    shown = _colour_at(window.canvas, x, y)
    sky_row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "sky")
    with qtbot.waitSignal(window.legend.hidden_changed):
        table.item(sky_row, 0).setCheckState(Qt.CheckState.Unchecked)
    hidden = _colour_at(window.canvas, x, y)
    assert shown != hidden and hidden == tuple(int(v) for v in image[y, x])
    assert _colour_at(window.canvas, 2, y) != tuple(int(v) for v in image[y, 2])  # ball still drawn
