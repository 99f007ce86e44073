"""The training panel alone: a model worse than its base is not made active (Use It Anyway is offered), the
hint without corrected images, and the progress bar's budget before the first step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from segview.train.plan import OutcomeRow, TrainingOutcome, TrainingSetup
from segview.ui.dialogs.training_dialog import TrainingDialog

IMAGES = ["a.png", "b.png", "c.png", "d.png", "e.png"]
BASES = [("demo_panoptic", "Demo panoptic")]


def make_panel(qtbot, images=IMAGES) -> TrainingDialog:
    dialog = TrainingDialog("/data/project", images, BASES, "demo-v1", accept_keys="Ctrl+Return")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def outcome(*rows: OutcomeRow) -> TrainingOutcome:
    return TrainingOutcome("demo-v1", "/m/demo-v1.toml", rows, ("a.png",), ("b.png",), 20, 1.4, "cpu")


WORSE = outcome(OutcomeRow("mask AP", "all", 0.917, 0.887), OutcomeRow("mask AP", "ball", 0.8, 0.9),
                OutcomeRow("mIoU", "all", 0.80, 0.788), OutcomeRow("PQ", "all", 0.60, 0.578))


def test_a_model_worse_than_its_base_is_not_made_active_and_use_it_anyway_is_offered(qtbot):
    panel = make_panel(qtbot)
    panel.show_outcome(WORSE)
    status = panel.status.text()
    assert "demo-v1 is saved" in status and "not made the active model" in status
    assert "mask AP 91.7 → 88.7, mIoU 80.0 → 78.8, PQ 60.0 → 57.8" in status
    assert "ball" not in status  # a class's figure is not a main figure
    assert panel.use_button.isVisible()
    with qtbot.waitSignal(panel.use_requested) as used:
        qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)
    assert used.args == ["demo-v1"]
    assert not panel.use_button.isVisible() and "demo-v1 is now the active model" in panel.status.text()
    panel.set_running(True, "Preparing…")
    assert not panel.use_button.isVisible()


@pytest.mark.parametrize("rows", [(OutcomeRow("mIoU", "all", 0.25, 0.5),),
                                  (OutcomeRow("mIoU", "all", 0.5, 0.5), OutcomeRow("PQ", "all", None, 0.4)),
                                  (OutcomeRow("mIoU", "all", 0.50004, 0.5),)])  # the same as the table shows it
def test_a_model_not_worse_is_the_active_model_as_before(qtbot, rows):
    panel = make_panel(qtbot)
    panel.show_outcome(outcome(*rows))
    assert "demo-v1 is saved and is now the active model" in panel.status.text()
    assert not panel.use_button.isVisible()


def test_without_corrected_images_the_panel_says_how_to_get_some(qtbot):
    panel = make_panel(qtbot, images=[])
    hint = panel.split_label.text()
    assert hint.startswith("No corrected images yet: accept a prediction (Edit → Accept All Predictions, "
                           "Ctrl+Return) or edit an image")
    assert not panel.start_button.isEnabled()
    assert make_panel(qtbot, images=["a.png"]).split_label.text().startswith("Only 1 corrected image")
    panel = make_panel(qtbot, images=IMAGES[:2])
    panel.images.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert panel.split_label.text().startswith("Check at least 2 corrected images")


def test_the_progress_bar_shows_the_budget_before_the_first_step(qtbot):
    panel = make_panel(qtbot)
    assert panel.progress.text() == "step 0 of 300"
    panel.steps.setValue(40)
    assert panel.progress.text() == "step 0 of 40"
    panel.by_minutes.setChecked(True)
    assert panel.progress.text() == "step 0 of a 10-minute budget"
    panel.by_steps.setChecked(True)
    panel.set_running(True, "Resuming…")  # a resumed run: the budget until the checkpoint's step is known
    assert panel.progress.text() == "step 0 of 40"
    panel.show_setup(TrainingSetup(("a.png",), ("b.png",), (("ball", True),), ("instance",), 40, None, "cpu", 1,
                                   start_step=25))
    assert panel.progress.text() == "step 25 of 40"
    assert "Training on 1 image, validating on 1, on cpu (batch 1, from step 25)" in panel.status.text()
