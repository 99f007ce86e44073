"""The weights question fits the model's source: no Download button for a card segview cannot download
(no SHA-256, such as the Segment Anything cards), and the file dialog shows the kind of file asked for."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from segview.ui.dialogs.download_dialog import WEIGHTS_FILTER, WeightsDialog, file_filter
from segview.ui.weights_offer import _downloadable


def test_a_card_without_sha256_is_not_offered_for_download(qtbot):
    assert not _downloadable([("slimsam_77", "slimsam_77.safetensors")])
    dialog = WeightsDialog("slimsam_77", "details", downloadable=False)
    qtbot.addWidget(dialog)
    assert "download" not in dialog.buttons
    texts = {button.text() for button in QMessageBox.buttons(dialog)}
    assert "Download" not in texts and "Use a local file…" in texts
    assert dialog.defaultButton() is dialog.buttons["local"]
    assert "cannot download" in dialog.informativeText()


def test_torchvision_and_hashed_cards_are_offered_for_download(qtbot):
    assert _downloadable([("fcn_resnet50", "fcn_resnet50_coco-1167a1af.pth")])
    assert not _downloadable([("fcn_resnet50", "x.pth"), ("owlv2_base", "owlv2_base.safetensors")])
    dialog = WeightsDialog("fcn_resnet50", "details")
    qtbot.addWidget(dialog)
    assert dialog.defaultButton() is dialog.buttons["download"]
    assert ".pth" not in dialog.informativeText()


def test_the_file_dialog_filter_shows_the_file_kind_asked_for():
    assert file_filter("fcn_resnet50_coco-1167a1af.pth") == WEIGHTS_FILTER
    assert file_filter("slimsam_77.safetensors").startswith("safetensors files (*.safetensors)")
    assert file_filter("owlv2_base.vocab.json").startswith("json files (*.json)")
    assert file_filter("slimsam_77.safetensors").endswith("All files (*)")
