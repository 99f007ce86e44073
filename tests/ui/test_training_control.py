"""TrainingControl with a stand-in window: a finished model worse than its base stays unused until the panel's
Use It Anyway; one that is not worse becomes the active model at once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMainWindow

from segview.core.workspace import ImageStatus
from segview.train.plan import OutcomeRow, TrainingOutcome
from segview.ui.training_control import TrainingControl
from tests.user_dirs import use_user_dirs


class Bridge(QObject):
    training_event = Signal(str, object)
    training_ended = Signal(str, object)
    model_name = "demo_panoptic"
    training = None


@pytest.fixture
def control(qtbot, tmp_path, monkeypatch):
    use_user_dirs(monkeypatch, tmp_path)
    window = QMainWindow()
    qtbot.addWidget(window)
    window.bridge = Bridge()
    window.project_link = SimpleNamespace(project=SimpleNamespace(store=tmp_path / "photos" / ".segview"),
                                          name_of=lambda path: path.name)
    window.workspace = SimpleNamespace(entries=[SimpleNamespace(path=Path(f"/p/{n}.png"), status=ImageStatus.CORRECTED)
                                                for n in "abc"])
    used: list[str] = []
    training = TrainingControl(window, used.append)
    training.used = used
    training.open_panel()
    return training


def finished(new: float) -> TrainingOutcome:
    return TrainingOutcome("photos-v1", "/m/photos-v1.toml", (OutcomeRow("mask AP", "all", 0.917, new),),
                           ("a.png", "b.png"), ("c.png",), 20, 1.4, "cpu")


def test_a_worse_model_is_used_only_when_asked(control, qtbot):
    control.window.bridge.training_ended.emit("finished", finished(0.887))
    assert control.used == []
    assert "demo_panoptic stays the active model" in control.window.statusBar().currentMessage()
    qtbot.mouseClick(control.panel.use_button, Qt.MouseButton.LeftButton)
    assert control.used == ["photos-v1"]


def test_a_better_model_becomes_active_at_once(control):
    control.window.bridge.training_ended.emit("finished", finished(0.95))
    assert control.used == ["photos-v1"] and not control.panel.use_button.isVisible()
