"""Model → Find by name… in the window: a tiny random OWLv2 and a tiny random SAM run in the model process,
their result arrives as the image's prediction, is accepted and exported like any model's."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools.coco import COCO
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QPushButton

from segview.core.candidates import EverythingParams
from segview.core.categories import Category
from segview.ui.dialogs.find_by_name import FindByNameDialog
from segview.ui.dialogs.missing_files import MissingFilesBox
from segview.ui.editing.candidate_tool import CANDIDATES_LAYER
from segview.ui.editing.prompt_session import MODEL_KEY
from tests.inference.tiny_detectors import write_tiny_detector
from tests.inference.tiny_models import write_tiny_cards
from tests.inference.tiny_sam import write_sam_card
from tests.ui.conftest import shown_window
from tests.ui.test_main_window import _predict

UNFETCHED = "tiny_sam_unfetched"  # a prompt card whose weights are not here until a person gives them


@pytest.fixture(scope="module")
def grounded_models_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("grounded-data")
    write_tiny_cards(data_dir / "models")
    write_tiny_detector(data_dir / "models")
    write_sam_card(data_dir / "models")
    write_sam_card(data_dir / "models", UNFETCHED, url=f"https://example.invalid/{UNFETCHED}.safetensors")
    return data_dir


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, grounded_models_dir):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(grounded_models_dir))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    win = shown_window(qtbot, tmp_path)
    yield win
    win.bridge.shutdown()


def _answer(monkeypatch, names: str, seen: list[str], detector: str = "tiny_owl", prompt: str = "tiny_sam"):
    """Find by name's dialog: note its default names, type ``names``, pick ``detector`` and ``prompt``, Find."""

    def run(dialog: FindByNameDialog) -> int:
        seen.append(dialog.names.text())
        dialog.names.setText(names)
        dialog.detector.setCurrentIndex(dialog.detector.findData(detector))
        dialog.prompt_model.setCurrentIndex(dialog.prompt_model.findData(prompt))
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        return dialog.result()

    monkeypatch.setattr(FindByNameDialog, "exec", run)


def test_found_objects_arrive_as_a_prediction_that_is_accepted_and_exported(qtbot, window, scenes, monkeypatch,
                                                                               tmp_path):
    window.open_path(scenes)
    window.workspace.categories.add(Category(7, "Helmet", True))  # a class of the project
    window.workspace.set_params(score_threshold=0.0)
    seen: list[str] = []
    _answer(monkeypatch, "helmet, flag", seen)
    with qtbot.waitSignal(window.find_by_name.finished, timeout=120000) as blocker:
        window.actions_.find_by_name.trigger()
    assert seen == ["Helmet"]  # the project's classes by default
    assert blocker.args[0] == window.current_entry().path and "Found" in blocker.args[1], blocker.args[1]
    entry = window.current_entry()
    prediction = entry.prediction
    assert prediction.model == "grounded:tiny_owl+tiny_sam" and prediction.instances
    names = {window.workspace.model_categories[i.category_id].name for i in prediction.instances}
    assert names <= {"Helmet", "flag"}
    assert {c.id for c in window.workspace.model_categories if c.name == "Helmet"} == {7}  # the project's id
    assert entry.fused is not None and entry.fused.segments  # fused like a model's result: the layers show it

    window.editor.actions_.accept_all.trigger()
    accepted = {window.workspace.categories[s.category_id].name for s in entry.annotation.segments.values()}
    assert accepted == names

    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.folder.setText(str(tmp_path / "export"))
    with qtbot.waitSignal(dialog.export_finished, timeout=60000) as done:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert done.args[0].report.ok, done.args[0].report.format()
    dialog.close()
    coco = COCO(str(tmp_path / "export" / "instances.json"))
    exported = {coco.loadCats(a["category_id"])[0]["name"] for a in coco.loadAnns(coco.getAnnIds())}
    assert exported == names


