"""The Objects dock: the current image's segments, one row each, as labelme's annotation list and CVAT's
objects sidebar show them. A row shows an eye checkbox (the segment drawn or hidden), the class with its
colour, the segment id, its area, who made it (model or person) and the model's score. Selecting rows
selects the segments on the canvas and the other way round; the list follows every edit, undo and redo.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from segview.core.areas import SegmentAreas
from segview.core.categories import CategorySet
from segview.core.history import Edit, EditHistory
from segview.core.layers import LayerSource, LayerView, layer_name, score_text
from segview.core.segments import Annotation
from segview.core.workspace import ImageEntry
from segview.ui.docks.legend import swatch
from segview.ui.editing.editor import Editor

COLUMNS = ("Class", "#", "Area", "Source", "Score")
NO_ANNOTATION = "No annotation yet: accept the prediction (Ctrl+Enter) or draw a segment."
# The layers whose labels are segment ids: a hidden segment is left out of them.
SEGMENT_LAYERS = (layer_name(LayerSource.ANNOTATION, LayerView.PANOPTIC),
                  layer_name(LayerSource.ANNOTATION, LayerView.INSTANCE))


class ObjectRow(NamedTuple):
    """What the list shows of one segment."""

    segment_id: int
    name: str
    color: tuple[int, int, int]
    area: int
    source: str
    score: float | None


def object_rows(annotation: Annotation, categories: CategorySet, areas: SegmentAreas) -> list[ObjectRow]:
    """One row per segment that has pixels, in id order."""
    rows = []
    for sid, segment in sorted(annotation.segments.items()):
        area = areas.area(sid)
        if area == 0:
            continue  # an emptied segment keeps its table entry (for undo) but is not an object
        category = categories.get(segment.category_id)
        name = category.name if category else f"class {segment.category_id}"
        rows.append(ObjectRow(sid, name + (" (crowd)" if segment.iscrowd else ""),
                              categories.color_of(segment.category_id), area, segment.source.value, segment.score))
    return rows


class ObjectsPanel(QWidget):
    """The list itself: rows in, the user's selection and hidden segments out."""

    selected = Signal(list)  # segment ids the user selected in the list
    hidden_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setObjectName("objects-tree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.headerItem().setToolTip(0, "Untick to hide a segment (its class stays in the semantic view)")
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemChanged.connect(self._item_changed)
        self.summary = QLabel(NO_ANNOTATION)
        self.summary.setObjectName("objects-summary")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.summary)
        self.hidden: set[int] = set()
        self._items: dict[int, QTreeWidgetItem] = {}
        self._filling = False

    def show_rows(self, rows: list[ObjectRow] | None, hidden: set[int], selection: list[int]) -> None:
        """Show these segments (None: the image has no annotation) with ``hidden`` unticked and
        ``selection`` selected; emits nothing."""
        self._filling = True
        self.tree.clear()
        self._items = {}
        self.hidden = set(hidden) & {row.segment_id for row in rows or []}
        for row in rows or []:
            score = "" if row.score is None else score_text(row.score)
            item = QTreeWidgetItem([row.name, str(row.segment_id), f"{row.area:,}", row.source, score])
            item.setIcon(0, swatch(row.color))
            item.setData(0, Qt.ItemDataRole.UserRole, row.segment_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            shown = row.segment_id not in self.hidden
            item.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
            for column in (1, 2, 4):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            self._items[row.segment_id] = item
        for column in range(1, len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        count = len(rows or [])
        self.summary.setText(NO_ANNOTATION if rows is None else f"{count} segment{'' if count == 1 else 's'}")
        self._filling = False
        self.select_ids(selection)

    def select_ids(self, ids: list[int]) -> None:
        """Select the rows of these segments (the canvas selection); emits nothing."""
        self._filling = True
        self.tree.clearSelection()
        for sid in ids:
            item = self._items.get(sid)
            if item is not None:
                item.setSelected(True)
        if ids and ids[0] in self._items:
            self.tree.scrollToItem(self._items[ids[0]])
        self._filling = False

    def ids(self) -> list[int]:
        """The listed segment ids, top to bottom."""
        return list(self._items)

    def item(self, segment_id: int) -> QTreeWidgetItem | None:
        return self._items.get(segment_id)

    def selected_ids(self) -> list[int]:
        return [sid for sid, item in self._items.items() if item.isSelected()]

    def _selection_changed(self) -> None:
        if not self._filling:
            self.selected.emit(self.selected_ids())

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling or column != 0:
            return
        sid = int(item.data(0, Qt.ItemDataRole.UserRole))
        if item.checkState(0) == Qt.CheckState.Checked:
            self.hidden.discard(sid)
        else:
            self.hidden.add(sid)
        self.hidden_changed.emit()


class ObjectsHost(Protocol):
    """What the list needs from the window: its editor and the image on screen."""

    editor: Editor

    def current_entry(self) -> ImageEntry | None: ...


class ObjectsList(QObject):
    """Keeps an ObjectsPanel on the window's current image: its annotation, the editor's selection and
    the segments hidden on each image."""

    hidden_changed = Signal()

    def __init__(self, window: ObjectsHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.panel = ObjectsPanel()
        self.panel.setObjectName("objects-panel")
        self._areas: SegmentAreas | None = None
        self._hidden: dict[Path, set[int]] = {}
        self._in_sight = True  # until its dock says it is covered
        editor = window.editor
        editor.history_created.connect(self._history_created)
        editor.selection_changed.connect(self.panel.select_ids)
        editor.status_changed.connect(lambda _index: self.refresh())
        editor.refreshed.connect(self.refresh)
        self.panel.selected.connect(editor.select)
        self.panel.hidden_changed.connect(self._hidden_edited)

    def hidden_labels(self, layer: str) -> set[int]:
        """The label values a layer must not draw: the hidden segments, in the layers of segment ids."""
        entry = self.window.current_entry()  # the window styles the layers before the editor follows
        if layer not in SEGMENT_LAYERS or entry is None:
            return set()
        return set(self._hidden.get(entry.path, ()))

    def refresh(self) -> None:
        """Show the segments of the image being edited (after a new image, step or class change). A
        panel out of sight (a tab behind another) costs nothing: it is filled when it is shown."""
        editor = self.window.editor
        annotation = None if editor.entry is None else editor.entry.annotation
        if not self._in_sight:
            self._areas = None
            return
        if annotation is None:
            self._areas = None
            self.panel.show_rows(None, set(), [])
            return
        if self._areas is None or self._areas.annotation is not annotation:
            self._areas = SegmentAreas(annotation)
        rows = object_rows(annotation, editor.categories(), self._areas)
        self.panel.show_rows(rows, self._hidden.get(editor.entry.path, set()), editor.selection)

    def set_in_sight(self, in_sight: bool) -> None:
        """Its dock was shown or hidden (a tab raised or covered): filled again when it comes back."""
        self._in_sight = in_sight
        if in_sight:
            self.refresh()

    def _history_created(self, path: object, history: EditHistory) -> None:
        history.step_listeners.append(lambda kind, edit, p=path, h=history: self._stepped(p, h, kind, edit))

    def _stepped(self, path: object, history: EditHistory, kind: str, edit: Edit) -> None:
        if self._areas is not None and self._areas.annotation is history.annotation:
            self._areas.step(kind, edit)
        entry = self.window.editor.entry
        if entry is not None and entry.path == path:
            self.refresh()

    def _hidden_edited(self) -> None:
        entry = self.window.editor.entry
        if entry is not None:
            self._hidden[entry.path] = set(self.panel.hidden)
            self.hidden_changed.emit()
