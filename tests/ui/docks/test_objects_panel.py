"""The Objects dock and the navigation tool bar driven as a user would: rows follow edits, undo and the
image on screen; clicking rows selects on the canvas and back; the eye hides a segment; previous / next
buttons; the saved state follows the project store."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from segview.core.layers import LayerSource, LayerView, layer_name
from segview.errors import ProjectError
from segview.ui.docks.objects_panel import NO_ANNOTATION
from segview.ui.navigation import READ_ONLY, SAVED, WRITE_FAILED
from tests.ui.editing.test_editor import CATEGORIES, _click, _with_prediction

ANN_PANOPTIC = layer_name(LayerSource.ANNOTATION, LayerView.PANOPTIC)
ANN_SEMANTIC = layer_name(LayerSource.ANNOTATION, LayerView.SEMANTIC)


def _open(window, scenes):
    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    window.refresh_layers()
    window._docks["Objects"].raise_()  # its tab, behind the Legend's in the default layout
    return window.objects.panel


def _click_row(qtbot, panel, sid, modifier=Qt.KeyboardModifier.NoModifier):
    tree = panel.tree
    rect = tree.visualItemRect(panel.item(sid))
    rect.setLeft(rect.left() + 40)  # on the class name, not on the eye checkbox
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_rows_follow_accept_delete_undo_and_the_image_on_screen(qtbot, window, scenes):
    panel = _open(window, scenes)
    assert panel.ids() == [] and panel.summary.text() == NO_ANNOTATION
    _with_prediction(window)
    window.editor.actions_.accept_all.trigger()
    annotation = window.current_entry().annotation
    assert panel.ids() == sorted(annotation.segments) and len(panel.ids()) == 3
    first = panel.item(panel.ids()[0])
    assert [first.text(c) for c in (0, 3, 4)] == ["disc", "model", "0.90"]
    for sid in panel.ids():  # the area is the segment's pixel count
        assert panel.item(sid).text(2) == f"{int((annotation.segment_map == sid).sum()):,}"
    assert panel.summary.text() == "3 segments"

    _click_row(qtbot, panel, panel.ids()[0])
    assert window.editor.selection == [panel.ids()[0]]
    qtbot.keyClick(window, Qt.Key.Key_Delete)
    assert len(panel.ids()) == 2 and panel.summary.text() == "2 segments"
    window.editor.actions_.undo.trigger()
    assert len(panel.ids()) == 3

    window.browser.select_next()  # another image: its (empty) list
    qtbot.waitUntil(lambda: window.current == 1)
    assert panel.ids() == [] and panel.summary.text() == NO_ANNOTATION
    window.actions_.previous_image.trigger()
    qtbot.waitUntil(lambda: window.current == 0)
    assert len(panel.ids()) == 3


def test_selection_both_ways_and_multi_select(qtbot, window, scenes):
    panel = _open(window, scenes)
    _with_prediction(window)
    window.editor.actions_.accept_all.trigger()
    disc, other, block = panel.ids()
    window.editor.tool_actions["select"].trigger()
    _click(qtbot, window.canvas, 30, 30)  # the first disc, on the canvas
    assert window.editor.selection == [disc] and panel.selected_ids() == [disc]
    _click_row(qtbot, panel, block, Qt.KeyboardModifier.ControlModifier)
    assert sorted(window.editor.selection) == sorted([disc, block])
    assert window.editor.redraw.selection == window.editor.selection  # outlined on the canvas
    qtbot.keyClick(window, Qt.Key.Key_M)  # merge the two selected segments
    assert panel.ids() == [disc, other] and panel.selected_ids() == [disc]
    window.editor.select([])
    assert panel.selected_ids() == []


def test_the_eye_hides_one_segment_on_this_image_only(qtbot, window, scenes):
    panel = _open(window, scenes)
    _with_prediction(window)
    window.editor.actions_.accept_all.trigger()
    disc, other, _block = panel.ids()
    layer = window.canvas.layer(ANN_PANOPTIC)
    panel.item(disc).setCheckState(0, Qt.CheckState.Unchecked)
    assert layer.hidden_ids == {disc}
    assert window.canvas.layer(ANN_SEMANTIC).hidden_ids == set()  # classes are hidden in the legend
    lut = layer._lut_shown()
    assert lut[disc, 3] == 0 and lut[other, 3] > 0  # not drawn; the other disc still is
    window.browser.select_next()
    qtbot.waitUntil(lambda: window.current == 1)
    assert layer.hidden_ids == set()
    window.browser.select_previous()
    qtbot.waitUntil(lambda: window.current == 0)
    assert layer.hidden_ids == {disc} and panel.item(disc).checkState(0) == Qt.CheckState.Unchecked
    panel.item(disc).setCheckState(0, Qt.CheckState.Checked)
    assert layer.hidden_ids == set()


def test_navigation_buttons_and_the_saved_state(qtbot, window, scenes, monkeypatch):
    panel = _open(window, scenes)
    bar = window.findChild(QToolBar, "toolbar-navigation")
    assert bar is not None and bar.isVisible()
    next_button = bar.widgetForAction(window.actions_.next_image)
    qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current == 1)
    qtbot.mouseClick(bar.widgetForAction(window.actions_.previous_image), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current == 0)
    status = window.save_status
    assert status.isVisible() and status.text() == SAVED

    project = window.project_link.project

    def full_disk(*_args):
        raise ProjectError("The disk is full.")

    monkeypatch.setattr(project, "_journal", full_disk)
    _with_prediction(window)
    window.editor.actions_.accept_all.trigger()
    assert status.text() == WRITE_FAILED and len(panel.ids()) == 3  # the edit is kept all the same
    monkeypatch.undo()
    window.editor.actions_.undo.trigger()  # the next step is written: saved again
    assert status.text() == SAVED


def test_a_second_window_on_the_folder_says_not_saved(qtbot, window, scenes, tmp_path, tiny_models_dir):
    from PySide6.QtCore import QSettings

    from segview.ui.main_window import MainWindow

    window.open_path(scenes)
    second = MainWindow(QSettings(str(tmp_path / "second.ini"), QSettings.Format.IniFormat), device="cpu")
    qtbot.addWidget(second)
    try:
        second.open_path(scenes)
        assert second.save_status.text() == READ_ONLY
        assert window.save_status.text() == SAVED
    finally:
        second.bridge.shutdown()
        second.project_link.close()


def test_a_panel_out_of_sight_is_filled_when_its_tab_is_raised(qtbot, window, scenes):
    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    window.refresh_layers()
    panel = window.objects.panel
    window._docks["Legend"].raise_()
    assert panel.visibleRegion().isEmpty()  # a tab behind the Legend's
    _with_prediction(window)
    window.editor.actions_.accept_all.trigger()
    assert panel.ids() == []  # nothing counted for a list nobody sees
    window._docks["Objects"].raise_()
    qtbot.waitUntil(lambda: bool(panel.ids()))
    assert panel.ids() == sorted(window.current_entry().annotation.segments) and len(panel.ids()) == 3
