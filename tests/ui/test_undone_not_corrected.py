"""Undoing every step of an image leaves it as it was before its first edit, not "corrected" (issue 9's
honest state): the window's status and browser mark, the prediction back in view, the project and the
export of the corrected images, and after a restart. Redo brings it back to corrected."""

from __future__ import annotations

import json

from segview.cli import main
from segview.core.workspace import ImageStatus
from segview.ui.docks.browser import STATUS_ROLE
from tests.ui.editing.test_editor import _with_prediction
from tests.ui.test_no_lost_edits import _restart


def _mark(window, index: int) -> str:
    return window.browser.model.index(index, 0).data(STATUS_ROLE)


def _legend_pixels(window) -> list[str]:
    table = window.legend.table
    return [table.item(row, 2).text() for row in range(table.rowCount())]


def _training_images(window) -> list[str]:
    """The images the training panel lists (as the menu opens it)."""
    panel = window.training.open_panel()
    listed = [panel.images.item(i).text().split(" — ")[0] for i in range(panel.images.count())]
    panel.close()
    return listed


def _exported(folder, out) -> list[str]:
    """The images ``segview export FOLDER --to coco`` (corrected scope) writes, by file name."""
    assert main(["export", str(folder), "--to", "coco", "--out", str(out)]) == 0
    return [image["file_name"] for image in json.loads((out / "instances.json").read_text())["images"]]


def test_accept_all_then_undo_leaves_the_image_uncorrected(qtbot, editor_window, scenes, tmp_path):
    window = editor_window
    window.browser.select(1)
    entry = _with_prediction(window)
    window.refresh_legend()
    predicted_shares = _legend_pixels(window)
    window.editor.actions_.accept_all.trigger()
    qtbot.waitUntil(lambda: entry.status is ImageStatus.CORRECTED)
    assert _mark(window, 1) == ImageStatus.CORRECTED.value
    assert window.layers_panel.annotated  # the accepted segments replace the prediction on screen

    window.editor.actions_.undo.trigger()
    assert entry.status is ImageStatus.PREDICTED and _mark(window, 1) == ImageStatus.PREDICTED.value
    assert not window.layers_panel.annotated  # the prediction shows again
    assert _legend_pixels(window) == predicted_shares  # and the legend counts its pixels, not the emptied map
    project = window.project_link.project
    assert project.corrected_names() == [] and project.dataset("corrected").images == []
    assert _exported(scenes, tmp_path / "out1") == []  # the window holds the project: read without its lock
    window.browser.select(0)
    window.browser.select(1)
    assert not window.layers_panel.annotated  # shown again later: the prediction still in view

    assert _training_images(window) == []  # Model → Train on Corrected Images… leaves it out

    window.editor.actions_.redo.trigger()
    assert entry.status is ImageStatus.CORRECTED and _mark(window, 1) == ImageStatus.CORRECTED.value
    assert project.corrected_names() == ["scene_1.png"] and _training_images(window) == ["scene_1.png"]
    window.editor.actions_.undo.trigger()

    window = _restart(qtbot, window, tmp_path)  # quitting and reopening: still not corrected
    window.open_path(scenes)
    assert [e.status for e in window.workspace.entries] == [ImageStatus.NONE] * 3
    assert [_mark(window, i) for i in range(3)] == [ImageStatus.NONE.value] * 3
    window.close()
    window.bridge.shutdown()
    assert _exported(scenes, tmp_path / "out2") == []


def test_undo_of_an_earlier_session_back_to_the_start_uncorrects(qtbot, editor_window, scenes, tmp_path):
    window = editor_window
    window.browser.select(1)
    _with_prediction(window)
    window.editor.actions_.accept_all.trigger()
    qtbot.waitUntil(lambda: window.current_entry().status is ImageStatus.CORRECTED)

    window = _restart(qtbot, window, tmp_path)
    window.open_path(scenes)
    assert window.current == 1 and window.current_entry().status is ImageStatus.CORRECTED
    assert window.layers_panel.annotated
    window.editor.actions_.undo.trigger()  # the step of the earlier session
    assert window.current_entry().status is not ImageStatus.CORRECTED
    assert not window.layers_panel.annotated  # the prediction shows again
    assert _mark(window, 1) != ImageStatus.CORRECTED.value
    assert window.project_link.project.corrected_names() == []
