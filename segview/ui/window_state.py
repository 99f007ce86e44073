"""What the window keeps between sessions in its QSettings: its geometry and dock layout, the folders and
datasets opened last (File → Open Recent), the theme."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMenu

from segview.ui.theme import apply_theme

MAX_RECENT = 8


def restore_geometry(window: QMainWindow, settings: QSettings) -> None:
    """The window's size and place in the last session (on the first run, 1400×900)."""
    geometry = settings.value("geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(1400, 900)


def restore_layout(window: QMainWindow, settings: QSettings, docks: dict[str, QDockWidget]) -> None:
    """The dock layout of the last session; on the first run, the default layout."""
    state = settings.value("windowState")
    if not (isinstance(state, QByteArray) and window.restoreState(state)):
        default_layout(window, docks)


def default_layout(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """First run: the canvas gets the room; panels used together share a tabbed dock."""
    window.tabifyDockWidget(docks["Tools"], docks["History"])
    window.tabifyDockWidget(docks["Legend"], docks["Classes"])
    window.tabifyDockWidget(docks["Classes"], docks["Objects"])
    docks["Tools"].raise_()
    docks["Legend"].raise_()
    window.resizeDocks([docks["Images"], docks["Layers"]], [230, 290], Qt.Orientation.Horizontal)


def save_layout(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("windowState", window.saveState())


def set_theme(settings: QSettings, theme: str) -> None:
    """Use ``theme`` ("system", "light" or "dark") now and at the next start."""
    settings.setValue("theme", theme)
    apply_theme(QApplication.instance(), theme)


class RecentPaths:
    """File → Open Recent: the last ``MAX_RECENT`` paths opened, newest first."""

    def __init__(self, menu: QMenu, settings: QSettings, open_path: Callable[[str], None]) -> None:
        self.menu = menu
        self.settings = settings
        self.open_path = open_path
        self.fill()

    def remember(self, path: Path) -> None:
        recent = [p for p in self.settings.value("recent", [], type=list) if p != str(path)]
        recent.insert(0, str(path))
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.fill()

    def fill(self) -> None:
        self.menu.clear()
        for item in self.settings.value("recent", [], type=list):
            self.menu.addAction(item, lambda p=item: self.open_path(p))
        self.menu.setEnabled(not self.menu.isEmpty())
