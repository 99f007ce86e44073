"""The weights question fits the model's source: no Download button for a card segview cannot download
(no SHA-256 to check the file against), and the file dialog shows the kind of file asked for."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from segview.ui.dialogs.download_dialog import WEIGHTS_FILTER, WeightsDialog, file_filter
from segview.ui.weights_offer import _downloadable, _shown_name
from tests.user_dirs import use_user_dirs


def test_a_card_without_sha256_is_not_offered_for_download(qtbot, monkeypatch, tmp_path):
    from segview.inference.cards import get_card
    from segview.inference.weights import WeightsError, ensure_weights, remote_weights
    from tests.inference.tiny_sam import write_sam_card

    use_user_dirs(monkeypatch, tmp_path)  # no copy of the file anywhere
    write_sam_card(tmp_path / "data" / "models", "unhashed", url="https://example.org/unhashed.safetensors")
    assert not _downloadable([("unhashed", "unhashed.safetensors")])
    card = get_card("unhashed")
    with pytest.raises(WeightsError) as refused:
        ensure_weights(card)
    message = str(refused.value)
    dialog = WeightsDialog("unhashed", message, downloadable=False)
    qtbot.addWidget(dialog)
    assert "download" not in dialog.buttons
    texts = {button.text() for button in QMessageBox.buttons(dialog)}
    assert "Download" not in texts and "Use a local file…" in texts
    assert dialog.defaultButton() is dialog.buttons["local"]
    text = dialog.informativeText()
    assert "cannot be downloaded" in text and remote_weights(card).url in text  # the address in view
    assert "pass its path" not in text and "…." not in text
    assert not _downloadable([("fcn_resnet50", "x.pth"), ("unhashed", "unhashed.safetensors")])


def test_torchvision_hashed_and_hub_checked_cards_are_offered_for_download(qtbot):
    assert _downloadable([("fcn_resnet50", "fcn_resnet50_coco-1167a1af.pth")])
    assert _downloadable([("fcn_resnet50", "x.pth"), ("owlv2_base", "owlv2_base.safetensors")])
    assert _downloadable([("edgetam", "edgetam.safetensors")])  # checked against the Hub's record
    dialog = WeightsDialog("fcn_resnet50", "details")
    qtbot.addWidget(dialog)
    assert dialog.defaultButton() is dialog.buttons["download"]
    assert ".pth" not in dialog.informativeText()


def test_the_file_dialog_filter_shows_the_file_kind_asked_for():
    assert file_filter("fcn_resnet50_coco-1167a1af.pth") == WEIGHTS_FILTER
    assert file_filter("slimsam_77.safetensors").startswith("safetensors files (*.safetensors)")
    assert file_filter("owlv2_base.vocab.json").startswith("json files (*.json)")
    assert file_filter("slimsam_77.safetensors").endswith("All files (*)")


def test_the_dialog_names_a_model_as_the_menus_do_with_its_card_name():
    assert _shown_name("edgetam") == "EdgeTAM (edgetam)"
    assert _shown_name("owlv2_base").endswith("(owlv2_base)") and _shown_name("owlv2_base") != "owlv2_base"
    assert _shown_name("no_such_card") == "no_such_card"
