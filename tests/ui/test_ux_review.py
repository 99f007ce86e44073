"""A new-user review of the main window: hover names, laptop sizes, read-only notices, overlay defaults,
Esc, unreadable files, dark-theme indicators."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF

from segview.ui.canvas.shapes import Mods
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


def test_the_pixel_readout_follows_the_image_under_a_still_mouse(qtbot, window, scenes):
    """The next image shown from the keyboard, the mouse not moved: the readout describes the new image."""
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.editor.actions_.accept_all.trigger()
    assert "annotation: #" in _hover(qtbot, window, 10, 10)
    window.browser.select(1)  # no annotation there
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)
    assert window.hover_label.text().startswith("x=10 y=10") and "annotation" not in window.hover_label.text()
    window.canvas.leaveEvent(QEvent(QEvent.Type.Leave))  # the mouse leaves the canvas
    assert window.hover_label.text() == ""


LONG_TITLE = "Mask R-CNN ResNet-50 FPN v2 — COCO 2017 instances, 91 classes, torchvision weights (v2)"


def _dock_widths(window):
    return {name: dock.width() for name, dock in window._docks.items() if dock.isVisible()}


def test_the_window_fits_a_laptop_screen_and_the_canvas_keeps_the_room(qtbot, window, scenes):
    window.open_path(scenes)
    window.model_panel.set_models([("long", LONG_TITLE), ("short", "Demo")], "long")
    window.hover_label.setText("x=1 y=2   " + "semantic: a very long class name   " * 10)
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 640
    assert window.minimumSize().width() <= 1024 and window.minimumSize().height() <= 640
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 640, timeout=2000)
    assert window.canvas.width() >= 400
    picker = window.model_panel.models
    assert picker.sizeHint().width() < picker.fontMetrics().horizontalAdvance(LONG_TITLE) / 2
    for name, dock in window._docks.items():
        assert dock.minimumSizeHint().width() <= 300, name


def test_a_theme_switch_does_not_widen_the_docks(qtbot, window, scenes):
    from PySide6.QtWidgets import QApplication

    from segview.ui.theme import apply_theme

    app = QApplication.instance()
    style, palette = app.style().name(), app.palette()
    window.open_path(scenes)
    window.model_panel.set_models([("long", LONG_TITLE)], "long")
    window.resize(1024, 640)
    qtbot.wait(50)
    before, canvas = _dock_widths(window), window.canvas.width()
    try:
        for theme in ("dark", "light"):
            apply_theme(app, theme)
            qtbot.wait(50)
            assert _dock_widths(window) == before, theme
            assert window.canvas.width() == canvas
    finally:
        app.setStyle(style)
        app.setPalette(palette)


def _interior_pixel(labels, margin=3):
    """A labelled pixel whose neighbourhood has the same label (fill, not outline)."""
    h, w = labels.shape
    for y in range(margin, h - margin):
        for x in range(margin, w - margin):
            patch = labels[y - margin:y + margin + 1, x - margin:x + margin + 1]
            if labels[y, x] and (patch == labels[y, x]).all():
                return x, y
    raise AssertionError("no interior pixel")


def test_default_overlay_fill_is_half_opaque_and_shows_the_class_colour(qtbot, window, scenes):
    from tests.ui.test_main_window import PRED_PANOPTIC, _screen_colour

    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    panel = window.layers_panel
    assert panel.is_visible(PRED_PANOPTIC) and panel.overlay_mode().value == "both"
    item = window.canvas.layer(PRED_PANOPTIC)
    labels = item.labels
    x, y = _interior_pixel(labels)
    colour = np.array(item._lut[labels[y, x]][:3], float)
    image = window._image[y, x].astype(float)
    shown = np.array(_screen_colour(window.canvas, x, y), float)
    channel = int(np.argmax(np.abs(colour - image)))
    alpha = (shown[channel] - image[channel]) / (colour[channel] - image[channel])
    assert 0.4 <= alpha <= 0.55, alpha  # clearly coloured, and the image still shows through


def test_an_annotated_image_shows_the_annotation_without_the_prediction_stacked_on_it(qtbot, window, scenes):
    from tests.ui.test_main_window import ANN_PANOPTIC, PRED_PANOPTIC, _screen_colour

    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    panel = window.layers_panel
    layers = window.canvas.layers()
    assert layers[PRED_PANOPTIC].isVisible() and not panel.prediction_note.isVisibleTo(panel)
    window.editor.tool_actions["brush"].trigger()  # a first stroke from scratch: the prediction stays as a guide
    window.editor.tools["brush"].press(5.0, 5.0, Mods())
    window.editor.tools["brush"].release(5.0, 5.0, Mods())
    assert window.current_entry().annotation is not None and layers[PRED_PANOPTIC].isVisible()
    window.editor.actions_.undo.trigger()
    window.editor.actions_.accept_all.trigger()
    assert layers[ANN_PANOPTIC].isVisible()
    assert not any(layers[n].isVisible() for n in layers if n.startswith("prediction."))
    assert not panel.is_visible(PRED_PANOPTIC) and panel.prediction_note.isVisibleTo(panel)
    x, y = _interior_pixel(layers[ANN_PANOPTIC].labels)
    one_layer = _screen_colour(window.canvas, x, y)
    window.layer_actions[PRED_PANOPTIC].trigger()  # the user asks for it: it is shown
    assert layers[PRED_PANOPTIC].isVisible() and _screen_colour(window.canvas, x, y) != one_layer
    window.layer_actions[PRED_PANOPTIC].trigger()
    window.browser.select(1)  # an image without an annotation shows its prediction again
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)
    assert panel.is_visible(PRED_PANOPTIC) and layers[PRED_PANOPTIC].isVisible()
    window.layer_actions[PRED_PANOPTIC].trigger()  # turned off here: stays off on unannotated images
    window.browser.select(0)
    assert not panel.is_visible(PRED_PANOPTIC)
    window.layer_actions[PRED_PANOPTIC].trigger()  # on for annotated images, remembered as such
    window.browser.select(1)
    assert not panel.is_visible(PRED_PANOPTIC)
    window.browser.select(0)
    assert panel.is_visible(PRED_PANOPTIC) and layers[PRED_PANOPTIC].isVisible()


def test_escape_outside_a_batch_drops_the_polygon_then_the_selection_and_cancels_nothing(qtbot, window, scenes):
    from PySide6.QtCore import Qt

    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.editor.actions_.accept_all.trigger()
    cancelled = []
    window.bridge.cancel_all = lambda: cancelled.append(True)  # the neighbours' prefetch must go on
    assert not window.actions_.cancel.isEnabled()
    editor, canvas = window.editor, window.canvas
    sid = next(iter(window.current_entry().annotation.segments))
    editor.select([sid])
    editor.tool_actions["polygon"].trigger()
    for x, y in ((10, 10), (40, 12)):
        qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         canvas.mapFromScene(QPointF(x, y)))
    assert canvas.tool.busy()
    window.statusBar().clearMessage()
    window.browser.view.setFocus()  # Escape works wherever the focus is, not only on the canvas
    qtbot.keyClick(window.browser.view, Qt.Key.Key_Escape)
    assert not canvas.tool.busy() and editor.selection == [sid]  # first the half-drawn polygon
    qtbot.keyClick(window.browser.view, Qt.Key.Key_Escape)
    assert editor.selection == []  # then the selection
    assert window.statusBar().currentMessage() != "Batch cancelled" and not cancelled


def test_escape_during_a_batch_cancels_it_and_says_so(qtbot, window, scenes):
    from PySide6.QtCore import Qt

    window.open_path(scenes)
    window.set_model("tiny_sem")
    window.actions_.run_all.trigger()
    assert window.actions_.cancel.isEnabled() and window.model_panel.cancel_button.isEnabled()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.statusBar().currentMessage() == "Batch cancelled"
    assert not window.actions_.cancel.isEnabled() and not window.model_panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)


def test_unreadable_files_are_named_and_their_error_goes_with_them(qtbot, window, scenes, monkeypatch):
    from tests.ui.test_review_fixes import _no_boxes

    for name in ("zz_a.jpg", "zz_b.png"):
        (scenes / name).write_bytes(b"not an image at all")
    _no_boxes(monkeypatch)
    window.open_path(scenes)
    message = window.statusBar().currentMessage()
    assert message.startswith("2 files cannot be read (listed as unreadable): zz_a.jpg, zz_b.png")
    assert "not added" not in message.split(".")[0]
    window.browser.select(len(window.workspace.entries) - 1)  # the corrupt one: its error is shown
    assert "zz_b.png" in window.statusBar().currentMessage()
    window.browser.select(0)  # a good image: the error is not left on screen for it
    assert window.current == 0 and "zz_b.png" not in window.statusBar().currentMessage()


def test_opening_an_image_as_a_dataset_says_to_open_its_folder(qtbot, window, scenes, monkeypatch):
    from tests.ui.test_review_fixes import _no_boxes

    shown = _no_boxes(monkeypatch)
    (scenes / "photo.jpg").write_bytes((scenes / "scene_0.png").read_bytes())
    window.open_path(scenes / "photo.jpg")
    assert len(shown) == 1
    title, text = shown[0]
    assert "photo.jpg is an image" in text and "Open Folder" in text and "not a COCO" not in text


def test_opening_a_folder_with_an_export_in_it_says_its_masks_were_skipped(qtbot, window, tmp_path):
    from segview.io.export import export_dataset
    from tests.factories import make_dataset, write_image

    folder = tmp_path / "photos"
    for name in ("a.png", "b.png"):
        write_image(folder / name, 16, 20)
    report, _ = export_dataset(make_dataset(None, n_images=2, height=16, width=20), folder / "export",
                               ["semantic-png"])
    assert report.ok, report.format()
    window.open_path(folder)
    assert [e.path.name for e in window.workspace.entries] == ["a.png", "b.png"]
    assert "not opened as images" in window.statusBar().currentMessage()


def test_painting_before_any_class_exists_is_refused_and_says_why(qtbot, window, scenes):
    window.open_path(scenes)  # no model result yet, no project classes
    assert not len(window.workspace.categories) and not len(window.workspace.model_categories)
    window.editor.tool_actions["brush"].trigger()
    window.editor.tools["brush"].press(10.0, 10.0, Mods())
    window.editor.tools["brush"].release(10.0, 10.0, Mods())
    assert window.current_entry().annotation is None  # no segment of class 0
    assert "No classes yet" in window.statusBar().currentMessage()
    _predict(qtbot, window, "tiny_sem")  # the model's classes arrive: painting works
    window.editor.tools["brush"].press(10.0, 10.0, Mods())
    window.editor.tools["brush"].release(10.0, 10.0, Mods())
    annotation = window.current_entry().annotation
    assert annotation is not None and all(s.category_id in window.workspace.categories
                                          for s in annotation.segments.values())


def test_opening_an_export_folder_opens_the_dataset_it_holds(qtbot, window, tmp_path):
    from segview.io.export import export_dataset
    from tests.factories import make_dataset

    source = make_dataset(tmp_path / "images", n_images=2, seed=3)
    report, _ = export_dataset(source, tmp_path / "export", ["coco", "coco-panoptic", "semantic-png"])
    assert report.ok, report.format()
    window.open_path(tmp_path / "export")
    assert [e.path.name for e in window.workspace.entries] == [r.file_name for r in source.images]
    assert all(e.path.is_file() and e.annotation is not None for e in window.workspace.entries)
    assert "segview export" in window.statusBar().currentMessage() and window.windowTitle().endswith("panoptic.json")


def test_help_lists_every_key_and_the_canvas_gestures_and_1_1_works_while_editing(qtbot, window, scenes, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda _p, title, text, *a: shown.append(text)))
    window.actions_.shortcuts.trigger()
    (text,) = shown
    for expected in ("Ctrl+1", "Ctrl+=", "Ctrl+Y", "Space + drag", "middle drag", "Backspace", "[ and ]", "Esc"):
        assert expected in text, expected
    window.open_path(scenes)
    window.editor.tool_actions["brush"].trigger()
    window.canvas.fit()
    before = window.canvas.scale_factor()
    qtbot.keyClick(window.canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.scale_factor() == 1.0 != before
    qtbot.keyClick(window.canvas, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.scale_factor() > 1.0


def test_run_on_all_images_is_in_view_on_a_1366_by_768_screen(qtbot, window, scenes):
    window.open_path(scenes)
    window.resize(1366, 740)
    qtbot.waitUntil(lambda: window.height() == 740, timeout=2000)
    qtbot.wait(50)
    button = window.model_panel.run_button
    dock = window._docks["Model"]
    corner = button.mapTo(dock, button.rect().bottomLeft())
    assert button.isVisible() and corner.y() <= dock.height()  # not scrolled out of the dock


def test_escape_in_a_search_field_clears_it_before_the_selection(qtbot, window, scenes):
    from PySide6.QtCore import Qt

    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.editor.actions_.accept_all.trigger()
    sid = next(iter(window.current_entry().annotation.segments))
    window.editor.select([sid])
    search = window.editor.panel.search
    search.setFocus()
    qtbot.keyClicks(search, "sk")
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert search.text() == "" and window.editor.selection == [sid]
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert window.editor.selection == []


def test_the_view_menu_shows_which_layers_are_on(qtbot, window, scenes):
    from tests.ui.test_main_window import PRED_PANOPTIC

    window.open_path(scenes)
    action, box = window.layer_actions[PRED_PANOPTIC], window.layers_panel.visible[PRED_PANOPTIC]
    menu = next(m for m in window.menuBar().findChildren(type(window.recent_menu)) if action in m.actions())
    assert action.isCheckable()
    menu.aboutToShow.emit()
    assert action.isChecked() == box.isChecked()
    on = box.isChecked()
    action.trigger()  # the P shortcut / menu item
    assert box.isChecked() != on
    menu.aboutToShow.emit()
    assert action.isChecked() == box.isChecked()
    window.actions_.boxes.trigger()
    menu.aboutToShow.emit()
    assert window.actions_.boxes.isChecked() == window.layers_panel.boxes.isChecked()
