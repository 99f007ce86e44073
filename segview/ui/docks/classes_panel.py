"""Class management: the ClassesPanel (add, rename, recolour, thing/stuff, reorder, delete, import from a
model) and the ClassPicker (search + digit keys 1–9) used to relabel segments.

Every change goes through ``segview.core.category_edits`` and produces a new CategorySet, emitted as
``categories_changed``; refusals are shown in the panel's message line, never as a crash.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QDropEvent, QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from segview.core import category_edits as edits
from segview.core.categories import Category, CategorySet
from segview.core.palette import RGB
from segview.ui.docks.legend import swatch

ID_ROLE = Qt.ItemDataRole.UserRole
NAME_COLUMN, KIND_COLUMN, ID_COLUMN = 0, 1, 2


def _kind(isthing: bool) -> str:
    return "thing" if isthing else "stuff"


class _ClassTree(QTreeWidget):
    """A flat list of classes that can be reordered by drag and drop (rows, never nested)."""

    reordered = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Class", "Kind", "Id"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.header().setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        super().dropEvent(event)
        self.reordered.emit()

    def ids(self) -> list[int]:
        return [self.topLevelItem(i).data(NAME_COLUMN, ID_ROLE) for i in range(self.topLevelItemCount())]


class ClassesPanel(QWidget):
    """Edit the class list. ``in_use(category_id)`` counts the segments of a class (deleting is refused
    while it is non-zero); ``model_categories()`` gives the loaded model's classes for "Import from model".
    """

    categories_changed = Signal(object)  # the new CategorySet
    name_entered = Signal()  # a class was added with Enter: the window gives the focus back to the canvas

    def __init__(
        self,
        categories: CategorySet | None = None,
        in_use: Callable[[int], int] | None = None,
        model_categories: Callable[[], CategorySet | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._categories = CategorySet(categories or ())
        self._in_use = in_use or (lambda _id: 0)
        self._model_categories = model_categories
        self._new_color: RGB | None = None
        self._filling = False

        self.tree = _ClassTree()
        self.tree.setObjectName("classes-tree")
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.reordered.connect(self._dropped)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())

        self.new_name = QLineEdit()
        self.new_name.setObjectName("classes-new-name")
        self.new_name.setPlaceholderText("New class name…")
        self.new_name.returnPressed.connect(self._add_entered)
        self.new_kind = QComboBox()
        self.new_kind.setObjectName("classes-new-kind")
        self.new_kind.addItem("thing", True)
        self.new_kind.addItem("stuff", False)
        self.new_color_button = QPushButton("Colour…")
        self.new_color_button.setObjectName("classes-new-color")
        self.new_color_button.setToolTip("Colour of the new class (default: its own class colour)")
        self.new_color_button.clicked.connect(self._choose_new_color)
        self.add_button = self._button("Add", "classes-add", self._add_clicked)

        self.up_button = self._button("Up", "classes-up", lambda: self._move_current(-1))
        self.down_button = self._button("Down", "classes-down", lambda: self._move_current(+1))
        self.color_button = self._button("Recolour…", "classes-recolor", self._recolor_clicked)
        self.kind_button = self._button("Thing/Stuff", "classes-kind", self._toggle_kind_clicked)
        self.delete_button = self._button("Delete", "classes-delete", self._delete_clicked)
        self.import_button = self._button("Import from model", "classes-import", self._import_clicked)
        self.import_button.setToolTip("Add the loaded model's classes that are missing here (matched by name)")

        self.message = QLabel("")
        self.message.setObjectName("classes-message")
        self.message.setWordWrap(True)

        add_row = QHBoxLayout()  # the new class's name gets a row of its own: the dock stays narrow
        add_row.addWidget(self.new_kind)
        add_row.addWidget(self.new_color_button)
        add_row.addWidget(self.add_button)
        buttons = QGridLayout()
        for index, button in enumerate(
            (self.up_button, self.down_button, self.color_button, self.kind_button, self.delete_button)
        ):
            buttons.addWidget(button, index // 3, index % 3)
        buttons.addWidget(self.import_button, 2, 0, 1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.new_name)
        layout.addLayout(add_row)
        layout.addWidget(self.message)
        self._fill()

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    # --- state ---------------------------------------------------------------------------------------

    @property
    def categories(self) -> CategorySet:
        return CategorySet(self._categories)

    def set_categories(self, categories: CategorySet) -> None:
        """Show another class list (e.g. a newly opened dataset's) without emitting a change."""
        self._categories = CategorySet(categories)
        self._fill()
        self._say("")

    def current_id(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(NAME_COLUMN, ID_ROLE)

    def select(self, category_id: int) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(NAME_COLUMN, ID_ROLE) == category_id:
                self.tree.setCurrentItem(item)
                return

    def message_text(self) -> str:
        return self.message.text()

    # --- edits (each returns whether it was applied) -------------------------------------------------

    def add_category(self, name: str, isthing: bool = True, color: RGB | None = None) -> Category | None:
        """Add a class; returns it, or None when refused (the message line says why)."""
        try:
            result, added = edits.add_category(self._categories, name, isthing, color)
        except edits.CategoryEditError as exc:
            self._say(str(exc), error=True)
            return None
        self._apply(result, f"Added {added.name!r} ({_kind(added.isthing)}, id {added.id}).")
        self.select(added.id)
        return added

    def rename(self, category_id: int, name: str) -> bool:
        return self._edit(lambda c: edits.rename_category(c, category_id, name), f"Renamed to {name.strip()!r}.")

    def set_color(self, category_id: int, color: RGB) -> bool:
        return self._edit(lambda c: edits.recolor_category(c, category_id, color), "Colour changed.")

    def set_thing(self, category_id: int, isthing: bool) -> bool:
        return self._edit(lambda c: edits.set_isthing(c, category_id, isthing), f"Now a {_kind(isthing)} class.")

    def toggle_thing(self, category_id: int) -> bool:
        category = self._categories.get(category_id)
        return category is not None and self.set_thing(category_id, not category.isthing)

    def move(self, category_id: int, index: int) -> bool:
        return self._edit(lambda c: edits.move_category(c, category_id, index), "")

    def reorder(self, order: list[int]) -> bool:
        return self._edit(lambda c: edits.reorder_categories(c, order), "")

    def delete(self, category_id: int) -> bool:
        """Delete a class; refused (False, with a message) while segments use it."""
        category = self._categories.get(category_id)
        count = self._in_use(category_id)
        name = category.name if category else str(category_id)
        return self._edit(lambda c: edits.delete_category(c, category_id, count), f"Deleted {name!r}.")

    def import_categories(self, other: CategorySet | None) -> int:
        """Merge another class list (a model's): add the missing classes by name; returns how many."""
        if other is None or not len(other):
            self._say("No model classes to import: load a model first.", error=True)
            return 0
        result, added = edits.merge_categories(self._categories, other)
        if not added:
            self._say(f"All {len(other)} model classes are already here.")
            return 0
        names = ", ".join(c.name for c in added[:5]) + (" …" if len(added) > 5 else "")
        self._apply(result, f"Added {len(added)} class(es) from the model: {names}.")
        return len(added)

    # --- internals -------------------------------------------------------------------------------------

    def _edit(self, change: Callable[[CategorySet], CategorySet], done: str) -> bool:
        try:
            result = change(self._categories)
        except edits.CategoryEditError as exc:
            self._say(str(exc), error=True)
            self._fill()  # undo what the view shows (an inline rename, a drop)
            return False
        self._apply(result, done)
        return True

    def _apply(self, result: CategorySet, done: str) -> None:
        current = self.current_id()
        changed = result != self._categories
        self._categories = result
        self._fill()
        if current is not None:
            self.select(current)
        self._say(done)
        if changed:
            self.categories_changed.emit(self.categories)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "")

    def _fill(self) -> None:
        self._filling = True
        self.tree.clear()
        flags = (
            Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemIsEditable
        )  # not ItemIsDropEnabled: a class cannot be dropped *into* another
        for category in self._categories:
            item = QTreeWidgetItem([category.name, _kind(category.isthing), str(category.id)])
            item.setIcon(NAME_COLUMN, swatch(category.color))
            item.setData(NAME_COLUMN, ID_ROLE, category.id)
            item.setToolTip(NAME_COLUMN, f"{category.name} (id {category.id}); double-click to rename")
            item.setFlags(flags)
            self.tree.addTopLevelItem(item)
        self._filling = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self.current_id() is not None
        for button in (self.up_button, self.down_button, self.color_button, self.kind_button, self.delete_button):
            button.setEnabled(selected)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != NAME_COLUMN:
            return
        category_id = item.data(NAME_COLUMN, ID_ROLE)
        category = self._categories.get(category_id)
        if category is not None and item.text(NAME_COLUMN) != category.name:
            self.rename(category_id, item.text(NAME_COLUMN))

    def _dropped(self) -> None:
        order = self.tree.ids()
        if order != self._categories.ids:
            self.reorder(order)

    def _move_current(self, delta: int) -> None:
        category_id = self.current_id()
        if category_id is not None:
            self.move(category_id, self._categories.ids.index(category_id) + delta)

    def _add_clicked(self) -> bool:
        if not self.add_category(self.new_name.text(), bool(self.new_kind.currentData()), self._new_color):
            return False
        self.new_name.clear()
        self._new_color = None
        self.new_color_button.setIcon(QIcon())
        return True

    def _add_entered(self) -> None:
        """Enter in the name field adds the class and hands the keyboard back (tool keys, digits)."""
        if self._add_clicked():
            self.name_entered.emit()

    def _choose_new_color(self) -> None:
        color = QColorDialog.getColor(parent=self, title="Colour of the new class")
        if color.isValid():
            self._new_color = (color.red(), color.green(), color.blue())
            self.new_color_button.setIcon(swatch(self._new_color))

    def _recolor_clicked(self) -> None:
        category_id = self.current_id()
        if category_id is None:
            return
        color = QColorDialog.getColor(
            QColor(*self._categories.color_of(category_id)), self, f"Colour of {self._categories[category_id].name}"
        )
        if color.isValid():
            self.set_color(category_id, (color.red(), color.green(), color.blue()))

    def _toggle_kind_clicked(self) -> None:
        category_id = self.current_id()
        if category_id is not None:
            self.toggle_thing(category_id)

    def _delete_clicked(self) -> None:
        category_id = self.current_id()
        if category_id is not None:
            self.delete(category_id)

    def _import_clicked(self) -> None:
        self.import_categories(self._model_categories() if self._model_categories else None)


class ClassPicker(QWidget):
    """Choose a class by typing part of its name (Enter takes the highlighted one), clicking it, or
    pressing 1–9 for the first nine classes (while the search field is empty). Emits ``chosen(id)``."""

    chosen = Signal(int)

    def __init__(self, categories: CategorySet | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._categories = CategorySet(categories or ())
        self._last: int | None = None
        self.search = QLineEdit()
        self.search.setObjectName("picker-search")
        self.search.setPlaceholderText("Search classes… (1–9 picks)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._choose_current)
        self.search.installEventFilter(self)
        self.list = QListWidget()
        self.list.setObjectName("picker-list")
        self.list.itemActivated.connect(lambda item: self._choose(item.data(ID_ROLE)))
        self.list.itemClicked.connect(lambda item: self._choose(item.data(ID_ROLE)))
        self.list.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        self.setFocusProxy(self.search)
        self._fill()

    def set_categories(self, categories: CategorySet) -> None:
        self._categories = CategorySet(categories)
        self._fill()

    def visible_ids(self) -> list[int]:
        return [
            self.list.item(r).data(ID_ROLE) for r in range(self.list.count()) if not self.list.item(r).isHidden()
        ]

    def pick(self) -> int | None:
        """The class chosen last; before any choice, the highlighted one (what Enter would choose)."""
        if self._last is not None:
            return self._last
        item = self.list.currentItem()
        return None if item is None or item.isHidden() else item.data(ID_ROLE)

    def choose_digit(self, digit: int) -> bool:
        """Choose the ``digit``-th class (1–9) of the display order; False when there is none."""
        ids = self._categories.ids
        if 1 <= digit <= min(9, len(ids)):
            self._choose(ids[digit - 1])
            return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if not self._digit_key(event):
            super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.KeyPress and self._digit_key(event):
            return True
        return super().eventFilter(watched, event)

    def _digit_key(self, event: QKeyEvent) -> bool:
        text = event.text()
        if self.search.text() or len(text) != 1 or not "1" <= text <= "9":
            return False
        return self.choose_digit(int(text))

    def _fill(self) -> None:
        self.list.clear()
        for position, category in enumerate(self._categories, start=1):
            prefix = f"{position}  " if position <= 9 else "    "
            item = QListWidgetItem(swatch(category.color), f"{prefix}{category.name}")
            item.setData(ID_ROLE, category.id)
            item.setToolTip(f"{category.name} ({_kind(category.isthing)}, id {category.id})")
            self.list.addItem(item)
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        needle = edits.name_key(text)
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            category = self._categories.get(item.data(ID_ROLE))
            hidden = bool(needle) and category is not None and needle not in edits.name_key(category.name)
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        current = self.list.currentItem()
        if current is None or current.isHidden():
            self.list.setCurrentItem(first)

    def _choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            self._choose(item.data(ID_ROLE))

    def _choose(self, category_id: int) -> None:
        self._last = int(category_id)
        self.chosen.emit(self._last)
