"""The Find by name dialog: the project's classes by default, the chosen cards, names checked before OK."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from segview.ui.dialogs.find_by_name import FindByNameDialog, FindRequest

DETECTORS = [("owl_a", "A"), ("owl_b", "B")]
PROMPTS = [("sam_a", "SAM A"), ("sam_b", "SAM B")]


def _dialog(qtbot, names=("helmet", "flag"), detectors=DETECTORS, prompts=PROMPTS, **chosen):
    dialog = FindByNameDialog(None, list(names), detectors, prompts, **chosen)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _find(qtbot, dialog):
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def test_defaults_to_the_project_classes_and_the_remembered_cards(qtbot):
    dialog = _dialog(qtbot, detector="owl_b", prompt_model="sam_b")
    assert dialog.names.text() == "helmet, flag"
    _find(qtbot, dialog)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.request == FindRequest(("helmet", "flag"), "owl_b", "sam_b")


def test_typed_names_and_chosen_cards(qtbot):
    dialog = _dialog(qtbot)
    dialog.names.clear()
    qtbot.keyClicks(dialog.names, "red car,  person ,Person")
    dialog.prompt_model.setCurrentIndex(1)
    _find(qtbot, dialog)
    assert dialog.request == FindRequest(("red car", "person"), "owl_a", "sam_b")


def test_no_names_keeps_the_dialog_open_and_says_why(qtbot):
    dialog = _dialog(qtbot, names=())
    _find(qtbot, dialog)
    assert dialog.isVisible() and dialog.request is None
    assert "No class names given" in dialog.problem.text()


def test_without_a_detector_card_it_says_so_and_cannot_run(qtbot):
    dialog = _dialog(qtbot, detectors=[])
    assert "No open-vocabulary detector card" in dialog.problem.text()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
