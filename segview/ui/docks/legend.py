"""The legend: every class with its colour, thing/stuff, pixel share in the current image, and visibility."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from segview.core.categories import CategorySet


def swatch(rgb: tuple[int, int, int], size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)


class LegendPanel(QWidget):
    """A table of classes; unticking a class hides it in every layer."""

    hidden_changed = Signal(object)  # set of hidden category ids

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("legend-table")
        self.table.setHorizontalHeaderLabels(["Class", "Kind", "Pixels"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemChanged.connect(self._item_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self._ids: list[int] = []
        self._hidden: set[int] = set()

    @property
    def hidden(self) -> set[int]:
        return set(self._hidden)

    def set_categories(self, categories: CategorySet, shares: dict[int, float] | None) -> None:
        """Fill the table; ``shares`` (category id → fraction of the pixels) fills the pixel column."""
        self.table.blockSignals(True)
        self.table.setRowCount(len(categories))
        self._ids = []
        for row, category in enumerate(categories):
            self._ids.append(category.id)
            name = QTableWidgetItem(swatch(category.color), category.name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Unchecked if category.id in self._hidden else Qt.CheckState.Checked)
            kind = QTableWidgetItem("thing" if category.isthing else "stuff")
            share = "" if shares is None else f"{100.0 * shares.get(category.id, 0.0):.1f} %"
            pixels = QTableWidgetItem(share)
            pixels.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column, item in enumerate((name, kind, pixels)):
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        category_id = self._ids[item.row()]
        if item.checkState() == Qt.CheckState.Checked:
            self._hidden.discard(category_id)
        else:
            self._hidden.add(category_id)
        self.hidden_changed.emit(self.hidden)
