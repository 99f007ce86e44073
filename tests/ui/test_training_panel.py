"""The training panel (Model → Train on corrected images…): the panel alone, then the whole flow in the window
with a real training run in the model process (a tiny LR-ASPP on generated scenes, a few steps)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence

from segview.io.project import Project
from segview.train.plan import OutcomeRow, TrainingOutcome, TrainingProgress, split_images
from segview.train.scenes import DEMO_CATEGORIES, generate_scene
from segview.ui.compare.controller import diff_mask
from segview.ui.dialogs.loss_curve import LossCurve, smoothed
from segview.ui.dialogs.training_dialog import TrainingDialog
from segview.ui.training_control import checkpoint_path, training_source
from tests.train.helpers import use_tiny_bases
from tests.ui.answers import answer
from tests.ui.conftest import shown_window

IMAGES = ["a.png", "b.png", "c.png", "d.png", "e.png"]
BASES = [("tiny_sem", "tiny_sem"), ("demo_panoptic", "Demo panoptic")]


@pytest.fixture
def panel(qtbot):
    dialog = TrainingDialog("/data/project", IMAGES, BASES, "project-v1", base="demo_panoptic")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def rows_text(dialog: TrainingDialog) -> list[str]:
    return [dialog.images.item(i).text() for i in range(dialog.images.count())]


def test_the_panel_shows_the_split_and_says_what_to_train(panel):
    train, val = split_images(IMAGES, 0.2)
    assert rows_text(panel) == [f"{n} — {'validation' if n in val else 'training'}" for n in IMAGES]
    assert panel.split_label.text().startswith(f"{len(train)} for training, {len(val)} for validation")
    panel.steps.setValue(7)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    panel.images.item(0).setCheckState(Qt.CheckState.Unchecked)
    plan = panel.plan()
    assert (plan.source, plan.base, plan.name, plan.steps, plan.minutes, plan.device, plan.resume) == (
        "/data/project", "demo_panoptic", "project-v1", 7, None, "cpu", False)
    assert plan.images == tuple(IMAGES[1:])
    assert rows_text(panel)[0] == "a.png"  # unchecked: in neither part
    panel.by_minutes.setChecked(True)
    panel.minutes.setValue(2.5)
    assert (panel.plan().steps, panel.plan().minutes) == (None, 2.5)


def test_start_needs_two_images_and_emits_the_plan(panel, qtbot):
    for i in range(1, len(IMAGES)):
        panel.images.item(i).setCheckState(Qt.CheckState.Unchecked)
    assert not panel.start_button.isEnabled()
    assert "at least 2" in panel.split_label.text()
    panel.images.item(1).setCheckState(Qt.CheckState.Checked)
    assert panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.start_requested) as started:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert started.args[0].images == ("a.png", "b.png")


def test_progress_outcome_and_stop_drive_the_buttons(panel):
    panel.set_running(True, "Preparing…")
    assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()
    assert not panel.base.isEnabled() and not panel.images.isEnabled()
    progress = TrainingProgress(step=3, total_steps=10, losses=[(1, 2.0), (2, 1.5), (3, 1.25)], images_per_s=4.0,
                                eta_s=65.0, elapsed_s=5.0)
    panel.show_progress(progress)
    assert (panel.progress.value(), panel.progress.maximum()) == (3, 10)
    assert panel.curve.points == [(1, 2.0), (2, 1.5), (3, 1.25)] and panel.curve.total_steps == 10
    assert panel.figures.text() == "Step 3 of 10 · loss 1.2500 · 4.0 images/s · 0:05 elapsed · 1:05 left"
    panel.show_stopped("Cancelled at step 3", resumable=True)
    assert panel.resume_button.isEnabled() and panel.start_button.isEnabled()
    assert not panel.cancel_button.isEnabled()
    assert panel.status.text() == "Cancelled at step 3"
    outcome = TrainingOutcome("project-v1", "/m/project-v1.toml",
                              (OutcomeRow("mIoU", "all", 0.25, 0.5), OutcomeRow("mask AP", "ball", None, 0.75)),
                              ("a.png",), ("b.png",), 10, 0.5, "cpu")
    panel.show_outcome(outcome)
    table = [[panel.table.item(r, c).text() for c in range(5)] for r in range(panel.table.rowCount())]
    assert table == [["mIoU", "all", "25.0", "50.0", "+25.0"], ["mask AP", "ball", "—", "75.0", ""]]
    assert panel.table.isVisible() and not panel.resume_button.isEnabled()
    assert "project-v1" in panel.status.text()


def test_a_run_reads_the_folder_or_the_dataset_whose_project_is_open(tmp_path):
    assert training_source(tmp_path / "photos" / ".segview") == tmp_path / "photos"
    assert training_source(tmp_path / ".segview" / "instances.json") == tmp_path / "instances.json"
    assert training_source(tmp_path / ".segview" / "semantic") == tmp_path / "semantic"


def test_the_loss_curve_draws_its_points(qtbot):
    curve = LossCurve()
    qtbot.addWidget(curve)
    curve.resize(300, 120)
    empty = curve.grab().toImage()
    curve.set_points([(1, 3.0), (2, 2.0), (3, 2.5), (4, 1.0)], 10)
    drawn = curve.grab().toImage()
    assert drawn != empty
    # the running average starts at the first loss and follows the values
    assert smoothed([3.0])[0] == pytest.approx(3.0)
    assert smoothed([3.0, 1.0], 0.5) == pytest.approx([3.0, 1.25 / 0.75])


def test_without_corrected_images_the_panel_names_the_accept_all_shortcut(window, scenes):
    window.open_path(scenes)  # nothing corrected yet
    panel = window.training.open_panel()
    keys = window.editor.actions_.accept_all.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    assert keys and panel.images.count() == 0 and not panel.start_button.isEnabled()
    assert panel.split_label.text().startswith(f"No corrected images yet: accept a prediction (Edit → Accept All "
                                               f"Predictions, {keys}) or edit an image")


# --- the window: a real run in the model process ---------------------------------------------------------------

CORRECTED = ["scene_0.png", "scene_1.png", "scene_2.png"]  # scene_3.png is left to the model


@pytest.fixture
def project(tmp_path):
    """A folder of four generated scenes whose project holds the exact annotations of the first three."""
    folder = tmp_path / "shapes"
    folder.mkdir()
    scenes = [generate_scene(seed, 96, 128) for seed in range(4)]
    for seed, (image, _annotation) in enumerate(scenes):
        Image.fromarray(image).save(folder / f"scene_{seed}.png")
    with Project.open(folder) as store:
        store.set_categories(DEMO_CATEGORIES)
        for name, (_image, annotation) in zip(CORRECTED, scenes, strict=False):
            store.save_annotation(name, annotation)
    return folder


@pytest.fixture
def trainer(qtbot, tmp_path, monkeypatch, project):
    """The window over the project, with tiny random-weight bases in its own user models folder (trained cards
    land there, not in the session's) and tiny_sem active."""
    use_tiny_bases(monkeypatch, tmp_path)  # tmp_path/data/models
    win = shown_window(qtbot, tmp_path)
    win.open_path(project)
    with qtbot.waitSignal(win.bridge.model_loaded, timeout=60000):
        win.set_model("tiny_sem")
    yield win
    win.bridge.shutdown()


def open_panel(window, steps: int) -> TrainingDialog:
    panel = window.training.open_panel()
    panel.steps.setValue(steps)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    panel.base.setCurrentIndex(panel.base.findData("tiny_sem"))
    return panel


@pytest.mark.slow  # two real runs in the model process, two evaluations, predictions by both models
def test_train_cancel_resume_and_the_new_model_becomes_active(qtbot, trainer, tmp_path):
    window = trainer
    panel = open_panel(window, steps=10_000)
    assert panel.chosen_images() == CORRECTED and panel.name.text() == "shapes-v1"
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.running and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.value() >= 3, timeout=120000)  # progress comes, step after step
    assert len(panel.curve.points) >= 3 and panel.figures.text().startswith("Step ")
    step = panel.progress.value()
    window.set_model("tiny_sem")  # a model switch (a new generation) does not stop the run
    # predictions go on between the slices of the run
    entry = window.workspace.entries[3]
    with qtbot.waitSignal(window.bridge.prediction_ready, timeout=60000,
                          check_params_cb=lambda path, *_: path == entry.path):
        window.bridge.request(entry.path)
    qtbot.waitUntil(lambda: panel.progress.value() > step, timeout=60000)
    assert window.bridge.training == "shapes-v1" and entry.fused is not None  # still training
    with qtbot.waitSignal(window.bridge.training_ended, timeout=60000) as ended:
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args[0] == "stopped"
    stopped_at = ended.args[1][0].step
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 20 and max(gaps) < 1.0  # the event loop kept running while it trained
    timer.stop()
    assert f"Cancelled at step {stopped_at}" in panel.status.text() and "tiny_sem stays" in panel.status.text()
    assert panel.resume_button.isEnabled() and window.bridge.model_name == "tiny_sem"
    assert (tmp_path / "data" / "models" / "training" / "shapes-v1.pt").is_file()  # the checkpoint it keeps

    panel.steps.setValue(stopped_at + 3)  # resume to a shorter budget: three more steps
    resumed = []
    window.bridge.training_event.connect(lambda name, value: resumed.append(value) if name == "progress" else None)
    with qtbot.waitSignal(window.bridge.training_ended, timeout=180000) as ended:
        qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    assert ended.args[0] == "finished", ended.args
    assert resumed and resumed[0].step > stopped_at  # it went on from the checkpoint, not from step 0
    outcome = ended.args[1]
    assert outcome.card_name == "shapes-v1" and outcome.steps == stopped_at + 3
    assert panel.table.isVisible() and panel.table.rowCount() == len(outcome.rows) > 0
    assert panel.table.item(0, 0).text() in ("mask AP", "mIoU", "PQ")
    assert panel.name.text() == "shapes-v2"  # ready for the next round
    if outcome.drops():  # a few steps from random weights may score below the base: not active until asked
        assert window.bridge.model_name == "tiny_sem" and panel.use_button.isVisible()
        qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    # the new model is listed and active, and the image not corrected yet is predicted again by it
    assert window.bridge.model_name == "shapes-v1"
    assert window.model_panel.models.findData("shapes-v1") >= 0
    assert window.model_panel.models.currentData() == "shapes-v1"
    assert window.model_control.batch_total == 1  # scene_3, the one image not corrected
    # "this model vs the previous model": the previous model's result, its classes matched by name
    old = window.workspace.model_categories  # tiny_sem's, until the new model's first result
    before = {sid: old[s.category_id].name for sid, s in entry.reference.segments.items()}
    qtbot.waitUntil(lambda: entry.prediction is not None, timeout=60000)
    new = window.workspace.model_categories
    known = {c.name for c in new}
    assert before and [(c.id, c.name) for c in new] != [(c.id, c.name) for c in old]
    for sid, name in before.items():
        category_id = entry.reference.segments[sid].category_id
        assert new[category_id].name == name if name in known else category_id not in new
    assert diff_mask(entry, "model-reference") is not None


