"""Dock panels: overlay layers (toggle, opacity, style) and the model (picker, threshold, fusion, run)."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
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
from segview.core.layers import LayerSource, LayerView, layer_name
from segview.core.render import OverlayMode

LAYER_SHORTCUTS = {
    layer_name(LayerSource.PREDICTION, LayerView.SEMANTIC): "S",
    layer_name(LayerSource.PREDICTION, LayerView.INSTANCE): "I",
    layer_name(LayerSource.PREDICTION, LayerView.PANOPTIC): "P",
    layer_name(LayerSource.ANNOTATION, LayerView.SEMANTIC): "Shift+S",
    layer_name(LayerSource.ANNOTATION, LayerView.INSTANCE): "Shift+I",
    layer_name(LayerSource.ANNOTATION, LayerView.PANOPTIC): "Shift+P",
}


def bounded_combo(combo: QComboBox, characters: int = 10) -> QComboBox:
    """A combo box as wide as ``characters`` letters, not as its longest item: a long model title must
    not widen its dock (the popup still shows the whole text, and the tooltip of each item too)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


DEFAULT_OPACITY = 50  # the fill's opacity in % (segview.core.render.layer_style); outlines opaque
PREDICTION_LAYERS = tuple(layer_name(LayerSource.PREDICTION, view) for view in LayerView)
DEFAULT_SHOWN = {
    False: {name: name == layer_name(LayerSource.PREDICTION, LayerView.PANOPTIC) for name in PREDICTION_LAYERS},
    True: dict.fromkeys(PREDICTION_LAYERS, False),  # an annotated image shows the annotation alone
}


class LayersPanel(QWidget):
    """One row per layer: visible checkbox and opacity slider; one style for all (fill/outline/both).

    The prediction layers have two on/off states: one for images without an annotation (the panoptic
    prediction shown) and one for images with an annotation (nothing predicted shown, so it does not
    stack on the annotation). ``set_annotated`` switches between them; what the user turns on or off is
    kept in the state of the kind of image on screen."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout()
        self.visible: dict[str, QCheckBox] = {}
        self.opacity: dict[str, QSlider] = {}
        self._annotated = False
        self._shown = {kind: dict(states) for kind, states in DEFAULT_SHOWN.items()}
        row = 0
        for source in LayerSource:
            header = QLabel(f"<b>{source.value.capitalize()}</b>")
            grid.addWidget(header, row, 0, 1, 2)
            row += 1
            for view in LayerView:
                name = layer_name(source, view)
                box = QCheckBox(f"{view.value.capitalize()}  ({LAYER_SHORTCUTS[name]})")
                box.setObjectName(f"visible:{name}")
                box.setChecked(self._shown[False].get(name, view is LayerView.PANOPTIC))
                slider = QSlider(Qt.Orientation.Horizontal)
                slider.setObjectName(f"opacity:{name}")
                slider.setRange(0, 100)
                slider.setValue(DEFAULT_OPACITY)
                slider.setToolTip("Fill opacity (100 %: the pure class colour)")
                if source is LayerSource.PREDICTION:
                    box.toggled.connect(lambda on, n=name: self._remember(n, on))
                box.toggled.connect(self.changed)
                slider.valueChanged.connect(self.changed)
                grid.addWidget(box, row, 0)
                grid.addWidget(slider, row, 1)
                self.visible[name], self.opacity[name] = box, slider
                row += 1
        self.mode = QComboBox()
        self.mode.setObjectName("overlay-mode")
        for mode in OverlayMode:
            self.mode.addItem(mode.value.capitalize(), mode)
        self.mode.setCurrentIndex(list(OverlayMode).index(OverlayMode.BOTH))
        self.mode.currentIndexChanged.connect(self.changed)
        self.boxes = QCheckBox("Boxes and scores (B)")
        self.boxes.setObjectName("boxes")
        self.boxes.setChecked(True)
        self.boxes.toggled.connect(self.changed)
        self.prediction_note = QLabel("Prediction hidden on annotated images (P shows it)")
        self.prediction_note.setObjectName("prediction-hidden-note")
        self.prediction_note.setWordWrap(True)
        self.prediction_note.setVisible(False)
        policy = self.prediction_note.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # its room is kept: showing it moves nothing
        self.prediction_note.setSizePolicy(policy)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        form = QFormLayout()
        form.addRow("Style", self.mode)
        layout.addLayout(form)
        layout.addWidget(self.boxes)
        layout.addWidget(self.prediction_note)  # last, its room kept: it used to push "Boxes and scores"
        layout.addStretch(1)  # below the fold of a short dock when it appeared

    @property
    def annotated(self) -> bool:
        """Whether the prediction layers follow the choice for annotated images."""
        return self._annotated

    def set_annotated(self, annotated: bool) -> None:
        """The image on screen has (or has not) an annotation: show the prediction layers chosen for
        that kind of image. Emits nothing (the caller restyles the layers)."""
        annotated = bool(annotated)
        if annotated == self._annotated:
            return
        self._annotated = annotated
        for name, on in self._shown[annotated].items():
            box = self.visible[name]
            box.blockSignals(True)
            box.setChecked(on)
            box.blockSignals(False)
        self._update_note()

    def _remember(self, name: str, on: bool) -> None:
        self._shown[self._annotated][name] = on
        self._update_note()

    def _update_note(self) -> None:
        self.prediction_note.setVisible(self._annotated and not any(self._shown[True].values()))

    def overlay_mode(self) -> OverlayMode:
        return OverlayMode(self.mode.currentData())

    def is_visible(self, name: str) -> bool:
        return self.visible[name].isChecked()

    def opacity_of(self, name: str) -> float:
        return self.opacity[name].value() / 100.0


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
