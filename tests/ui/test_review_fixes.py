"""Regressions found while using segview as a new user (bad input, odd images, second windows)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox


def _no_boxes(monkeypatch):
    shown = []
    for kind in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda _p, title, text, *a, **k: shown.append((title, text))))
    return shown


def test_folder_with_a_corrupt_image_opens_and_says_which_file(qtbot, window, scenes, monkeypatch):
    (scenes / "zz_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    shown = _no_boxes(monkeypatch)
    window.open_path(scenes)
    assert shown == []
    assert len(window.workspace.entries) >= 3
    assert window.current == 0
    assert "zz_corrupt.png" in window.statusBar().currentMessage()


def test_edits_do_not_reach_the_previous_image_when_an_unreadable_one_is_chosen(qtbot, window, scenes, monkeypatch):
    from tests.ui.test_main_window import _predict

    (scenes / "zz_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    _no_boxes(monkeypatch)
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    good = window.current_entry()
    assert good.fused is not None and good.fused.segments
    window.browser.select(len(window.workspace.entries) - 1)  # the corrupt file
    assert window.current is None and window.editor.entry is None
    assert "zz_corrupt.png" in window.statusBar().currentMessage()
    window.editor.actions_.accept_all.trigger()
    assert good.annotation is None
    window.browser.select(0)  # back to a readable image: editing works again
    window.editor.actions_.accept_all.trigger()
    assert good.annotation is not None and good.annotation.segments


def test_model_with_a_checkpoint_of_another_architecture_says_so_once(qtbot, window, scenes):
    import torch

    from segview.inference.user_cards import register_checkpoint
    from tests.ui.test_main_window import _predict

    checkpoint = scenes.parent / "wrong.pt"
    torch.save({"model": {"foo.weight": torch.zeros(3, 3)},
                "categories": [{"id": 1, "name": "ball", "isthing": True}]}, checkpoint)
    card = register_checkpoint("review_wrong_arch", checkpoint, "tiny_inst")
    try:
        window.open_path(scenes)
        failures = []
        window.bridge.failed.connect(lambda path, message: failures.append(path))
        with qtbot.waitSignal(window.bridge.model_failed, timeout=30000):
            window.set_model("review_wrong_arch")
        qtbot.waitUntil(lambda: len(failures) >= 2, timeout=30000)  # the image and its neighbour
        assert "failed to load" in window.device_label.text()
        message = window.statusBar().currentMessage()
        assert message.startswith("Model review_wrong_arch cannot be used") and "does not fit" in message
        _predict(qtbot, window)  # another model works afterwards
        assert "tiny_inst on CPU" in window.device_label.text()
    finally:
        card.path.unlink()


def test_labelme_folder_with_a_broken_json_names_the_file(qtbot, window, scenes, monkeypatch):
    import json
    import shutil

    folder = scenes.parent / "labelme"
    folder.mkdir()
    for name in ("scene_0.png", "scene_1.png"):
        shutil.copy(scenes / name, folder / name)
    (folder / "scene_0.json").write_text("{\"shapes\": [")
    (folder / "scene_1.json").write_text(json.dumps({
        "version": "5.0", "imagePath": "scene_1.png", "imageHeight": 96, "imageWidth": 128,
        "shapes": [{"label": "ball", "points": [[1, 1], [20, 1], [20, 20]], "shape_type": "polygon"}]}))
    shown = _no_boxes(monkeypatch)
    window.open_path(folder)
    assert shown == []
    # Every image of the folder is listed; the one whose labelme file is broken has no annotation.
    assert [e.annotation is not None for e in window.workspace.entries] == [False, True]
    assert "scene_0.json" in window.statusBar().currentMessage()


def test_compare_caption_says_it_once_and_says_when_a_diff_is_not_available(qtbot, window, scenes):
    from tests.ui.test_main_window import _predict

    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.actions_.compare.trigger()
    panel = window.compare
    with qtbot.waitSignal(panel.filled):  # the panes are computed in the background
        panel.diff.setCurrentIndex(panel.diff.findData("prediction-annotation"))
    caption = panel.view.caption
    assert not caption.isHidden() and caption.text() == "Prediction vs annotation: not available for this image"
    with qtbot.waitSignal(panel.filled):
        window.editor.actions_.accept_all.trigger()
    text = caption.text()
    assert text.startswith("Prediction vs annotation: ") and text.count("pixels disagree") == 1


def test_cancelling_a_batch_still_predicts_the_image_on_screen(qtbot, window, scenes):
    window.open_path(scenes)
    window.set_model("tiny_sem")
    window.actions_.run_all.trigger()
    window.actions_.cancel.trigger()  # before anything finished: the visible request was dropped too
    assert window.statusBar().currentMessage() == "Batch cancelled"
    qtbot.waitUntil(lambda: window.current_entry().prediction is not None, timeout=60000)



def test_splitting_a_single_piece_says_there_is_nothing_to_split(qtbot, window, scenes):
    from PySide6.QtCore import QPointF, Qt

    from tests.ui.test_main_window import _predict

    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    editor, canvas = window.editor, window.canvas
    editor.tool_actions["brush"].trigger()
    editor.select([])
    assert editor.panel.set_category(next(c for c in window.workspace.model_categories if c.isthing).id)
    start, end = (canvas.mapFromScene(QPointF(*p)) for p in ((20.0, 20.0), (50.0, 30.0)))
    no = Qt.KeyboardModifier.NoModifier
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, no, start)
    qtbot.mouseMove(canvas.viewport(), end)
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, no, end)
    (sid,) = window.current_entry().annotation.segments
    editor.select([sid])
    editor.actions_.split.trigger()
    assert list(window.current_entry().annotation.segments) == [sid]
    assert window.statusBar().currentMessage().startswith("Nothing to split")


def test_export_dialog_scopes_say_what_they_export_not_the_old_wording(qtbot, window, scenes):
    from segview.ui.dialogs.export_dialog import SCOPE_LABELS

    window.open_path(scenes)  # no model: no image has a result yet
    dialog = window.open_export_dialog()
    assert dialog.scope_buttons["all"].text() == SCOPE_LABELS["all"]
    assert "with results (" not in dialog.scope_buttons["all"].text()
    dialog.close()


def test_a_neighbour_that_fails_to_predict_does_not_take_over_the_status_bar(qtbot, window, scenes, monkeypatch):
    from tests.ui.test_main_window import _predict

    (scenes / "zz_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    _no_boxes(monkeypatch)
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    window.statusBar().showMessage("hello")
    with qtbot.waitSignal(window.bridge.failed, timeout=30000):
        window.browser.select(len(window.workspace.entries) - 2)  # the corrupt file is its neighbour
    assert window.statusBar().currentMessage() == "hello"


def test_a_malformed_dataset_does_not_close_the_open_folder_project(qtbot, window, scenes, monkeypatch):
    from tests.ui.test_main_window import _predict

    shown = _no_boxes(monkeypatch)
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    broken = scenes.parent / "broken.json"
    broken.write_text('{"images": [')
    window.open_path(broken)
    assert shown and shown[0][0] == "Cannot open"
    project = window.project_link.project
    assert project is not None  # edits made after the failed open are still journaled
    window.editor.actions_.accept_all.trigger()
    name = window.current_entry().path.name
    assert name in project.corrected_names() or project.load_annotation(name) is not None


def test_a_folder_open_in_another_window_opens_read_only(qtbot, window, scenes, monkeypatch, tmp_path):
    from segview.core.segments import Annotation, Segment
    from segview.io.project import Project

    shown = _no_boxes(monkeypatch)
    window.open_path(scenes)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.png").write_bytes((scenes / "scene_0.png").read_bytes())
    with Project.open(other) as held:  # another segview has it, with a saved correction
        height, width = held.image_size("a.png")[::-1]
        saved = Annotation(height, width)
        saved.add(np.ones((height, width), bool), Segment(1))
        held.save_annotation("a.png", saved)
        window.open_path(other)
        assert not shown  # no refusal, no blocking box: the images are shown
        assert window.project_link.project is None and window.project_link.read_only
        assert window.windowTitle().endswith("(read-only)")
        assert "another segview" in window.statusBar().currentMessage()
        assert "read-only" in window.statusBar().currentMessage()
        assert window.current_entry().annotation.segment_map.tobytes() == saved.segment_map.tobytes()
        notice = window.read_only_notice  # said once, in a box that does not block the window
        assert notice is not None and notice.isVisible() and not notice.isModal()
        assert "not saved" in notice.text() and "another segview" in notice.text()
        banner = window.read_only_banner  # and said as long as the folder is shown
        assert banner.isVisible() and banner.text().startswith("Read-only: edits here are not saved")
        window.statusBar().showMessage("something else")
        window.browser.select(0)
        assert banner.isVisible()
    window.open_path(scenes)  # a folder of its own gets a project again
    assert window.project_link.project.folder == scenes.resolve() and not window.project_link.read_only
    assert not window.windowTitle().endswith("(read-only)")
    assert not window.read_only_banner.isVisible() and not notice.isVisible()


def test_a_folder_that_cannot_be_written_says_so_and_keeps_saying_it(qtbot, window, scenes, monkeypatch):
    from segview.errors import ProjectReadOnlyError
    from segview.io.project import Project

    shown = _no_boxes(monkeypatch)

    def refuse(folder, *args, **kwargs):
        raise ProjectReadOnlyError(f"{folder} cannot be written.")

    monkeypatch.setattr(Project, "open", staticmethod(refuse))
    window.open_path(scenes)
    assert not shown and window.project_link.read_only
    assert window.read_only_notice.isVisible() and "not saved" in window.read_only_notice.text()
    assert window.read_only_banner.isVisible()


def test_an_unreadable_first_image_does_not_keep_the_model_from_loading(qtbot, window, scenes, monkeypatch):
    (scenes / "a_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")  # sorts first
    _no_boxes(monkeypatch)
    with qtbot.waitSignal(window.bridge.prediction_ready, timeout=60000):
        window.open_path(scenes)
        window.set_model("tiny_sem")
        assert window.current is None  # the first image cannot be shown
    qtbot.waitUntil(lambda: window.workspace.entries[1].prediction is not None, timeout=60000)
    assert len(window.workspace.model_categories)  # its classes are there to label with