def test_a_detector_without_its_files_names_each_with_its_url_and_folder(qtbot, window, scenes, monkeypatch,
                                                                         tmp_path):
    window.open_path(scenes)
    cache = tmp_path / "cache" / "weights"
    cache.mkdir(parents=True)
    (cache / "owlv2_base.safetensors").write_bytes(b"the model, not its tokenizer")
    _answer(monkeypatch, "helmet", [], detector="owlv2_base")  # a bundled card, its tokenizer not downloaded
    with qtbot.waitSignal(window.find_by_name.finished, timeout=120000) as blocker:
        window.actions_.find_by_name.trigger()
    assert "clip_vocab.json" in blocker.args[1] and "clip_merges.txt" in blocker.args[1], blocker.args[1]
    assert "owlv2_base.safetensors" not in blocker.args[1]
    assert window.current_entry().prediction is None
    box = window.findChild(MissingFilesBox, "missing-files")
    assert box is not None and box.isVisible()
    text = box.informativeText()
    for file_name, url in (("clip_vocab.json", "vocab.json"), ("clip_merges.txt", "merges.txt")):
        assert f"owlv2-base-patch16-ensemble/resolve/main/{url}" in text and str(cache / file_name) in text
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    qtbot.mouseClick(box.findChild(QPushButton, "missing-files-open"), Qt.MouseButton.LeftButton)
    assert opened == [str(cache)] and box.isVisible()  # the folder opens, the list stays to read
    with qtbot.waitSignal(window.find_by_name.finished, timeout=120000):  # trying again: one box, not two
        window.actions_.find_by_name.trigger()
    qtbot.waitUntil(lambda: len([b for b in window.findChildren(MissingFilesBox) if b.isVisible()]) == 1)
    assert not box.isVisible()


def test_the_missing_files_of_the_detector_and_the_prompt_model_are_named_at_once(qtbot, window, scenes,
                                                                                   monkeypatch, tmp_path):
    window.open_path(scenes)
    _answer(monkeypatch, "ball, crate", [], detector="owlv2_base", prompt="slimsam_77")  # bundled, none here
    with qtbot.waitSignal(window.find_by_name.finished, timeout=120000) as blocker:
        window.actions_.find_by_name.trigger()
    box = window.findChild(MissingFilesBox, "missing-files")
    assert box is not None and box.isVisible() and "owlv2_base and slimsam_77" in box.text()
    text, cache = box.informativeText(), tmp_path / "cache" / "weights"
    for name in ("owlv2_base.safetensors", "clip_vocab.json", "clip_merges.txt", "slimsam_77.safetensors"):
        assert name in blocker.args[1] and str(cache / name) in text, (name, blocker.args[1])
    assert "nielsr/slimsam-77-uniform/resolve/main/model.safetensors" in text
    assert window.current_entry().prediction is None


def _everything_asks_for_weights(qtbot, window):
    """Segment Everything with the prompt model's weights missing: it ends with a status that names the file
    (no internals) and the weights dialog, which is returned."""
    with qtbot.waitSignal(window.segment_everything.finished, timeout=120000) as blocker:
        window.actions_.segment_everything.trigger()
    message = window.statusBar().currentMessage()
    assert blocker.args[1] == message and f"{UNFETCHED}.safetensors" in message, message
    assert "WeightsMissing" not in message and "'missing'" not in message and "failed" not in message
    assert window.segment_everything.pending is None and not window.actions_.cancel.isEnabled()
    dialog = window.weights_offer.dialog
    assert dialog is not None and dialog.isVisible() and UNFETCHED in dialog.text()
    assert "download" not in dialog.buttons  # no SHA-256: Use a local file… or Not now
    return dialog


def test_segment_everything_offers_the_missing_prompt_weights_and_works_once_given(qtbot, window, scenes,
                                                                                    monkeypatch, tmp_path,
                                                                                    grounded_models_dir):
    window.open_path(scenes)
    window.settings.setValue(MODEL_KEY, UNFETCHED)
    window.segment_everything.params = EverythingParams(points_per_side=3, iou_threshold=-1.0,
                                                        stability_threshold=0.0, stability_offset=0.0)
    _everything_asks_for_weights(qtbot, window).buttons["later"].click()
    dialog = _everything_asks_for_weights(qtbot, window)  # asked again after "Not now": the person asked for it
    given = grounded_models_dir / "models" / f"{UNFETCHED}.safetensors"  # the person's copy
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(given), ""))
    with qtbot.waitSignal(window.bridge.download_finished, timeout=120000) as installed:
        dialog.buttons["local"].click()
    assert installed.args[:2] == [UNFETCHED, True], installed.args
    assert (tmp_path / "cache" / "weights" / f"{UNFETCHED}.safetensors").is_file()
    with qtbot.waitSignal(window.segment_everything.finished, timeout=120000) as blocker:
        window.actions_.segment_everything.trigger()  # trying again works
    assert "candidate" in blocker.args[1] and window.current_entry().candidates is not None, blocker.args[1]


