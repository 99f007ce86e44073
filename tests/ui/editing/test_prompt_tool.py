"""The prompt tool (T) driven with real mouse and key events on the canvas, with a tiny random-weight SAM
(and EdgeTAM, of the SAM 2 family) in the model process: hover preview, clicks, right click, Tab, Enter,
Shift/Alt+Enter, Escape, undo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from segview.ui.editing.prompt_session import MODEL_KEY
from tests.inference.tiny_models import write_tiny_cards
from tests.inference.tiny_sam import write_edgetam_card, write_sam_card
from tests.ui.conftest import shown_window
from tests.ui.editing.test_editor import CATEGORIES, LEFT, NONE, _pos

RIGHT = Qt.MouseButton.RightButton
TIMEOUT = 60_000  # ms: the first prompt loads the model in a busy child


@pytest.fixture(scope="session")
def prompt_data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prompt-data")
    write_tiny_cards(folder / "models")
    write_sam_card(folder / "models")
    write_edgetam_card(folder / "models")
    return folder


@pytest.fixture(params=["tiny_sam"])
def prompt_window(qtbot, tmp_path, monkeypatch, prompt_data_dir, scenes, request):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(prompt_data_dir))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    window = shown_window(qtbot, tmp_path)
    window.settings.setValue(MODEL_KEY, request.param)
    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    window.refresh_layers()
    yield window
    window.bridge.shutdown()


def _answer(qtbot, window, action):
    """Run ``action`` and wait for the masks it asks for; returns the tool."""
    with qtbot.waitSignal(window.bridge.prompt_ready, timeout=TIMEOUT):
        action()
    return window.editor.tools["prompt"]


def _mask(tool, shape):
    """The candidate shown now, as a full-image mask."""
    crop = tool.current()
    full = np.zeros(shape, bool)
    full[crop.y:crop.y + crop.mask.shape[0], crop.x:crop.x + crop.mask.shape[1]] = crop.mask
    return full


@pytest.mark.parametrize("prompt_window", ["tiny_sam", "tiny_edgetam"], indirect=True)
def test_hover_click_tab_enter_undo(qtbot, prompt_window):
    window, canvas = prompt_window, prompt_window.canvas
    with qtbot.waitSignal(window.bridge.embedding_ready, timeout=TIMEOUT) as embedded:
        qtbot.keyClick(canvas, Qt.Key.Key_T)  # the tool's shortcut: the image's embedding is asked for
    assert canvas.tool is window.editor.tools["prompt"]
    assert embedded.args[0] == window.current_entry().path
    assert window.statusBar().currentMessage().startswith("Prompt tool: click an object")

    # before the first click, the mask under the cursor is previewed (the pointer first goes elsewhere: an
    # earlier test may have left it on this very spot, where a move is no move)
    _answer(qtbot, window, lambda: qtbot.mouseMove(canvas.viewport(), _pos(canvas, 10, 10)))
    tool = _answer(qtbot, window, lambda: qtbot.mouseMove(canvas.viewport(), _pos(canvas, 40, 30)))
    assert tool.current() is not None and not tool.prompts
    assert canvas.tool_overlay._masks  # painted as a mask

    # a click: one positive point, three candidates best first; Tab cycles them
    tool = _answer(qtbot, window, lambda: qtbot.mouseClick(canvas.viewport(), LEFT, NONE, _pos(canvas, 40, 30)))
    (x, y, positive), = tool.prompts.points
    assert positive and (x, y) == pytest.approx((40, 30), abs=1.5)  # where the view put the click
    assert len(tool.candidates) == 3
    scores = [score for _mask, score in tool.candidates]
    assert scores == sorted(scores, reverse=True)
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert tool.index == 1 and canvas.hasFocus()  # Tab stayed with the canvas
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert tool.index == 0
    pick = next(i for i, (crop, _s) in enumerate(tool.candidates) if crop.mask.any())
    for _ in range(pick):
        qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    shown = _mask(tool, window._image.shape[:2])

    # Enter: a new segment of the current class, exactly the mask shown, one undo step
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    annotation = window.current_entry().annotation
    (sid,) = annotation.segments
    assert annotation.segments[sid].category_id == window.editor.category_id
    assert np.array_equal(annotation.segment_map == sid, shown)
    assert not tool.prompts and tool.current() is None and window.editor.selection == [sid]
    assert window.editor.stacks.group.activeStack().count() == 1
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not (annotation.segment_map == sid).any()


def test_the_prompt_model_is_chosen_in_the_tools_menu(prompt_window):
    from PySide6.QtGui import QAction

    window = prompt_window
    names = {a.objectName() for a in window.findChildren(QAction) if a.objectName().startswith("prompt-model-")}
    assert {"prompt-model-slimsam_77", "prompt-model-sam_vit_b", "prompt-model-tiny_sam"} <= names
    window.findChild(QAction, "prompt-model-sam_vit_b").trigger()
    assert window.editor.prompts.model == "sam_vit_b" and window.settings.value(MODEL_KEY) == "sam_vit_b"
    from segview.ui.model_control import available_models

    listed = {entry.name for entry in available_models()}  # the Model panel: prediction models only
    assert "tiny_inst" in listed and not listed & {"sam_vit_b", "slimsam_77", "tiny_sam"}


def test_a_prompt_card_added_while_the_window_runs_is_listed_when_the_menu_opens(prompt_window, tmp_path,
                                                                                monkeypatch):
    from PySide6.QtWidgets import QMenu

    window = prompt_window
    menu = next(m for m in window.findChildren(QMenu) if m.title() == "&Prompt Model")
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))  # a data folder with one more card
    write_sam_card(tmp_path / "data" / "models", "added_sam")
    menu.aboutToShow.emit()
    names = [action.objectName() for action in menu.actions()]
    assert "prompt-model-added_sam" in names and names.count("prompt-model-added_sam") == 1
    next(action for action in menu.actions() if action.objectName() == "prompt-model-added_sam").trigger()
    menu.aboutToShow.emit()
    assert [action.objectName() for action in menu.actions() if action.isChecked()] == ["prompt-model-added_sam"]


def test_right_click_is_negative_and_escape_clears(qtbot, prompt_window):
    window, canvas = prompt_window, prompt_window.canvas
    window.editor.set_tool("prompt")
    _answer(qtbot, window, lambda: qtbot.mouseClick(canvas.viewport(), LEFT, NONE, _pos(canvas, 20, 20)))
    tool = _answer(qtbot, window, lambda: qtbot.mouseClick(canvas.viewport(), RIGHT, NONE, _pos(canvas, 90, 60)))
    assert [p[2] for p in tool.prompts.points] == [True, False]
    assert len(tool.candidates) == 1  # two points: SAM's single mask
    tool = _answer(qtbot, window, lambda: qtbot.mouseClick(
        canvas.viewport(), LEFT, Qt.KeyboardModifier.ShiftModifier, _pos(canvas, 100, 10)))
    assert [p[2] for p in tool.prompts.points] == [True, False, False]  # Shift+click: negative too
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not tool.prompts and tool.current() is None and not canvas.tool_overlay._masks


def test_a_box_then_shift_enter_adds_and_alt_enter_cuts(qtbot, prompt_window):
    window, canvas = prompt_window, prompt_window.canvas
    window.editor.set_tool("prompt")
    shape = window._image.shape[:2]

    def drag():
        viewport = canvas.viewport()
        qtbot.mousePress(viewport, LEFT, NONE, _pos(canvas, 10, 10))
        qtbot.mouseMove(viewport, _pos(canvas, 60, 50))
        qtbot.mouseRelease(viewport, LEFT, NONE, _pos(canvas, 60, 50))

    tool = _answer(qtbot, window, drag)
    assert tool.prompts.box is not None and not tool.prompts.points
    # a segment to add to / cut from: a square drawn with the polygon tool's edit
    from segview.core import edits
    from segview.core.segments import Segment

    history = window.editor.history()
    square = edits.polygon_mask([(0, 0), (128, 0), (128, 96), (0, 96)], height=shape[0], width=shape[1])
    sid, atom = edits.new_segment(history.annotation, square, Segment(2), categories=CATEGORIES)
    history.apply(atom, "square")
    window.editor.select([sid])
    shown = _mask(tool, shape)
    assert shown.any() and not shown.all()  # (the tiny model's weights are seeded)
    qtbot.keyClick(canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)  # cut out of the selection
    annotation = history.annotation
    assert not (annotation.segment_map[shown] == sid).any()
    assert (annotation.segment_map[~shown] == sid).all()
    tool = _answer(qtbot, window, drag)
    qtbot.keyClick(canvas, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # add it back
    assert (annotation.segment_map == sid).all() and len(annotation.segments) == 1


def test_missing_prompt_weights_are_offered_once_and_getting_them_keeps_the_model(qtbot, prompt_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warned.append(text))
    window, canvas = prompt_window, prompt_window.canvas
    window.editor.prompts.set_model("slimsam_77")  # no weights here (nothing downloads in tests)
    asked = []
    window.editor.prompts.weights_wanted.connect(lambda name, _message, files: asked.append((name, files)))
    qtbot.keyClick(canvas, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: window.weights_offer.dialog is not None, timeout=TIMEOUT)
    assert asked == [("slimsam_77", [("slimsam_77", "slimsam_77.safetensors")])]
    with qtbot.waitSignal(window.bridge.prompt_weights_missing, timeout=TIMEOUT):
        qtbot.mouseClick(canvas.viewport(), LEFT, NONE, _pos(canvas, 30, 30))
    assert len(asked) == 1  # not again for every prompt
    assert "slimsam_77" in window.statusBar().currentMessage()
    first = window.weights_offer.dialog
    first.buttons["later"].click()  # "Not now": remembered for the prediction models
    window.editor.set_tool("brush")
    window.editor.tool_actions["prompt"].trigger()  # choosing the tool again asks again
    qtbot.waitUntil(lambda: len(asked) == 2 and window.weights_offer.dialog not in (None, first), timeout=TIMEOUT)
    window.bridge.download_finished.emit("slimsam_77", False, "not the file")  # a failed "Use a local file…"
    with qtbot.waitSignal(window.bridge.prompt_weights_missing, timeout=TIMEOUT):
        qtbot.mouseClick(canvas.viewport(), LEFT, NONE, _pos(canvas, 50, 40))
    assert len(asked) == 2  # a failure does not bring the offer back at the next prompt: T does
    assert "choose the prompt tool again (T), then Use a local file…" not in warned[0]  # not a download
    window.weights_offer._downloading = True  # a download's failure gives the prompt tool's way to a local copy
    window.bridge.download_finished.emit("slimsam_77", False, "Downloading failed.")
    assert warned[1].endswith("choose the prompt tool again (T), then Use a local file…")
    before = window.bridge.model_name
    window.weights_offer.dialog.close()
    window.weights_offer._finished("slimsam_77", True, "")  # as after "Use a local file…"
    assert window.bridge.model_name == before  # the prediction model stays what it was