def test_a_refusal_is_shown_and_the_model_stays(qtbot, trainer):
    window = trainer
    panel = open_panel(window, steps=3)
    bases = {panel.base.itemData(i) for i in range(panel.base.count())}
    assert {"tiny_inst", "tiny_sem", "tiny_pair", "demo_panoptic", "demo_instance"} <= bases
    assert not any(name.startswith(("sam_", "owlv2")) for name in bases)  # prompt models and detectors: no
    panel.name.setText("tiny_inst")  # the name of an existing card: never written over
    with qtbot.waitSignal(window.bridge.training_ended, timeout=60000) as ended:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert ended.args[0] == "failed"
    assert "tiny_inst" in panel.status.text() and "tiny_sem stays the active model" in panel.status.text()
    assert not panel.running and panel.start_button.isEnabled() and not panel.resume_button.isEnabled()
    assert window.bridge.model_name == "tiny_sem"
    checkpoint_path("shapes-v1").parent.mkdir(parents=True)
    checkpoint_path("shapes-v1").write_bytes(b"")  # as a run stopped by quitting, in an earlier session, leaves
    reopened = window.training.open_panel()
    assert reopened is not panel and reopened.resume_button.isEnabled() and "Resume" in reopened.status.text()


@pytest.mark.slow  # a segfault of the shared model process: it restarts (torch's import again)
def test_a_model_process_crash_stops_the_run_and_says_so(qtbot, trainer, monkeypatch):
    window = trainer
    panel = open_panel(window, steps=10_000)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.progress.value() >= 1, timeout=120000)
    asked = answer(monkeypatch, "Keep training")
    window.close()  # quitting while it trains asks first
    assert asked == ["Training in progress"] and window.isVisible() and window.bridge.training == "shapes-v1"
    with qtbot.waitSignal(window.bridge.training_ended, timeout=60000) as ended:
        os.kill(window.bridge.process.pid, signal.SIGSEGV)  # as a native crash in the middle of a step
    assert ended.args[0] == "failed" and "crashed" in ended.args[1]
    assert "Training stopped" in panel.status.text() and "tiny_sem stays the active model" in panel.status.text()
    assert window.bridge.training is None and not panel.running
    assert not panel.resume_button.isEnabled()  # no checkpoint yet (one every 50 steps): nothing to resume
    qtbot.waitUntil(lambda: window.bridge.process.state == "idle", timeout=60000)  # restarted ...
    assert window.bridge.process.pending() == 0  # ... without the run: it is not started again on its own