def test_a_search_dropped_by_cancel_batch_clears_finding_from_the_status_bar(qtbot, window, scenes, monkeypatch):
    window.open_path(scenes)
    window.actions_.run_all.trigger()  # no model chosen: the batch counts the images, Cancel is on
    assert window.actions_.cancel.isEnabled()
    _answer(monkeypatch, "helmet", [])
    window.actions_.find_by_name.trigger()
    assert window.statusBar().currentMessage().startswith("Finding helmet")
    with qtbot.waitSignal(window.find_by_name.finished, timeout=5000) as blocker:
        window.actions_.cancel.trigger()
    assert blocker.args[0] == window.current_entry().path and "cancelled" in blocker.args[1]
    assert "Finding" not in window.statusBar().currentMessage()
    assert window.find_by_name.pending is None


def test_segment_everything_candidates_become_segments_of_the_class_picked(qtbot, window, scenes):
    window.open_path(scenes)
    window.workspace.categories.add(Category(3, "crate", True))
    window.classes_panel.set_categories(window.workspace.categories)
    window.editor.panel.set_categories(window.workspace.categories)
    window.editor.prompts.set_model("tiny_sam")  # Edit → Tools → Prompt Model: Segment Everything's too
    window.segment_everything.params = EverythingParams(points_per_side=3, iou_threshold=-1.0,
                                                        stability_threshold=0.0, stability_offset=0.0)
    with qtbot.waitSignal(window.segment_everything.finished, timeout=120000) as blocker:
        window.actions_.segment_everything.trigger()
        assert "with tiny_sam" in window.statusBar().currentMessage()
    entry = window.current_entry()
    candidates = entry.candidates
    assert candidates is not None and len(candidates) and "candidate" in blocker.args[1], blocker.args[1]
    layer = window.canvas.layers()[CANDIDATES_LAYER]
    assert np.array_equal(layer.labels, candidates.label_map())  # their own layer, shown
    assert window.canvas.tool is window.editor.tools["candidates"]

    crop = candidates.masks[-1]
    ys, xs = np.nonzero(crop.mask)
    x, y = crop.x + xs[0] + 0.5, crop.y + ys[0] + 0.5
    taken = candidates.at(x, y)
    viewport = window.canvas.viewport()
    point = window.canvas.mapFromScene(QPointF(x, y))
    qtbot.keyClick(viewport, Qt.Key.Key_1)  # the first class: crate
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    annotation = entry.annotation
    assert annotation is not None and len(annotation.segments) == 1
    (sid, segment), = annotation.segments.items()
    assert window.workspace.categories[segment.category_id].name == "crate"
    painted = np.zeros((entry.candidates.height, entry.candidates.width), bool)
    painted[candidates.masks[taken].slices] = candidates.masks[taken].mask
    assert np.array_equal(annotation.segment_map == sid, painted)
    assert len(entry.candidates) == len(candidates) - 1  # taken out of the candidates and their layer
    assert not np.any(window.canvas.layers()[CANDIDATES_LAYER].labels == len(candidates))
    window.editor.actions_.undo.trigger()
    assert not np.any(entry.annotation.segment_map == sid)  # one undo step
    assert entry.candidates is candidates  # the candidate is back, in its layer too
    assert np.array_equal(window.canvas.layers()[CANDIDATES_LAYER].labels, candidates.label_map())
    window.editor.actions_.redo.trigger()
    assert np.array_equal(entry.annotation.segment_map == sid, painted)
    assert len(entry.candidates) == len(candidates) - 1
    assert not np.any(window.canvas.layers()[CANDIDATES_LAYER].labels == len(candidates))


def test_segment_everything_shows_its_progress_and_esc_stops_it(qtbot, window, scenes):
    window.open_path(scenes)
    window.settings.setValue(MODEL_KEY, "tiny_sam")
    window.segment_everything.params = EverythingParams(points_per_side=32, points_per_batch=1)  # 1024 batches
    assert not window.actions_.cancel.isEnabled()
    with qtbot.waitSignal(window.bridge.everything_progress, timeout=120000,
                          check_params_cb=lambda path, done, total: done > 0) as progress:
        window.actions_.segment_everything.trigger()
    assert progress.args[2] == 1024 and 0 < progress.args[1] < 1024
    assert f"{progress.args[1]} of 1024 points" in window.statusBar().currentMessage()
    assert window.actions_.cancel.isEnabled()
    with qtbot.waitSignal(window.segment_everything.finished, timeout=5000) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert "cancelled" in blocker.args[1] and "points" not in window.statusBar().currentMessage()
    assert not window.actions_.cancel.isEnabled() and window.segment_everything.pending is None
    assert window.bridge.pending() == 0  # the job is dropped: its next batch does not run
    assert window.current_entry().candidates is None


