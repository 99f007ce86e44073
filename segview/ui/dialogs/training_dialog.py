"""Model → Train on corrected images…: a non-modal panel that sets up a training run (base model, images
with their training / validation split, budget, device), shows it live (step, loss curve, images/s, ETA)
with Cancel and Resume, and ends with the before/after table on the validation images. A model that scores
below its base there is not made active: the panel says which figures dropped and offers Use It Anyway. It
knows nothing of the window or the model process: it says what to start as a ``TrainingPlan`` (or which
model to use anyway) and is told how it goes."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from segview.core.wording import count
from segview.train.plan import TrainingOutcome, TrainingPlan, TrainingProgress, TrainingSetup, split_images
from segview.ui.dialogs.loss_curve import LossCurve

DEVICES = (("auto", "Automatic (CUDA, then Apple MPS, then CPU)"), ("cpu", "CPU"), ("cuda", "CUDA GPU"),
           ("mps", "Apple MPS"))
VAL_FRACTION = 0.2
DEFAULT_STEPS = 300
DEFAULT_MINUTES = 10.0


def clock(seconds: float) -> str:
    """``seconds`` as h:mm:ss or m:ss."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainingDialog(QDialog):
    """The training panel over a project's corrected images (``images``: their file names in the project,
    all checked at first); ``bases``: (card name, title) of every model that can be trained;
    ``accept_keys``: the Accept All Predictions shortcut, for the hint shown without corrected images."""

    start_requested = Signal(object)  # TrainingPlan
    cancel_requested = Signal()
    use_requested = Signal(str)  # the card of a model that scored below its base, to make active anyway

    def __init__(self, source: str, images: Sequence[str], bases: Sequence[tuple[str, str]], name: str,
                 base: str | None = None, parent: QWidget | None = None, accept_keys: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Train on corrected images")
        self.setObjectName("training-dialog")
        self.setModal(False)
        self.setMinimumWidth(560)
        self.source = source
        self.accept_keys = accept_keys
        self.running = False
        self.resumable = False  # a run was cancelled or stopped: its checkpoint can be resumed
        self.outcome: TrainingOutcome | None = None

        self.base = QComboBox()
        self.base.setObjectName("training-base")
        self.base.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.base.setMinimumContentsLength(24)  # a long title must not widen the panel (its popup shows it whole)
        for card, title in bases:
            self.base.addItem(title if title == card else f"{title}  ({card})", card)
        if base is not None and self.base.findData(base) >= 0:
            self.base.setCurrentIndex(self.base.findData(base))
        self.name = QLineEdit(name)
        self.name.setObjectName("training-name")
        self.name.setToolTip("The new model's name: a card of this name is written in your models folder.")

        self.images = QListWidget()
        self.images.setObjectName("training-images")
        self.images.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.images.setMaximumHeight(8 * self.images.fontMetrics().height() + 12)  # scrolls beyond eight rows
        for file_name in images:
            item = QListWidgetItem(file_name)
            item.setData(Qt.ItemDataRole.UserRole, file_name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.images.addItem(item)
        self.images.itemChanged.connect(lambda _item: self._show_split())
        self.split_label = QLabel()
        self.split_label.setObjectName("training-split")
        self.split_label.setWordWrap(True)

        self.by_steps = QRadioButton("Steps")
        self.by_steps.setObjectName("training-by-steps")
        self.by_minutes = QRadioButton("Minutes")
        self.by_minutes.setObjectName("training-by-minutes")
        budget_group = QButtonGroup(self)
        budget_group.addButton(self.by_steps)
        budget_group.addButton(self.by_minutes)
        self.by_steps.setChecked(True)
        self.steps = QSpinBox()
        self.steps.setObjectName("training-steps")
        self.steps.setRange(1, 1_000_000)
        self.steps.setValue(DEFAULT_STEPS)
        self.minutes = QDoubleSpinBox()
        self.minutes.setObjectName("training-minutes")
        self.minutes.setRange(0.1, 10_000.0)
        self.minutes.setValue(DEFAULT_MINUTES)
        self.minutes.setEnabled(False)
        self.by_steps.toggled.connect(self.steps.setEnabled)
        self.by_minutes.toggled.connect(self.minutes.setEnabled)
        self.by_steps.toggled.connect(lambda _on: self._show_budget())
        self.steps.valueChanged.connect(lambda _value: self._show_budget())
        self.minutes.valueChanged.connect(lambda _value: self._show_budget())
        budget = QHBoxLayout()
        for widget in (self.by_steps, self.steps, self.by_minutes, self.minutes):
            budget.addWidget(widget)
        budget.addStretch(1)
        self.device = QComboBox()
        self.device.setObjectName("training-device")
        for value, text in DEVICES:
            self.device.addItem(text, value)
        self.batch = QSpinBox()
        self.batch.setObjectName("training-batch")
        self.batch.setRange(0, 256)
        self.batch.setSpecialValueText("automatic (2 on the CPU, the largest that fits on a GPU)")
        self.batch.setToolTip("Images per step. After running out of memory, resume with a smaller batch.")

        self.progress = QProgressBar()
        self.progress.setObjectName("training-progress")
        self.figures = QLabel("")
        self.figures.setObjectName("training-figures")
        self.curve = LossCurve()
        self.status = QLabel("")
        self.status.setObjectName("training-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("training-table")
        self.table.setHorizontalHeaderLabels(["Metric", "Class", "Base %", "New %", "Change"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVisible(False)

        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("training-start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(lambda: self._start(resume=False))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("training-cancel")
        self.cancel_button.setToolTip("Stop training; its last checkpoint is kept, and Resume continues from it.")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setObjectName("training-resume")
        self.resume_button.setToolTip("Continue the stopped run from its last checkpoint.")
        self.resume_button.clicked.connect(lambda: self._start(resume=True))
        self.use_button = QPushButton("Use It Anyway")
        self.use_button.setObjectName("training-use")
        self.use_button.setToolTip("Make the new model the active model although it scored below its base, and "
                                   "predict the images not corrected yet again with it.")
        self.use_button.setVisible(False)
        self.use_button.clicked.connect(self._use_anyway)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("training-close")
        self.close_button.setToolTip("Close the panel; training goes on (Model → Train on corrected images… "
                                     "shows it again).")
        self.close_button.clicked.connect(self.hide)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.use_button, self.start_button, self.cancel_button, self.resume_button,
                       self.close_button):
            buttons.addWidget(button)

        form = QFormLayout()
        form.addRow("Base model", self.base)
        form.addRow("New model", self.name)
        form.addRow("Images", self.images)
        form.addRow("", self.split_label)
        form.addRow("Budget", budget)
        form.addRow("Device", self.device)
        form.addRow("Batch size", self.batch)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.figures)
        layout.addWidget(self.curve, 1)
        layout.addWidget(self.table, 2)
        layout.addLayout(buttons)
        self._show_split()
        self._show_budget()
        self._update_buttons()

    # --- the plan ----------------------------------------------------------------------------------------

    def chosen_images(self) -> list[str]:
        """The checked images' file names."""
        items = (self.images.item(i) for i in range(self.images.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def plan(self, resume: bool = False) -> TrainingPlan:
        """What the panel says to train."""
        by_steps = self.by_steps.isChecked()
        return TrainingPlan(source=self.source, base=self.base.currentData(), name=self.name.text().strip(),
                            steps=self.steps.value() if by_steps else None,
                            minutes=None if by_steps else self.minutes.value(),
                            device=self.device.currentData(), val_fraction=VAL_FRACTION,
                            batch_size=self.batch.value() or None,
                            images=tuple(self.chosen_images()), resume=resume)

    def _start(self, resume: bool) -> None:
        self.start_requested.emit(self.plan(resume=resume))

    def _show_split(self) -> None:
        """Mark each checked image 'training' or 'validation' (the deterministic split the run uses)."""
        chosen = self.chosen_images()
        _train, val = split_images(chosen, VAL_FRACTION) if len(chosen) >= 2 else (chosen, [])
        validation = set(val)
        self.images.blockSignals(True)
        for i in range(self.images.count()):
            item = self.images.item(i)
            file_name = item.data(Qt.ItemDataRole.UserRole)
            part = "" if file_name not in chosen else (" — validation" if file_name in validation else " — training")
            item.setText(file_name + part)
        self.images.blockSignals(False)
        self.split_label.setText(f"{len(chosen) - len(validation)} for training, {len(validation)} for validation "
                                 "(the model is compared with its base on these)" if len(chosen) >= 2 else
                                 self._too_few())
        self._update_buttons()

    def _too_few(self) -> str:
        """Why Start waits: no corrected image, one, or fewer than 2 checked."""
        listed = self.images.count()
        if listed >= 2:
            return "Check at least 2 corrected images: one or more to train on, one to validate."
        keys = f", {self.accept_keys}" if self.accept_keys else ""
        how = (f"accept a prediction (Edit → Accept All Predictions{keys}) or edit an image; corrected images are "
               "listed here when this panel opens again. Training needs at least 2: one or more to train on, one to "
               "validate.")
        return f"No corrected images yet: {how}" if listed == 0 else f"Only 1 corrected image: to correct another, {how}"

    def _show_budget(self) -> None:
        """Before a run's first progress: step 0 of the budget's steps (a minutes budget gives no count yet)."""
        if self.running:
            return
        if self.by_steps.isChecked():
            self.progress.setRange(0, self.steps.value())
            self.progress.setFormat("step %v of %m")
        else:
            self.progress.setRange(0, 1)
            self.progress.setFormat(f"step %v of a {self.minutes.value():g}-minute budget")
        self.progress.setValue(0)

    # --- told by the window --------------------------------------------------------------------------------

    def set_running(self, running: bool, message: str = "") -> None:
        """A run was started (the settings lock) or has ended (``message`` says how)."""
        self.running = running
        if running:
            self.outcome = None
            self.resumable = False
            self.table.setVisible(False)
            self.use_button.setVisible(False)
            self.curve.clear()
            self.figures.setText("")
            self._show_budget()
        self.status.setText(message)
        self._update_buttons()

    def show_phase(self, message: str) -> None:
        """What the run does now (preparing, training, evaluating)."""
        self.status.setText(message)

    def show_setup(self, setup: TrainingSetup) -> None:
        """The run is prepared: its split, device and batch, and the step it starts from."""
        start = f", from step {setup.start_step}" if setup.start_step else ""
        self.show_phase(f"Training on {count(len(setup.train_files), 'image')}, validating on "
                        f"{len(setup.val_files)}, on {setup.device} (batch {setup.batch_size}{start})…")
        if setup.total_steps:
            self.progress.setRange(0, max(setup.total_steps, setup.start_step))
        self.progress.setValue(setup.start_step)

    def show_progress(self, progress: TrainingProgress) -> None:
        """The run's step, loss curve, speed and time left."""
        total = max(progress.total_steps or 0, progress.step, 1)
        self.progress.setFormat("step %v of %m")
        self.progress.setRange(0, total)
        self.progress.setValue(progress.step)
        self.curve.set_points(progress.losses, total)
        loss = f" · loss {progress.losses[-1][1]:.4f}" if progress.losses else ""
        speed = f" · {progress.images_per_s:.1f} images/s" if progress.images_per_s else ""
        eta = f" · {clock(progress.eta_s)} left" if progress.eta_s is not None and not progress.done else ""
        self.figures.setText(f"Step {progress.step} of {total}{loss}{speed} · {clock(progress.elapsed_s)} "
                             f"elapsed{eta}")

    def show_outcome(self, outcome: TrainingOutcome) -> None:
        """The run is over: the before/after table on the validation images; a model worse than its base
        there is not made active (the window's side does not use it) and Use It Anyway is offered."""
        self.outcome = outcome
        self.resumable = False
        made = f"{outcome.steps} steps, {outcome.minutes:.1f} min on {outcome.device}"
        drops = outcome.drops()
        self.set_running(False, f"Done: {outcome.card_name} is saved ({made}), but it scores below its base on "
                                f"the validation images ({', '.join(drops)}), so it is not made the active model. "
                                "Use It Anyway makes it active and predicts the images not corrected yet again."
                                if drops else
                                f"Done: {outcome.card_name} is saved and is now the active model ({made}).")
        self.use_button.setVisible(bool(drops))
        self.table.setRowCount(0)
        for line in outcome.rows:
            base, new = line.base, line.new
            row = self.table.rowCount()
            self.table.insertRow(row)
            change = "" if base is None or new is None else f"{100 * (new - base):+.1f}"
            for column, text in enumerate((line.metric, line.class_name, _figure(base), _figure(new), change)):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.setVisible(True)

    def _use_anyway(self) -> None:
        if self.outcome is None:
            return
        self.use_button.setVisible(False)
        self.status.setText(f"{self.outcome.card_name} is now the active model: the images not corrected yet are "
                            "predicted again with it.")
        self.use_requested.emit(self.outcome.card_name)

    def show_stopped(self, message: str, resumable: bool) -> None:
        """The run stopped before its end (cancelled, failed, the model process died): say why; Resume
        continues from the last checkpoint when there is one."""
        self.set_running(False, message)
        self.resumable = resumable
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self.running
        for widget in (self.base, self.name, self.images, self.steps, self.minutes, self.by_steps,
                       self.by_minutes, self.device, self.batch):
            widget.setEnabled(idle and (widget is not self.steps or self.by_steps.isChecked())
                              and (widget is not self.minutes or self.by_minutes.isChecked()))
        self.start_button.setEnabled(idle and len(self.chosen_images()) >= 2 and self.base.count() > 0)
        self.cancel_button.setEnabled(self.running)
        self.resume_button.setEnabled(idle and self.resumable)


def _figure(value: float | None) -> str:
    """A figure in percent, as ``segview train`` prints it."""
    return "—" if value is None else f"{100 * value:.1f}"
