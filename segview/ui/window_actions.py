"""The window's commands: its actions, one QAction each, in a named tuple (labelme's ``_Actions``), the
menu bar that shows them (``Menus``), and the help that lists their keys with the canvas gestures. What
each action does is the window's business: it passes the slots in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QMainWindow, QMenu, QMessageBox, QWidget

from segview.ui.docks.layers_panel import LAYER_SHORTCUTS

Shortcut = str | QKeySequence | QKeySequence.StandardKey | list | None

CANVAS_GESTURES = (
    ("Zoom at the cursor", "Wheel"),
    ("Pan", "Space + drag, middle drag, or the Pan tool (H)"),
    ("Pick class 1–9 (with an editing tool)", "1 … 9"),
    ("Polygon: close / remove the last vertex", "Enter or double-click / Backspace"),
    ("Polygon: cut a hole in the selected segment", "Ctrl on the first vertex"),
    ("Brush and eraser size", "[ and ]"),
    ("Outline tool: insert / delete a vertex", "double-click an edge / Alt-click"),
    ("Drop the shape in progress, then the selection", "Esc"),
)


class Actions(NamedTuple):
    open_folder: QAction
    open_dataset: QAction
    export: QAction
    quit: QAction
    fit: QAction
    actual_size: QAction
    zoom_in: QAction
    zoom_out: QAction
    next_image: QAction
    previous_image: QAction
    compare: QAction
    boxes: QAction
    run_current: QAction
    run_all: QAction
    cancel: QAction
    train: QAction
    find_by_name: QAction
    segment_everything: QAction
    shortcuts: QAction
    about: QAction


class Menus(NamedTuple):
    file: QMenu
    recent: QMenu  # File → Open Recent
    edit: QMenu  # filled by the editor
    view: QMenu
    model: QMenu
    help: QMenu


def make_action(window: QWidget, text: str, shortcut: Shortcut, slot: Callable, checkable: bool = False) -> QAction:
    """An action of ``window`` (its shortcut works wherever the window has the focus); a list of
    shortcuts is a main key and its alternatives."""
    action = QAction(text, window)
    if isinstance(shortcut, list):
        action.setShortcuts([QKeySequence(k) for k in shortcut])
    elif shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def layer_actions(window: QWidget, boxes: dict[str, QAbstractButton]) -> dict[str, QAction]:
    """View → Show <layer>: one checkable action per layer, toggling its box in the Layers dock."""
    return {name: make_action(window, f"Show {name.replace('.', ' ')}", LAYER_SHORTCUTS.get(name),
                              lambda _checked=False, b=box: b.toggle(), checkable=True)
            for name, box in boxes.items()}


def build_menus(window: QMainWindow, a: Actions, layers: dict[str, QAction], toggles: dict[QAction, QAbstractButton],
                docks: Iterable[QDockWidget], set_theme: Callable[[str], None]) -> Menus:
    """The menu bar: File, Edit (empty, for the editor), View, Model, Help. ``toggles``: the checkable
    actions and the dock boxes they mirror (the boxes are the truth: they switch with the image too)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.open_folder, a.open_dataset])
    recent = QMenu("Open &Recent", window)
    file_menu.addMenu(recent)
    file_menu.addSeparator()
    file_menu.addAction(a.export)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit_menu = bar.addMenu("&Edit")
    view_menu = bar.addMenu("&View")
    view_menu.addActions([a.fit, a.actual_size, a.zoom_in, a.zoom_out])
    view_menu.addSeparator()
    view_menu.addActions(list(layers.values()))
    view_menu.addAction(a.boxes)

    def show_states() -> None:
        for action, box in toggles.items():
            action.setChecked(box.isChecked())

    view_menu.aboutToShow.connect(show_states)
    view_menu.addSeparator()
    view_menu.addActions([a.compare, a.next_image, a.previous_image])
    view_menu.addSeparator()
    theme_menu = view_menu.addMenu("&Theme")
    for theme in ("system", "light", "dark"):
        theme_menu.addAction(theme.capitalize(), lambda t=theme: set_theme(t))
    docks_menu = view_menu.addMenu("&Panels")
    for dock in docks:
        docks_menu.addAction(dock.toggleViewAction())
    model_menu = bar.addMenu("&Model")
    model_menu.addActions([a.run_current, a.run_all, a.cancel])
    model_menu.addActions([a.find_by_name, a.segment_everything])
    model_menu.addSeparator()
    model_menu.addAction(a.train)
    help_menu = bar.addMenu("&Help")
    help_menu.addActions([a.shortcuts, a.about])
    return Menus(file_menu, recent, edit_menu, view_menu, model_menu, help_menu)


def show_shortcuts(window: QWidget) -> None:
    """Help → Keyboard Shortcuts: every action of the window with a key, then the canvas gestures."""
    rows = set()
    for action in window.findChildren(QAction):
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
        if keys and action.text():
            rows.add(f"<tr><td>{action.text().replace('&', '')}</td><td><b>{keys}</b></td></tr>")
    gestures = "".join(f"<tr><td>{what}</td><td><b>{how}</b></td></tr>" for what, how in CANVAS_GESTURES)
    QMessageBox.information(window, "Keyboard shortcuts", "<table>" + "".join(sorted(rows)) + "</table>"
                            "<p><b>On the canvas</b></p><table>" + gestures + "</table>")


def show_about(window: QWidget) -> None:
    from segview import __version__

    QMessageBox.about(window, "About segview", f"<b>segview {__version__}</b><br>See, compare, correct and "
                                               "export semantic, instance and panoptic segmentations.")
