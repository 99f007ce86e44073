"""The window's side of training: Model → Train on corrected images… opens the training panel over the
project's corrected images; the run goes to the model process through the bridge (a slice at a time,
between predictions); its progress and end come back to the panel. A finished run's model becomes the
active model (``use_model``) unless it scores below its base on the validation images (then only when the
panel's Use It Anyway asks); a cancelled, failed or crashed run leaves the active model as it was and says
why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from segview.core.workspace import ImageStatus, Workspace
from segview.errors import SegviewError
from segview.inference.cards import ModelCard, card_index, list_cards, user_models_dir
from segview.io.project import DB_DIR
from segview.train.plan import TrainingPlan, next_model_name, trainable_builder
from segview.ui.dialogs.choice_box import ask_choice
from segview.ui.dialogs.training_dialog import TrainingDialog
from segview.ui.inference_bridge import InferenceBridge
from segview.ui.project_link import ProjectLink


class TrainingHost(Protocol):
    """What training needs from the window."""

    bridge: InferenceBridge
    workspace: Workspace
    project_link: ProjectLink

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt API


def next_name(source: Path) -> str:
    """The next free ``<source>-vN`` over every card, bundled and the user's."""
    try:
        existing = list(card_index())
    except SegviewError:
        existing = [name for name, _title in trainable_bases()]
    return next_model_name(source.stem, existing)


def training_source(store: Path) -> Path:
    """What a run reads for the project kept in ``store``: the folder of a folder's (or a labelme folder's)
    project, else the dataset file or folder beside its ``.segview/<name>/`` store (with its edits)."""
    return store.parent if store.name == DB_DIR else store.parent.parent / store.name


def checkpoint_path(name: str) -> Path:
    """Where a run of ``name`` keeps its checkpoint (docs/adr/0013-training.md): what Resume continues from."""
    return user_models_dir() / "training" / f"{name}.pt"


def can_train(card: ModelCard, cards: dict[str, ModelCard]) -> bool:
    """Whether a card's architecture can be trained (``plan.trainable_builder``, what the session checks), or
    a panoptic pair of two such cards."""
    if card.task == "panoptic":
        members = [cards.get(card.instance or ""), cards.get(card.semantic or "")]
        return all(m is not None and can_train(m, cards) for m in members)
    return trainable_builder(card.builder)


def trainable_bases() -> list[tuple[str, str]]:
    """(name, title) of every card that can be trained, bundled and the user's own (models trained before)."""
    try:
        cards = {card.name: card for card in list_cards()}
    except SegviewError:
        return []
    return [(card.name, card.title) for card in cards.values() if can_train(card, cards)]


def accept_all_keys(window: object) -> str:
    """The Accept All Predictions shortcut of the window's editor, as the menu shows it ("" without one)."""
    editor = getattr(window, "editor", None)
    if editor is None:
        return ""
    return editor.actions_.accept_all.shortcut().toString(QKeySequence.SequenceFormat.NativeText)


