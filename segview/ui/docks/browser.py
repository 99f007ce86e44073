"""The image browser dock: thumbnails loaded in the background, a status per image, filters, next/previous."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QListView, QVBoxLayout, QWidget

from segview.core.workspace import ImageStatus
from segview.errors import SegviewError

THUMBNAIL_SIDE = 96
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
THUMBNAIL_ROLE = Qt.ItemDataRole.UserRole + 3  # True once loaded, False when the file could not be read
STATUS_COLOURS = {
    ImageStatus.NONE: QColor(150, 150, 150),
    ImageStatus.PREDICTED: QColor(66, 133, 244),
    ImageStatus.CORRECTED: QColor(52, 168, 83),
}
ALL_STATUSES = "all"
UNREADABLE = "unreadable"  # the file cannot be decoded (shown by the browser, not a workspace status)


class _ThumbnailSignals(QObject):
    """Carries a decoded thumbnail from the loader thread to the GUI thread (a queued connection)."""

    ready = Signal(int, int, QImage)  # generation, row, thumbnail (QImage is safe off the GUI thread)
    failed = Signal(int, int, str)


class _StatusFilter(QSortFilterProxyModel):
    """Rows whose name contains the filter text (case-insensitive) and whose status is the chosen one."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status: str = ALL_STATUSES
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(NAME_ROLE)

    def set_status(self, status: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
            self.status = status
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.status = status
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt API
        if not super().filterAcceptsRow(row, parent):
            return False
        if self.status == ALL_STATUSES:
            return True
        return self.sourceModel().index(row, 0, parent).data(STATUS_ROLE) == self.status


class ImageBrowser(QWidget):
    """A filterable list of the workspace's images; ``current_changed`` gives the index in the full list."""

    current_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QStandardItemModel(self)
        self.proxy = _StatusFilter(self)
        self.proxy.setSourceModel(self.model)
        self.name_filter = QLineEdit()
        self.name_filter.setObjectName("browser-filter")
        self.name_filter.setPlaceholderText("Filter by name…")
        self.name_filter.setClearButtonEnabled(True)
        self.name_filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("browser-status")
        self.status_filter.addItem("All", ALL_STATUSES)
        for status in ImageStatus:
            self.status_filter.addItem(status.value.capitalize(), status.value)
        self.status_filter.addItem(UNREADABLE.capitalize(), UNREADABLE)
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_status(self.status_filter.currentData())
        )
        self.view = QListView()
        self.view.setObjectName("browser-list")
        self.view.setModel(self.proxy)
        self.view.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.view.setUniformItemSizes(True)
        self.view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        filters = QHBoxLayout()
        filters.addWidget(self.name_filter, 1)
        filters.addWidget(self.status_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)

        self._signals = _ThumbnailSignals(self)
        self._signals.ready.connect(self._thumbnail_ready)
        self._signals.failed.connect(self._thumbnail_failed)
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segview-thumbnails")
        self._pending: list[Future] = []
        self._generation = 0
        self._placeholder = _placeholder_icon()
        self.destroyed.connect(lambda: self._loader.shutdown(wait=False, cancel_futures=True))

    # --- contents --------------------------------------------------------------------------------------

    def set_images(self, paths: list[Path], statuses: list[ImageStatus]) -> None:
        """Replace the list; thumbnails load in the background (older loads are dropped)."""
        self._generation += 1
        for future in self._pending:
            future.cancel()
        self.model.clear()
        for path, status in zip(paths, statuses, strict=True):
            item = QStandardItem(self._placeholder, path.name)
            item.setToolTip(str(path))
            item.setData(path.name, NAME_ROLE)
            self.model.appendRow(item)
            self._show_status(item, status)
        generation = self._generation
        self._pending = [
            self._loader.submit(self._load_thumbnail, generation, row, path) for row, path in enumerate(paths)
        ]

    def set_status(self, index: int, status: ImageStatus) -> None:
        """Show an image's new status (no prediction, predicted, corrected)."""
        item = self.model.item(index)
        if item is not None and item.data(STATUS_ROLE) != UNREADABLE:
            self._show_status(item, status)  # the proxy re-filters the changed row by itself

    def status_of(self, index: int) -> str:
        """The status shown for image ``index``: an ImageStatus value, or "unreadable"."""
        return self.model.item(index).data(STATUS_ROLE)

    def thumbnail_loaded(self, index: int) -> bool:
        """True once image ``index``'s thumbnail (or its error mark) has replaced the placeholder."""
        item = self.model.item(index)
        return item is not None and item.data(THUMBNAIL_ROLE) is not None

    def visible_indices(self) -> list[int]:
        """Indices (in the full list) of the rows the filters let through, in order."""
        return [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(self.proxy.rowCount())]

    # --- selection ---------------------------------------------------------------------------------------

    def current_index(self) -> int | None:
        index = self.view.currentIndex()
        return self.proxy.mapToSource(index).row() if index.isValid() else None

    def select(self, index: int) -> None:
        """Make image ``index`` (of the full list) current; clears the filters if they hide it."""
        source = self.model.index(index, 0)
        if not source.isValid():
            return
        if not self.proxy.mapFromSource(source).isValid():
            self.name_filter.clear()
            self.status_filter.setCurrentIndex(0)
        self.view.setCurrentIndex(self.proxy.mapFromSource(source))

    def select_next(self) -> None:
        self._step(1)

    def select_previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        rows = self.proxy.rowCount()
        if rows == 0:
            return
        current = self.view.currentIndex()
        row = current.row() + delta if current.isValid() else 0
        self.view.setCurrentIndex(self.proxy.index(min(max(row, 0), rows - 1), 0))

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.current_changed.emit(self.proxy.mapToSource(current).row())

    # --- thumbnails --------------------------------------------------------------------------------------

    def _load_thumbnail(self, generation: int, row: int, path: Path) -> None:
        """On the loader thread: decode a thumbnail and hand it to the GUI thread."""
        if generation != self._generation:
            return
        from segview.io.images import read_thumbnail

        try:
            pixels = read_thumbnail(path, THUMBNAIL_SIDE)
        except SegviewError as exc:
            self._signals.failed.emit(generation, row, str(exc))
            return
        height, width = pixels.shape[:2]
        image = QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        self._signals.ready.emit(generation, row, image)

    def _thumbnail_ready(self, generation: int, row: int, image: QImage) -> None:
        item = self.model.item(row) if generation == self._generation else None
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(image)))
            item.setData(True, THUMBNAIL_ROLE)

    def _thumbnail_failed(self, generation: int, row: int, message: str) -> None:
        item = self.model.item(row) if generation == self._generation else None
        if item is not None:
            item.setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_MessageBoxWarning))
            item.setToolTip(message)
            item.setData(False, THUMBNAIL_ROLE)
            item.setData(UNREADABLE, STATUS_ROLE)
            item.setText(f"{item.data(NAME_ROLE)}\n{UNREADABLE}")
            item.setForeground(QColor(200, 60, 60))

    @staticmethod
    def _show_status(item: QStandardItem, status: ImageStatus) -> None:
        item.setData(status.value, STATUS_ROLE)
        item.setText(f"{item.data(NAME_ROLE)}\n{status.value}")
        item.setForeground(STATUS_COLOURS[status])


def _placeholder_icon() -> QIcon:
    pixmap = QPixmap(THUMBNAIL_SIDE, THUMBNAIL_SIDE * 3 // 4)
    pixmap.fill(QColor(128, 128, 128, 60))
    return QIcon(pixmap)
