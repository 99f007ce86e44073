"""The Layers dock: each overlay layer shown or hidden with its opacity, and one style for all (fill,
outline or both)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from segview.core.layers import LayerSource, LayerView, layer_name
from segview.core.render import OverlayMode
from segview.ui.editing.candidate_tool import CANDIDATES_LAYER

LAYER_SHORTCUTS = {
    layer_name(LayerSource.PREDICTION, LayerView.SEMANTIC): "S",
    layer_name(LayerSource.PREDICTION, LayerView.INSTANCE): "I",
    layer_name(LayerSource.PREDICTION, LayerView.PANOPTIC): "P",
    layer_name(LayerSource.ANNOTATION, LayerView.SEMANTIC): "Shift+S",
    layer_name(LayerSource.ANNOTATION, LayerView.INSTANCE): "Shift+I",
    layer_name(LayerSource.ANNOTATION, LayerView.PANOPTIC): "Shift+P",
}


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
        grid.addWidget(QLabel("<b>Segment everything</b>"), row, 0, 1, 2)
        self._add_candidates_row(grid, row + 1)
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

    def _add_candidates_row(self, grid: QGridLayout, row: int) -> None:
        """Segment Everything's unlabeled candidates: their own layer, shown until turned off."""
        box = QCheckBox("Candidates (tool U)")
        box.setObjectName(f"visible:{CANDIDATES_LAYER}")
        box.setChecked(True)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName(f"opacity:{CANDIDATES_LAYER}")
        slider.setRange(0, 100)
        slider.setValue(DEFAULT_OPACITY)
        box.toggled.connect(self.changed)
        slider.valueChanged.connect(self.changed)
        grid.addWidget(box, row, 0)
        grid.addWidget(slider, row, 1)
        self.visible[CANDIDATES_LAYER], self.opacity[CANDIDATES_LAYER] = box, slider

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
