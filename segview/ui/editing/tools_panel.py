"""The "Tools" dock: the current class (a searchable list), brush size, the polygon's "add hole" option."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from segview.core.categories import CategorySet

MAX_BRUSH = 500


class ToolsPanel(QWidget):
    """Options of the editing tools."""

    category_changed = Signal(int)
    radius_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tool_label = QLabel("Pan")
        self.brush = QSpinBox()
        self.brush.setObjectName("brush-size")
        self.brush.setRange(1, MAX_BRUSH)
        self.brush.setValue(10)
        self.brush.setSuffix(" px")
        self.brush.setToolTip("Brush and eraser radius ([ and ] change it)")
        self.add_hole = QCheckBox("Polygon cuts a hole")
        self.add_hole.setToolTip("The next polygon cuts a hole in the selected segment (or Ctrl-click its first vertex)")
        self.add_hole.setObjectName("add-hole")
        self.search = QLineEdit()
        self.search.setObjectName("class-search")
        self.search.setPlaceholderText("Search classes…")
        self.classes = QListWidget()
        self.classes.setObjectName("class-list")
        self.selection_label = QLabel("Nothing selected")
        form = QFormLayout()
        form.addRow("Tool", self.tool_label)
        form.addRow("Brush radius", self.brush)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.add_hole)
        layout.addWidget(QLabel("Class (keys 1–9):"))
        layout.addWidget(self.search)
        layout.addWidget(self.classes, 1)
        layout.addWidget(self.selection_label)
        self.brush.valueChanged.connect(lambda v: self.radius_changed.emit(float(v)))
        self.search.textChanged.connect(self._filter)
        self.classes.currentItemChanged.connect(self._picked)

    def set_categories(self, categories: CategorySet) -> None:
        """List the classes a segment can have (keeping the current one when it still exists)."""
        current = self.category_id()
        self.classes.blockSignals(True)
        self.classes.clear()
        for index, category in enumerate(categories):
            key = f"{index + 1}  " if index < 9 else "   "
            item = QListWidgetItem(f"{key}{category.name}")
            item.setData(Qt.ItemDataRole.UserRole, category.id)
            self.classes.addItem(item)
        self.classes.blockSignals(False)
        self._filter(self.search.text())
        if not self.set_category(current) and self.classes.count():
            self.classes.setCurrentRow(0)

    def category_ids(self) -> list[int]:
        return [self.classes.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.classes.count())]

    def category_id(self) -> int:
        item = self.classes.currentItem()
        return 0 if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def set_category(self, category_id: int) -> bool:
        """Make a class current; False when it is not in the list."""
        for i in range(self.classes.count()):
            if self.classes.item(i).data(Qt.ItemDataRole.UserRole) == category_id:
                self.classes.setCurrentRow(i)
                return True
        return False

    def set_selection(self, text: str) -> None:
        self.selection_label.setText(text)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.classes.count()):
            item = self.classes.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())
        visible = [i for i in range(self.classes.count()) if not self.classes.item(i).isHidden()]
        current = self.classes.currentRow()
        if needle and visible and current not in visible:
            self.classes.setCurrentRow(visible[0])

    def _picked(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.category_changed.emit(int(item.data(Qt.ItemDataRole.UserRole)))
