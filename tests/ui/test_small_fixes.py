"""The small ones of the 2026-12-04 field report, driven through real widgets: a hole over stuff, the
focus after adding a class, the layers panel that a notice pushed down, a missing libxcb-cursor."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from segview.ui import app
from tests.ui.editing.test_editor import CATEGORIES, _polygon


def test_a_hole_cut_in_a_polygon_over_stuff_shows_the_stuff(qtbot, window, scenes):
    window.open_path(scenes)
    window.workspace.categories = CATEGORIES  # 3 "ground" is stuff
    window.refresh_layers()
    canvas, editor = window.canvas, window.editor
    editor.tool_actions["polygon"].trigger()
    editor.panel.set_category(3)
    _polygon(qtbot, canvas, ((2, 2), (120, 2), (120, 90), (2, 90)))  # ground over most of the image
    annotation = window.current_entry().annotation
    (ground,) = annotation.segments
    editor.panel.set_category(1)
    _polygon(qtbot, canvas, ((20, 20), (80, 20), (80, 70), (20, 70)))  # a disc drawn over the ground
    disc = max(annotation.segments)
    assert annotation.segment_map[45, 50] == disc and editor.selection == [disc]
    _polygon(qtbot, canvas, ((40, 35), (60, 35), (60, 55), (40, 55)), hole=True)
    assert annotation.segment_map[45, 50] == ground  # the ground that was under it, not void
    assert annotation.segment_map[25, 25] == disc and annotation.segment_map[5, 5] == ground
    assert window.editor.stacks.group.activeStack().undoText() == "Cut hole"


def test_adding_a_class_with_enter_gives_the_keys_back_to_the_canvas(qtbot, window, scenes):
    window.open_path(scenes)
    window.activateWindow()
    panel = window.classes_panel
    window._docks["Classes"].raise_()
    panel.new_name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.new_name)
    qtbot.keyClicks(panel.new_name, "lamp")
    qtbot.keyClick(panel.new_name, Qt.Key.Key_Return)
    assert panel.categories.by_name("lamp") is not None
    assert QApplication.focusWidget() is window.canvas
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_G)  # a tool key reaches the tools, not the field
    assert panel.new_name.text() == ""
    assert window.editor.tool_actions["polygon"].isChecked()


def test_a_failed_name_keeps_the_focus_in_the_field(qtbot, window, scenes):
    window.open_path(scenes)
    panel = window.classes_panel
    panel.add_category("lamp")
    window._docks["Classes"].raise_()
    window.activateWindow()
    panel.new_name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.new_name)
    qtbot.keyClicks(panel.new_name, "lamp")
    qtbot.keyClick(panel.new_name, Qt.Key.Key_Return)  # a duplicate: refused, the name stays to fix
    assert QApplication.focusWidget() is panel.new_name and panel.new_name.text() == "lamp"


def test_the_prediction_notice_does_not_move_the_layer_controls(qtbot, window, scenes):
    from tests.ui.editing.test_editor import _with_prediction

    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    window.refresh_layers()
    panel = window.layers_panel
    _with_prediction(window)
    boxes, style = panel.boxes.geometry(), panel.mode.geometry()
    assert not panel.prediction_note.isVisible()
    window.editor.actions_.accept_all.trigger()  # the image is now annotated: the notice appears
    qtbot.waitUntil(panel.prediction_note.isVisible)
    assert panel.boxes.geometry() == boxes and panel.mode.geometry() == style
    assert panel.prediction_note.geometry().top() > boxes.bottom()


def test_missing_libxcb_cursor_says_which_package_to_install(monkeypatch, capsys):
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else "lib")
    monkeypatch.setattr(app.QApplication, "instance", staticmethod(lambda: None))
    assert app.run() == 1  # before any QApplication is made
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "needs libxcb-cursor, which is not installed" in err
    assert "apt install libxcb-cursor0;" in err and "dnf install xcb-util-cursor)" in err


def test_every_missing_xcb_library_is_named_with_its_packages(monkeypatch):
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    missing = {"xcb-icccm", "xcb-keysyms"}  # as on a minimal Debian image with libxcb-cursor0 only
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: None if name in missing else "lib")
    message = app.missing_platform_library()
    assert "needs libxcb-icccm, libxcb-keysyms, which are not installed" in message
    assert "apt install libxcb-icccm4 libxcb-keysyms1;" in message
    assert "dnf install xcb-util-wm xcb-util-keysyms)" in message


def test_the_xcb_check_only_applies_to_xcb(monkeypatch):
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.missing_platform_library() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert "libxcb-cursor0" in app.missing_platform_library()
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert app.missing_platform_library() is None  # Qt uses its Wayland plugin there
    monkeypatch.setattr(app.sys, "platform", "darwin")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert app.missing_platform_library() is None
    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setattr(app.ctypes.util, "find_library", lambda name: "libxcb-cursor.so.0")
    assert app.missing_platform_library() is None
