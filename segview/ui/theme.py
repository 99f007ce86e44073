"""Light and dark themes on Qt's Fusion style; 'system' follows the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text, accent = QColor(30, 32, 36), QColor(42, 45, 50), QColor(225, 228, 232), QColor(64, 156, 255)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, accent),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, accent),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 144, 150)),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 124, 130))
    return p


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str = "system") -> str:
    """Apply 'light', 'dark' or 'system'; returns the theme actually used ('light' or 'dark')."""
    app.setStyle("Fusion")
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    return "dark" if dark else "light"
