"""Light and dark themes on Qt's Fusion style; 'system' follows the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOptionButton

ACCENT = QColor(64, 156, 255)
# Fusion draws an indicator's border from the Window colour (darker) and fills it with Base: on a dark
# window both are near-black. Dark indicators get their own: a light border, a lighter box, and an
# accent box with a white mark when checked.
INDICATOR_BORDER_WINDOW = QColor(176, 182, 190)  # Fusion's border: this colour darker(140), lighter(110)
INDICATOR_BASE = QColor(62, 66, 73)
INDICATOR_MARK = QColor(255, 255, 255)


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text, accent = QColor(30, 32, 36), QColor(42, 45, 50), QColor(225, 228, 232), ACCENT
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


def indicator_palette(palette: QPalette, checked: bool) -> QPalette:
    """The palette a dark theme's check box or radio button indicator is drawn with."""
    p = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled):
        disabled = group is QPalette.ColorGroup.Disabled
        p.setColor(group, QPalette.ColorRole.Window, INDICATOR_BORDER_WINDOW.darker(150 if disabled else 100))
        fill = ACCENT if checked else INDICATOR_BASE
        p.setColor(group, QPalette.ColorRole.Base, fill.darker(160) if disabled else fill)
        # Fusion draws the mark in Text.darker(120): this makes it white
        p.setColor(group, QPalette.ColorRole.Text, INDICATOR_MARK.lighter(120) if not disabled else QColor(150, 150, 150))
    return p


class DarkIndicatorStyle(QProxyStyle):
    """Fusion whose check box and radio button indicators have a visible border and box on a dark window
    (item-view check boxes are drawn through the same primitive)."""

    INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton)

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802 - Qt API
        if element in self.INDICATORS and option is not None:
            button = QStyleOptionButton()
            button.state, button.rect, button.direction = option.state, option.rect, option.direction
            button.fontMetrics = option.fontMetrics
            checked = bool(option.state & (QStyle.StateFlag.State_On | QStyle.StateFlag.State_NoChange))
            button.palette = indicator_palette(option.palette, checked)
            option = button
        super().drawPrimitive(element, option, painter, widget)


_styles: list[QProxyStyle] = []  # the application owns its style; keep the Python wrapper alive too


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str = "system") -> str:
    """Apply 'light', 'dark' or 'system'; returns the theme actually used ('light' or 'dark')."""
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    if dark:
        style = DarkIndicatorStyle("Fusion")
        _styles[:] = [style]
        app.setStyle(style)
    else:
        app.setStyle("Fusion")
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    return "dark" if dark else "light"
