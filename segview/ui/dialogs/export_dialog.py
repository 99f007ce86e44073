"""The export dialog: formats, scope, category ids (kept, or renumbered from a base), mask format and folder; the export (and the check
of every written output) runs on a worker thread, and its report is shown in the dialog."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from segview.core.dataset import Dataset
from segview.core.export_scope import DEFAULT_SCOPE
from segview.core.report import Report
from segview.errors import SegviewError
from segview.io.coco import MASK_FORMATS
from segview.io.detect import DatasetFormat
from segview.io.export import LAYOUTS, export_dataset, export_steps

DatasetFor = Callable[[str, list[int]], Dataset]
SCOPE_LABELS = {
    "corrected": "Corrected images (the annotations you made or accepted)",
    "all": "All images, those you have not corrected without any annotation",
    "predictions": "All images with results, using the model's predictions for images you have not corrected",
    "selected": "Selected images",
}
SCOPE_TIPS = {
    "corrected": "Only the images whose annotation you made or accepted in segview.",
    "all": "Every image; an image you have not corrected is exported with no annotation, which most trainers "
           "take for a background-only example. The report says how many.",
    "predictions": "The model's raw predictions are exported as if they were annotations for every image you "
                   "have not corrected; images with neither are left out. The report says how many images "
                   "came from predictions.",
    "selected": "The selected images, each with your annotation, or none where you have not corrected it.",
}


@dataclass
class ExportResult:
    """What an export did: its report and the paths written."""

    report: Report
    paths: list[Path] = field(default_factory=list)


class _ExportWorker(QObject):
    """Runs ``export_dataset`` on the worker thread; results come back as signals."""

    progress = Signal(int, int, str)
    finished = Signal(object)  # ExportResult
    failed = Signal(str)

    def __init__(self, dataset: Dataset, out_dir: Path, formats: list[DatasetFormat], options: dict) -> None:
        super().__init__()
        self._args = (dataset, out_dir, formats)
        self._options = options

    @Slot()
    def run(self) -> None:
        try:
            report, paths = export_dataset(*self._args, progress=self.progress.emit, **self._options)
        except SegviewError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must reach the person, not kill the thread silently
            self.failed.emit(f"The export failed unexpectedly: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(ExportResult(report, paths))


class ExportDialog(QDialog):
    """Export the images of a scope; ``dataset_for(scope, selected)`` builds the Dataset to write
    (scope: one of :data:`segview.core.export_scope.SCOPES`, "corrected" by default; ``selected``: image
    indices). A Dataset with an ``unreviewed`` attribute (a :class:`~segview.core.export_scope.ScopedDataset`)
    names the images exported from the model's predictions, which the report counts."""

    export_finished = Signal(object)  # ExportResult
    export_failed = Signal(str)

    def __init__(
        self,
        dataset_for: DatasetFor,
        selected: Sequence[int] = (),
        folder: str | Path = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(520)
        self._dataset_for = dataset_for
        self._selected = list(selected)
        self._thread: QThread | None = None
        self._worker: _ExportWorker | None = None
        self.result_: ExportResult | None = None

        self.format_boxes: dict[DatasetFormat, QCheckBox] = {}
        formats = QVBoxLayout()
        for fmt, layout in LAYOUTS.items():
            box = QCheckBox(f"{layout.label}  ({layout.main})")
            box.setObjectName(f"export-format:{fmt.value}")
            box.setChecked(True)
            box.toggled.connect(self._update_enabled)
            formats.addWidget(box)
            self.format_boxes[fmt] = box

        self.scope_buttons: dict[str, QRadioButton] = {}
        self._scope_group = QButtonGroup(self)
        scopes = QVBoxLayout()
        for scope in SCOPE_LABELS:
            button = QRadioButton()
            button.setObjectName(f"export-scope:{scope}")
            self._scope_group.addButton(button)
            scopes.addWidget(button)
            self.scope_buttons[scope] = button
        self._label_scopes()
        self.scope_buttons[DEFAULT_SCOPE].setChecked(True)
        self.scope_buttons["selected"].setEnabled(bool(self._selected))

        ids_tip = ("Off (the default, as on the command line): the project's category ids are kept, so they stay "
                   "the same from one export to the next. On: they are renumbered contiguously from this id in "
                   "the class order. Semantic PNG needs a first id of 1 or more (0 is void); COCO panoptic 0 or "
                   "more. Semantic PNGs are 8-bit while every id is at most 255, 16-bit otherwise.")
        self.renumber = QCheckBox("Renumber from")
        self.renumber.setObjectName("export-renumber")
        self.renumber.setChecked(False)
        self.renumber.setToolTip(ids_tip)
        self.id_base = QSpinBox()
        self.id_base.setObjectName("export-id-base")
        self.id_base.setRange(0, 1_000_000)
        self.id_base.setValue(1)
        self.id_base.setToolTip(ids_tip)
        self.id_base.setEnabled(False)
        self.renumber.toggled.connect(self.id_base.setEnabled)
        ids_row = QHBoxLayout()
        ids_row.addWidget(self.renumber)
        ids_row.addWidget(self.id_base)
        ids_row.addStretch(1)
        self.mask_format = QComboBox()
        self.mask_format.setObjectName("export-mask-format")
        for value in MASK_FORMATS:
            text = {"auto": "Auto (polygons, RLE for holes)", "polygon": "Polygons", "rle": "RLE"}.get(value, value)
            self.mask_format.addItem(text, value)
        self.folder = QLineEdit(str(folder))
        self.folder.setObjectName("export-folder")
        self.folder.setPlaceholderText("Output folder")
        self.folder.textChanged.connect(self._update_enabled)
        browse = QPushButton("Browse…")
        browse.setObjectName("export-browse")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)

        self.progress = QProgressBar()
        self.progress.setObjectName("export-progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status = QLabel("")
        self.status.setObjectName("export-status")
        self.status.setWordWrap(True)
        self.report_view = QPlainTextEdit()
        self.report_view.setObjectName("export-report")
        self.report_view.setReadOnly(True)
        self.report_view.setPlaceholderText("The report of the export and of its check appears here.")
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("export-run")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("export-close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)

        form = QFormLayout()
        form.addRow("Formats", formats)
        form.addRow("Images", scopes)
        form.addRow("Category ids", ids_row)
        form.addRow("COCO masks", self.mask_format)
        form.addRow("Folder", folder_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.report_view, 1)
        layout.addLayout(buttons)
        self._update_enabled()

    def _label_scopes(self) -> None:
        """The scope buttons' texts and tooltips say what each scope exports (set again when the dialog is
        shown, so a caller's older wording, such as "All images with results", cannot contradict them)."""
        for scope, button in self.scope_buttons.items():
            button.setText(SCOPE_LABELS[scope])
            button.setToolTip(SCOPE_TIPS[scope])
        self.scope_buttons["selected"].setText(f"Selected images ({len(self._selected)})")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        self._label_scopes()
        super().showEvent(event)

    # --- state ------------------------------------------------------------------------------------------

    def formats(self) -> list[DatasetFormat]:
        return [fmt for fmt, box in self.format_boxes.items() if box.isChecked()]

    def category_id_base(self) -> int | None:
        """None keeps the project's category ids; an int renumbers them from it."""
        return self.id_base.value() if self.renumber.isChecked() else None

    def scope(self) -> str:
        return next(s for s, b in self.scope_buttons.items() if b.isChecked())

    def is_running(self) -> bool:
        return self._thread is not None

    def _update_enabled(self) -> None:
        ready = bool(self.formats()) and bool(self.folder.text().strip()) and not self.is_running()
        self.export_button.setEnabled(ready)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    # --- running ------------------------------------------------------------------------------------------

    def start_export(self) -> bool:
        """Build the scope's dataset here (GUI thread) and export it on a worker thread."""
        if self.is_running():
            return False
        formats, folder = self.formats(), self.folder.text().strip()
        if not formats or not folder:
            self._fail("Choose at least one format and an output folder.")
            return False
        try:
            dataset = self._dataset_for(self.scope(), list(self._selected))
        except SegviewError as exc:
            self._fail(str(exc))
            return False
        options = {"mask_format": self.mask_format.currentData(), "category_id_base": self.category_id_base(),
                   "unreviewed": tuple(getattr(dataset, "unreviewed", ()))}
        self.result_ = None
        self.report_view.clear()
        self._say(f"Exporting {len(dataset.images)} image(s) to {folder}…")
        self.progress.setRange(0, export_steps(dataset, formats))
        self.progress.setValue(0)
        self._thread = QThread(self)
        self._worker = _ExportWorker(dataset, Path(folder).expanduser(), formats, options)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._progressed)
        self._worker.finished.connect(self._finished)
        self._worker.failed.connect(self._failed)
        self._set_running(True)
        self._thread.start()
        return True

    def _set_running(self, running: bool) -> None:
        for widget in (*self.format_boxes.values(), *self.scope_buttons.values(), self.renumber, self.id_base,
                       self.mask_format, self.folder, self.close_button):
            widget.setEnabled(not running)
        if not running:
            self.scope_buttons["selected"].setEnabled(bool(self._selected))
            self.id_base.setEnabled(self.renumber.isChecked())
        self._update_enabled()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._worker.deleteLater()
            self._thread.deleteLater()
        self._thread = self._worker = None
        self._set_running(False)

    def _progressed(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self._say(message)

    def _finished(self, result: ExportResult) -> None:
        self._stop_thread()
        self.result_ = result
        report = result.report
        written = ["Written:", *(f"  {p}" for p in result.paths)] if result.paths else ["Nothing was written."]
        self.report_view.setPlainText("\n".join([*written, "", report.format()]))
        if not result.paths:
            verdict = "Nothing exported: fix the errors below, then export again"
        else:
            verdict = "Export done and checked" if report.ok else "Export done, but the check found errors"
        self._say(f"{verdict}: {report.summary()}.", error=not report.ok)
        self.export_finished.emit(result)

    def _failed(self, message: str) -> None:
        self._stop_thread()
        self.progress.setValue(0)
        self._fail(message)

    def _fail(self, message: str) -> None:
        self._say(message, error=True)
        self.report_view.setPlainText(message)
        self.export_failed.emit(message)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    # --- closing while running ---------------------------------------------------------------------------

    def reject(self) -> None:
        if self.is_running():
            self._say("The export is still running; the dialog closes once it has finished.")
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self.is_running():
            event.ignore()
            self._say("The export is still running; the dialog closes once it has finished.")
            return
        super().closeEvent(event)
