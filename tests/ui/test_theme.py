"""The dark theme's check boxes and radio buttons are visible: a border and a box that stand out."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QCheckBox, QRadioButton, QStyle, QStyleOptionButton

from segview.ui.theme import apply_theme


def _luminance(colour) -> float:
    return 0.2126 * colour.red() + 0.7152 * colour.green() + 0.0722 * colour.blue()


@pytest.fixture
def dark(qapp):
    style, palette = qapp.style().name(), qapp.palette()
    assert apply_theme(qapp, "dark") == "dark"
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


def _indicator(widget, element):
    option = QStyleOptionButton()
    widget.initStyleOption(option)
    return widget.style().subElementRect(element, option, widget)


@pytest.mark.parametrize("kind", [QCheckBox, QRadioButton])
@pytest.mark.parametrize("checked", [False, True])
def test_dark_indicators_have_a_visible_border_and_box(qtbot, dark, kind, checked):
    widget = kind("Option")
    widget.setChecked(checked)
    qtbot.addWidget(widget)
    widget.resize(120, 30)
    widget.show()
    qtbot.waitExposed(widget)
    element = (QStyle.SubElement.SE_CheckBoxIndicator if kind is QCheckBox
               else QStyle.SubElement.SE_RadioButtonIndicator)
    rect = _indicator(widget, element)
    image = widget.grab().toImage()
    window = _luminance(QApplication.palette().window().color())
    y = rect.center().y()
    # the border: the brightest pixel along the indicator's left edge, a pixel either side
    border = max(_luminance(image.pixelColor(x, y)) for x in range(rect.left() - 1, rect.left() + 2))
    assert border - window > 60, (border, window)
    if checked and kind is QCheckBox:  # an accent box, not a bare tick
        inside = image.pixelColor(rect.left() + 3, rect.bottom() - 3)
        assert inside.blue() - inside.red() > 80, inside.name()
    else:  # the box differs from the window around it
        inside = _luminance(image.pixelColor(rect.left() + 3, y if checked else rect.top() + 3))
        assert abs(inside - window) > 8


def test_light_theme_is_plain_fusion(qapp):
    style, palette = qapp.style().name(), qapp.palette()
    try:
        assert apply_theme(qapp, "light") == "light"
        assert qapp.style().name().lower() == "fusion"
    finally:
        qapp.setStyle(style)
        qapp.setPalette(palette)