class TrainingControl(QObject):
    """Opens the training panel, starts and stops runs, and hands a finished run's model to ``use_model``
    (it becomes the active model; the images not corrected yet are predicted again) unless it scores below
    its base, where the panel's Use It Anyway does."""

    def __init__(self, window: TrainingHost, use_model: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.use_model = use_model
        self.panel: TrainingDialog | None = None
        self._name = ""  # the model the last run trains
        window.bridge.training_event.connect(self._event)
        window.bridge.training_ended.connect(self._ended)

    def open_panel(self) -> TrainingDialog | None:
        """Show the training panel (the one of the run going on, else a new one over the corrected images);
        None, after saying why, where there is nothing to train on."""
        window = self.window
        if self.panel is not None and (self.panel.running or self.panel.resumable):
            return self._raise(self.panel)
        project = window.project_link.project
        parent = window if isinstance(window, QWidget) else None
        if project is None:
            QMessageBox.information(parent, "Train on corrected images",
                                    "Training reads the corrected images from the project, and this folder has "
                                    "none (it is read-only, or another segview window holds it). Export the "
                                    "corrected images and train on them with `segview train DATASET --base MODEL "
                                    "--name NAME`.")
            return None
        source = training_source(project.store)
        names = [window.project_link.name_of(entry.path) for entry in window.workspace.entries
                 if entry.status == ImageStatus.CORRECTED]
        bases = trainable_bases()
        if self.panel is not None:
            self.panel.deleteLater()
        self.panel = TrainingDialog(str(source), [n for n in names if n is not None], bases, next_name(source),
                                    base=window.bridge.model_name, parent=parent, accept_keys=accept_all_keys(window))
        self.panel.start_requested.connect(self.start)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.use_requested.connect(self._use)
        if checkpoint_path(self.panel.name.text()).is_file():  # a run stopped before (a quit, a crash)
            self.panel.show_stopped(f"A run of {self.panel.name.text()} stopped before its end: Resume continues "
                                    "from its checkpoint, Start begins again.", resumable=True)
        return self._raise(self.panel)

    def may_quit(self) -> bool:
        """Quitting while a run goes on asks first: quit (the run stops; its last checkpoint stays for Resume)
        or keep the window open."""
        name = self.window.bridge.training
        if name is None:
            return True
        answer = ask_choice(self.window if isinstance(self.window, QWidget) else None, QMessageBox.Icon.Question,
                            "Training in progress", f"{name} is still training. Quit anyway? The run stops; its last "
                            "checkpoint (one every 50 steps) stays: Train on Corrected Images… → Resume continues "
                            "from it.", "training-quit",
                            [("Quit", QMessageBox.ButtonRole.AcceptRole),
                             ("Keep training", QMessageBox.ButtonRole.RejectRole)], "Keep training")
        return answer == "Quit"

    @staticmethod
    def _raise(panel: TrainingDialog) -> TrainingDialog:
        panel.show()
        panel.raise_()
        panel.activateWindow()
        return panel

    def start(self, plan: TrainingPlan) -> None:
        """Send the run to the model process."""
        if self.window.bridge.training is not None:
            return
        self._name = plan.name
        self.window.bridge.start_training(plan)
        action = "Resuming" if plan.resume else "Preparing"
        if self.panel is not None:
            self.panel.set_running(True, f"{action}: reading the images and building the model from {plan.base}…")

    def cancel(self) -> None:
        """Stop the run at its next slice; it keeps a checkpoint."""
        self.window.bridge.stop_training()
        if self.panel is not None:
            self.panel.show_phase("Stopping at the end of this step…")

    def _event(self, name: str, payload) -> None:
        panel = self.panel
        if panel is None:
            return
        if name == "prepared":
            panel.show_setup(payload)
        elif name == "progress":
            panel.show_progress(payload)
        elif name == "evaluating":
            panel.show_phase("Comparing the base and the new model on the validation images…")

    def _use(self, name: str) -> None:
        self.window.statusBar().showMessage(f"Training done: {name} is the active model now.", 15000)
        self.use_model(name)

    def _ended(self, how: str, value) -> None:
        window, panel = self.window, self.panel
        active = window.bridge.model_name or "the model"
        if how == "finished":
            if panel is not None:
                panel.show_outcome(value)
                panel.name.setText(next_name(Path(panel.source)))  # a next run makes the next version
                self._raise(panel)  # the table, even when the panel was closed while it trained
            if value.drops():
                window.statusBar().showMessage(f"Training done: {value.card_name} scores below its base "
                                               f"({', '.join(value.drops())}); {active} stays the active model.", 30000)
            else:
                self._use(value.card_name)
            return
        if how == "stopped":
            progress, kept = value
            message = (f"Cancelled at step {progress.step}: its checkpoint is kept (Resume continues from it). "
                       if kept else "Cancelled before the first step. ") + f"{active} stays the active model."
            resumable = kept
        else:
            resumable = checkpoint_path(self._name).is_file()
            message = (f"Training stopped: {value} " + ("Resume continues from its last checkpoint. " if resumable
                                                        else "") + f"{active} stays the active model.")
            if panel is None or not panel.isVisible():
                QMessageBox.warning(window if isinstance(window, QWidget) else None, "Training stopped", message)
        window.statusBar().showMessage(message, 30000)
        if panel is not None:
            panel.show_stopped(message, resumable)
