"""A dock's scroll area for a form-like panel: the window can get short (a laptop screen) without the
panel setting its minimum height."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class VerticalScroll(QScrollArea):
    """A frameless scroll area that scrolls its panel vertically only: as wide as the panel needs (its
    minimum width follows the panel, e.g. after a theme change), but only a few rows high at least."""

    MIN_HEIGHT = 72

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setObjectName(f"scroll:{panel.objectName() or type(panel).__name__}")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(panel)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        panel = self.widget().minimumSizeHint()
        width = panel.width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, min(panel.height(), self.MIN_HEIGHT))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.widget().sizeHint().expandedTo(self.minimumSizeHint())
