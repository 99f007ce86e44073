"""The Model dock: the model picker (with its hint, and "Get weights…" while its weights are missing),
the device, the score threshold and fusion parameters, and the batch run controls."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from segview.core.fusion import FusionParams


def bounded_combo(combo: QComboBox, characters: int = 10) -> QComboBox:
    """A combo box as wide as ``characters`` letters, not as its longest item: a long model title must
    not widen its dock (the popup still shows the whole text, and the tooltip of each item too)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo



class ModelEntry(NamedTuple):
    """A model the picker offers: its card name, title and one-line hint (what it knows)."""

    name: str
    title: str
    hint: str = ""


class ModelPanel(QWidget):
    """Model picker (with the chosen model's hint, and "Get weights…" while its weights are missing),
    device, score threshold and fusion parameters, and batch run controls."""

    model_chosen = Signal(str)
    params_changed = Signal(object)  # FusionParams
    run_all = Signal()
    cancel = Signal()
    get_weights = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hints: dict[str, str] = {}
        self.models = QComboBox()
        self.models.setObjectName("model-picker")
        bounded_combo(self.models)
        self.models.activated.connect(lambda _i: self.model_chosen.emit(self.models.currentData()))
        self.models.currentIndexChanged.connect(lambda _i: self._show_hint())
        self.device = QLabel("device: not loaded yet")
        self.device.setObjectName("device-label")
        self.hint = QLabel()
        self.hint.setObjectName("model-hint")
        self.hint.setWordWrap(True)
        self.hint.setVisible(False)
        self.weights_button = QPushButton("Get weights…")
        self.weights_button.setObjectName("get-weights")
        self.weights_button.setToolTip("Download the model's weights, or use a copy on this computer")
        self.weights_button.setVisible(False)
        self.weights_button.clicked.connect(self.get_weights)
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setObjectName("score-threshold")
        self.threshold.setRange(0, 100)
        self.threshold_label = QLabel()
        self.overlap = QDoubleSpinBox()
        self.overlap.setObjectName("overlap-threshold")
        self.overlap.setRange(0.0, 1.0)
        self.overlap.setSingleStep(0.05)
        self.stuff_area = QSpinBox()
        self.stuff_area.setObjectName("stuff-area")
        self.stuff_area.setRange(0, 1_000_000)
        self.stuff_area.setSingleStep(256)
        self.set_params(FusionParams())
        for widget in (self.threshold, self.overlap, self.stuff_area):
            signal = widget.valueChanged
            signal.connect(self._emit_params)
        self.run_button = QPushButton("Run on all images")
        self.run_button.setObjectName("run-all")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_all)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("batch-progress")
        self.progress.setVisible(False)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold, 1)
        threshold_row.addWidget(self.threshold_label)
        model = QFormLayout()
        model.addRow("Model", self.models)
        model.addRow("", self.device)
        model.addRow("", self.weights_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        fusion = QFormLayout()
        fusion.addRow("Score ≥", threshold_row)
        fusion.addRow("Max overlap", self.overlap)
        fusion.addRow("Min stuff area", self.stuff_area)
        layout = QVBoxLayout(self)  # the model and its batch first: a short dock still shows them
        layout.addLayout(model)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.hint)  # below Run on all images: a short dock still shows the button
        layout.addLayout(fusion)
        layout.addStretch(1)

    def set_models(self, entries: list[ModelEntry] | list[tuple[str, str]], current: str | None) -> None:
        """(name, title[, hint]) entries; select ``current``."""
        self.models.blockSignals(True)
        self.models.clear()
        entries = [ModelEntry(*entry) for entry in entries]
        self._hints = {entry.name: entry.hint for entry in entries}
        for name, title, _hint in entries:
            self.models.addItem(title, name)
            self.models.setItemData(self.models.count() - 1, title, Qt.ItemDataRole.ToolTipRole)
        if current is not None:
            self.models.setCurrentIndex(max(self.models.findData(current), 0))
        self.models.blockSignals(False)
        self._show_hint()

    def show_model(self, name: str) -> None:
        """Show ``name`` as the chosen model (chosen elsewhere: at start, after a download)."""
        index = self.models.findData(name)
        if index >= 0:
            self.models.setCurrentIndex(index)

    def set_weights_missing(self, missing: bool) -> None:
        """Offer "Get weights…" while the chosen model's weights are not on this computer."""
        self.weights_button.setVisible(missing)

    def _show_hint(self) -> None:
        hint = self._hints.get(self.models.currentData(), "")
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))

    def set_params(self, params: FusionParams) -> None:
        for widget in (self.threshold, self.overlap, self.stuff_area):
            widget.blockSignals(True)
        self.threshold.setValue(round(params.score_threshold * 100))
        self.threshold_label.setText(f"{params.score_threshold:.2f}")
        self.overlap.setValue(params.overlap_threshold)
        self.stuff_area.setValue(params.stuff_area_limit)
        for widget in (self.threshold, self.overlap, self.stuff_area):
            widget.blockSignals(False)

    def params(self) -> FusionParams:
        return FusionParams(self.threshold.value() / 100.0, self.overlap.value(), self.stuff_area.value())

    def _emit_params(self) -> None:
        self.threshold_label.setText(f"{self.threshold.value() / 100:.2f}")
        self.params_changed.emit(self.params())

    def set_batch(self, done: int, total: int) -> None:
        """Show batch progress; hides itself when done == total."""
        running = total > 0 and done < total
        self.progress.setVisible(running)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.cancel_button.setEnabled(running)
        self.run_button.setEnabled(not running)