def test_found_classes_survive_the_models_results_on_other_images(qtbot, window, scenes, monkeypatch):
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_inst")  # the model in use answers the image on screen
    window.workspace.set_params(score_threshold=0.0)
    _answer(monkeypatch, "helmet", [])
    with qtbot.waitSignal(window.find_by_name.finished, timeout=120000):
        window.actions_.find_by_name.trigger()
    found = window.current_entry()
    helmet = next(c for c in window.workspace.model_categories if c.name == "helmet")
    assert {i.category_id for i in found.prediction.instances} == {helmet.id}
    assert helmet.id not in {1, 2}  # after the model's classes (ball 1, crate 2)

    with qtbot.waitSignal(window.bridge.prediction_ready, timeout=60000):
        window.browser.select_next()  # the model answers the next image: its classes become the model's
    assert window.workspace.model_categories.get(helmet.id) == helmet
    window.browser.select_previous()
    qtbot.waitUntil(lambda: window.current_entry() is found)
    window.editor.actions_.accept_all.trigger()
    names = {window.workspace.categories[s.category_id].name for s in found.annotation.segments.values()}
    assert names == {"helmet"}


def test_files_segview_can_check_are_downloaded_from_the_box_and_the_search_runs_again(qtbot, window, scenes,
                                                                                     monkeypatch, tmp_path,
                                                                                     grounded_models_dir):
    """The prompt model's weights are on a Hub-like server (127.0.0.1) that records their SHA-256: the box
    offers Download, the file arrives checked, and the search the person asked for runs again by itself."""
    import hashlib

    from tests.file_server import serving_files

    weights = (grounded_models_dir / "models" / "tiny_sam.safetensors").read_bytes()
    with serving_files() as httpd:
        httpd.files["cdn/hub_sam.safetensors"] = weights
        httpd.redirects["o/r/resolve/main/model.safetensors"] = (
            302, f"{httpd.url}/cdn/hub_sam.safetensors", {"X-Linked-Etag": f'"{hashlib.sha256(weights).hexdigest()}"'})
        card = write_sam_card(grounded_models_dir / "models", "hub_sam",
                              url=f"{httpd.url}/o/r/resolve/main/model.safetensors", hub=True)
        window.open_path(scenes)
        _answer(monkeypatch, "ball", [], detector="tiny_owl", prompt="hub_sam")
        with qtbot.waitSignal(window.find_by_name.finished, timeout=120000) as blocker:
            window.actions_.find_by_name.trigger()
        assert "hub_sam.safetensors" in blocker.args[1]
        box = window.findChild(MissingFilesBox, "missing-files")
        assert box.isVisible() and box.windowTitle() == "Files to download" and box.download_button is not None
        with qtbot.waitSignal(window.find_by_name.finished, timeout=120000) as again:
            qtbot.mouseClick(box.download_button, Qt.MouseButton.LeftButton)
    card.path.unlink()  # the card's server is gone
    assert (tmp_path / "cache" / "weights" / "hub_sam.safetensors").read_bytes() == weights
    assert again.args[1].startswith("Found "), again.args[1]
    assert window.current_entry().prediction is not None


def test_a_failed_download_from_the_box_says_the_windows_way_and_lists_the_files_again(qtbot, window, scenes,
                                                                                      monkeypatch, grounded_models_dir):
    from PySide6.QtWidgets import QMessageBox

    from tests.file_server import serving_files

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warned.append(text))
    with serving_files() as httpd:  # the Hub-like server has lost the file: HTTP 404
        card = write_sam_card(grounded_models_dir / "models", "gone_sam",
                              url=f"{httpd.url}/o/r/resolve/main/model.safetensors", hub=True)
        window.open_path(scenes)
        _answer(monkeypatch, "ball", [], detector="tiny_owl", prompt="gone_sam")
        with qtbot.waitSignal(window.find_by_name.finished, timeout=120000):
            window.actions_.find_by_name.trigger()
        box = window.findChild(MissingFilesBox, "missing-files")
        with qtbot.waitSignal(window.weights_offer.downloads_done, timeout=120000) as done:
            qtbot.mouseClick(box.download_button, Qt.MouseButton.LeftButton)
    assert done.args == [False]
    assert len(warned) == 1 and "HTTP 404" in warned[0] and "Find by Name… lists (Open folder)" in warned[0]
    assert box.isVisible()  # the files and where they go, to read again
    seen = []
    _answer(monkeypatch, "ball", seen, detector="tiny_owl", prompt="gone_sam")
    with qtbot.waitSignal(window.find_by_name.finished, timeout=120000):
        window.actions_.find_by_name.trigger()
    assert seen == ["ball"]  # the names typed last, not retyped
    card.path.unlink()
