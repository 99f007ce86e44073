"""No edit is lost (issue 9, item 1): datasets get a project, a labelme folder lists every image, Accept all
asks before it changes corrections, read-only places say so and ask on quit, a restart comes back to
the last edited image and counts the recovered steps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from segview.core.segments import Source
from segview.io.coco import save_coco
from segview.io.project import DB_DIR
from tests.factories import make_dataset, write_image
from tests.ui.answers import answer
from tests.ui.conftest import shown_window
from tests.ui.editing.test_editor import CATEGORIES, _drag, _with_prediction


def _restart(qtbot, window, tmp_path):
    """Close the window (as quitting does) and start a new one with the same settings."""
    window.close()
    window.bridge.shutdown()
    return shown_window(qtbot, tmp_path)


def _brush(qtbot, window, y: int, pieces: int = 2) -> None:
    """A brush stroke of ``pieces`` moves along row ``y`` (one step)."""
    window.editor.select([])
    window.editor.tool_actions["brush"].trigger()
    _drag(qtbot, window.canvas, [(5 + 6 * i, y + (i % 2)) for i in range(pieces + 1)])


@pytest.fixture
def coco(tmp_path):
    folder = tmp_path / "ds"
    save_coco(make_dataset(folder, n_images=3), folder / "instances.json")
    return folder / "instances.json"


def test_edits_on_a_coco_dataset_come_back_after_a_restart(qtbot, window, coco, tmp_path):
    window.open_path(coco)
    assert window.project_link.project is not None
    assert window.project_link.project.db_path == coco.parent / DB_DIR / "instances.json" / "project.sqlite"
    untouched = window.workspace.entries[2].annotation.copy()
    window.browser.select(1)
    from_dataset = window.current_entry().annotation.copy()
    _brush(qtbot, window, 30)
    edited = window.current_entry().annotation.copy()
    assert not edited.equals(from_dataset)
    assert window.editor.history_view.emptyLabel() == "Opened with its annotation"
    before = coco.read_bytes()

    window = _restart(qtbot, window, tmp_path)
    window.open_path(coco)
    assert window.current == 1  # the image edited last, not the first
    assert window.current_entry().annotation.equals(edited)  # the dataset is not imported over the edits
    assert window.workspace.entries[2].annotation.equals(untouched)  # the dataset's annotation, as before
    assert coco.read_bytes() == before  # the dataset file itself is not touched
    assert window.editor.history_view.emptyLabel() == "Earlier edits, saved (not undoable)"
    assert "recovered" not in window.statusBar().currentMessage()  # it was closed cleanly


def test_steps_of_an_earlier_session_can_be_undone_after_a_restart(qtbot, window, coco, tmp_path):
    window.open_path(coco)
    _brush(qtbot, window, 10)  # the image's first step: stored as its snapshot
    first = window.current_entry().annotation.copy()
    _brush(qtbot, window, 40)  # journaled: undoable after a restart
    second = window.current_entry().annotation.copy()

    window = _restart(qtbot, window, tmp_path)
    window.open_path(coco)
    assert window.current_entry().annotation.equals(second)
    stack = window.editor.stacks.group.activeStack()
    assert stack is not None and stack.count() == 1 and stack.command(0).text() == "Brush"
    window.editor.actions_.undo.trigger()
    assert window.current_entry().annotation.equals(first)
    assert not window.editor.actions_.undo.isEnabled()  # the snapshot is as far as undo goes

    window = _restart(qtbot, window, tmp_path)  # the undo itself was journaled
    window.open_path(coco)
    assert window.current_entry().annotation.equals(first)


def test_a_labelme_folder_lists_every_image_annotated_or_not(qtbot, window, tmp_path):
    folder = tmp_path / "labelme"
    for i in range(5):
        write_image(folder / f"photo_{i}.png", 40, 60, seed=i)
    (folder / "photo_2.json").write_text(json.dumps({
        "shapes": [{"label": "cat", "points": [[5, 5], [30, 5], [30, 30]], "shape_type": "polygon"}],
        "imagePath": "photo_2.png", "imageHeight": 40, "imageWidth": 60,
    }))
    window.open_path(folder)
    names = [e.path.name for e in window.workspace.entries]
    assert names == [f"photo_{i}.png" for i in range(5)]
    assert window.browser.model.rowCount() == 5
    assert [e.annotation is not None for e in window.workspace.entries] == [False, False, True, False, False]
    window.browser.select(4)  # an image without a labelme file can be edited, and the edit is kept
    _brush(qtbot, window, 20)
    assert window.project_link.project.load_annotation("photo_4.png") is not None


@pytest.mark.parametrize("choice", ["Replace", "Add only where nothing is annotated", "Cancel"])
def test_accept_all_on_a_corrected_image_asks(qtbot, editor_window, monkeypatch, choice):
    window = editor_window
    entry = _with_prediction(window)
    _brush(qtbot, window, 28, pieces=4)  # a correction across the first predicted disc
    corrected = entry.annotation.copy()
    (mine,) = corrected.segments
    asked = answer(monkeypatch, choice)
    window.editor.actions_.accept_all.trigger()
    assert asked == ["Accept all predictions"]
    annotation = entry.annotation
    predicted = entry.fused.segment_map > 0
    if choice == "Cancel":
        assert annotation.equals(corrected)
        return
    if choice == "Replace":
        assert all(seg.source is Source.MODEL for seg in annotation.segments.values())  # the person's is gone
        assert np.array_equal(annotation.segment_map > 0, predicted)
    else:
        assert np.array_equal(annotation.segment_map[corrected.segment_map == mine],
                              corrected.segment_map[corrected.segment_map == mine])  # the correction stays
        free = predicted & (corrected.segment_map == 0)
        assert free.any() and (annotation.segment_map[free] > 0).all()
    window.editor.actions_.undo.trigger()  # one step
    assert entry.annotation.equals(corrected)


def test_a_read_only_dataset_says_so_before_editing_and_quitting_asks(qtbot, window, coco, monkeypatch):
    from segview.errors import ProjectReadOnlyError
    from segview.io.project import Project

    def read_only(folder, **_kw):
        raise ProjectReadOnlyError(f"The folder {folder} is read-only. Copy it somewhere you can write to.")

    monkeypatch.setattr(Project, "open", read_only)
    window.open_path(coco)
    notice = window.read_only_notice
    assert notice is not None and notice.isVisible() and "not saved" in notice.text()  # before any edit
    assert window.read_only_banner.isVisible()
    window.close()  # nothing edited: no question
    assert not window.isVisible()
    window.show()
    _brush(qtbot, window, 30)
    asked = answer(monkeypatch, "Export…", "Discard")
    window.close()
    assert asked == ["Quit: unsaved edits"] and window.isVisible()
    assert window.export_dialog is not None and window.export_dialog.isVisible()  # to save them elsewhere
    window.export_dialog.reject()
    window.close()
    assert len(asked) == 2 and not window.isVisible()


def test_a_crash_is_recovered_with_its_steps_counted(qtbot, window, scenes, tmp_path):
    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    window.browser.select(2)
    _brush(qtbot, window, 20, pieces=20)  # one step of 20 pieces
    _brush(qtbot, window, 50, pieces=20)
    window.editor.actions_.undo.trigger()  # a step too
    edited = window.current_entry().annotation.copy()
    window.project_link.project._abandon()  # killed: no clean shutdown
    window.project_link.project = None

    window = _restart(qtbot, window, tmp_path)
    window.open_path(scenes)
    message = window.statusBar().currentMessage()
    assert "did not close cleanly; its 3 edit steps were recovered" in message, message
    assert window.current == 2 and window.current_entry().annotation.equals(edited)


def test_quitting_does_not_wait_for_the_model(qtbot, window, scenes):
    import time

    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    _brush(qtbot, window, 20)
    process = window.bridge.process
    process.submit(("debug", "slow"), ("sleep", 30))  # a big model seconds into an image
    assert process.wait_running(("debug", "slow"), 60)
    start = time.perf_counter()
    window.close()
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, elapsed  # the window went at once (it waited for the request: 0.6-4 s)
    assert window.project_link.project is None  # the project was closed cleanly all the same


def test_an_unreadable_extra_image_in_a_labelme_folder_is_named_not_fatal(qtbot, window, tmp_path):
    folder = tmp_path / "labelme"
    write_image(folder / "a.png", 20, 30)
    (folder / "broken.png").write_bytes(b"not a png")
    Image.new("RGB", (30, 20)).save(folder / "b.png")
    (folder / "a.json").write_text(json.dumps({"shapes": [], "imagePath": "a.png", "imageHeight": 20,
                                               "imageWidth": 30}))
    window.open_path(folder)
    assert [e.path.name for e in window.workspace.entries] == ["a.png", "b.png"]
    assert "broken.png" in window.statusBar().currentMessage()


def test_opening_something_else_over_unexported_edits_asks(qtbot, window, scenes, coco, monkeypatch):
    from segview.errors import ProjectReadOnlyError
    from segview.io.project import Project

    opened = Project.open

    def read_only_scenes(folder, **kw):
        if kw.get("store") is None:
            raise ProjectReadOnlyError(f"The folder {folder} is read-only. Copy it somewhere you can write to.")
        return opened(folder, **kw)

    monkeypatch.setattr(Project, "open", read_only_scenes)
    window.open_path(scenes)
    window.workspace.categories = CATEGORIES
    _brush(qtbot, window, 30)
    asked = answer(monkeypatch, "Cancel", "Discard")
    window.open_path(coco)
    assert asked == ["Open instances.json: unsaved edits"]
    assert window.workspace.entries[0].path.parent == scenes  # still here, with the edit
    window.open_path(coco)
    assert len(asked) == 2 and window.workspace.entries[0].path.parent == coco.parent
    assert window.project_link.project is not None and window.project_link.unsaved_steps == 0
    window.close()  # nothing unsaved any more: no question
    assert len(asked) == 2


def test_a_dataset_open_in_another_window_shows_its_saved_edits_read_only(qtbot, window, coco):
    from segview.io.detect import load_dataset
    from segview.io.project import Project, dataset_store

    dataset, _ = load_dataset(coco)
    images = [(r.file_name, r.width, r.height) for r in dataset.images]
    with Project.open(coco.parent, store=dataset_store(coco), images=images) as held:  # the other window
        saved = dataset.images[0].annotation.copy()
        saved.segment_map[:5] = 0
        held.save_annotation(dataset.images[0].file_name, saved)
        window.open_path(coco)
        assert window.project_link.read_only and window.read_only_banner.isVisible()
        assert "another segview window" in window.statusBar().currentMessage()
        assert window.workspace.entries[0].annotation.equals(saved)
        assert window.workspace.entries[1].annotation.equals(dataset.images[1].annotation)


def test_a_folder_image_s_first_step_is_undoable_after_a_restart(qtbot, editor_window, scenes, tmp_path):
    window = editor_window
    window.browser.select(1)
    _brush(qtbot, window, 20)  # the image's first step: journaled after an empty snapshot
    edited = window.current_entry().annotation.copy()

    window = _restart(qtbot, window, tmp_path)
    window.open_path(scenes)
    assert window.current == 1 and window.current_entry().annotation.equals(edited)
    stack = window.editor.stacks.group.activeStack()
    assert stack is not None and stack.count() == 1 and stack.command(0).text() == "Brush"
    assert window.editor.history_view.emptyLabel() == "Opened"  # the state before it: the image, unedited
    window.editor.actions_.undo.trigger()
    annotation = window.current_entry().annotation
    assert not annotation.segments and not annotation.segment_map.any()

    window = _restart(qtbot, window, tmp_path)  # the undo was journaled too: back to the unedited image
    window.open_path(scenes)
    window.browser.select(1)
    assert window.current_entry().annotation is None


def test_history_after_a_restart_shows_that_earlier_edits_are_saved(qtbot, window, coco, tmp_path):
    window.open_path(coco)
    _brush(qtbot, window, 10)  # a dataset image's first step: stored as its snapshot, not undoable
    edited = window.current_entry().annotation.copy()

    window = _restart(qtbot, window, tmp_path)
    window.open_path(coco)
    assert window.current_entry().annotation.equals(edited)
    stack = window.editor.stacks.group.activeStack()
    assert stack is not None and stack.count() == 0  # the panel is not blank: its first row says why
    assert window.editor.history_view.model().rowCount() == 1
    assert window.editor.history_view.emptyLabel() == "Earlier edits, saved (not undoable)"
    assert not window.editor.actions_.undo.isEnabled()


def test_opening_reads_only_the_shown_image_s_stored_annotation(qtbot, editor_window, scenes, tmp_path,
                                                                monkeypatch):
    from segview.core.workspace import ImageStatus
    from segview.io.project import Project

    window = editor_window
    annotations = []
    for index in (0, 2, 1):  # all three annotated; the second edited last
        window.browser.select(index)
        _brush(qtbot, window, 10 + 10 * index)
        annotations.append(window.current_entry().annotation.copy())
    window = _restart(qtbot, window, tmp_path)
    read = []
    original = Project.load_annotation
    monkeypatch.setattr(Project, "load_annotation", lambda self, name: read.append(name) or original(self, name))
    window.open_path(scenes)
    assert read == ["scene_1.png"]  # the image shown; the others when they are asked for (6.5 s for 21 maps)
    assert [window.browser.status_of(i) for i in range(3)] == [ImageStatus.CORRECTED] * 3
    assert window.workspace.entries[2].annotation.equals(annotations[1])  # read when asked for
    window.browser.select(0)
    assert window.current_entry().annotation.equals(annotations[0])
    assert sorted(read) == ["scene_0.png", "scene_1.png", "scene_2.png"]


_QUIT_CHILD = r'''
import sys, threading, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from segview.core import edits
from segview.core.segments import Annotation, Segment
from segview.inference.worker import Priority

app = QApplication(sys.argv[:1])
asked = []

def edit_then_quit():
    window = next((w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"), None)
    if window is None or not window.built or window.current_entry() is None or window._image is None:
        QTimer.singleShot(10, edit_then_quit)
        return
    process = window.bridge.process
    if not asked:  # a model seconds (here: an hour) into an image
        asked.append(process.submit(("debug", "stuck"), ("sleep", 3600), Priority.INTERACTIVE))
    if process.running_kind() != "debug":
        QTimer.singleShot(10, edit_then_quit)
        return
    entry = window.current_entry()
    h, w = window._image.shape[:2]
    entry.annotation = Annotation(h, w)
    history = window.editor.stacks.history(entry.path, entry.annotation)  # journaled from here
    history.apply(edits.paint(history.annotation, edits.brush_mask([(5, 5), (20, 9)], 3, h, w), 1, Segment(1)))
    print("CLOSE", time.monotonic(), process.pid, flush=True)
    window.close()

QTimer.singleShot(0, edit_then_quit)
from segview.cli import main
sys.argv = ["segview", sys.argv[1]]
sys.exit(main())
'''


def test_quitting_ends_the_process_at_once_with_the_project_closed_cleanly(scenes, tmp_path, tiny_models_dir):
    import os
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    from segview.io.project import Project

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               SEGVIEW_DATA_DIR=str(tiny_models_dir), SEGVIEW_CACHE_DIR=str(tmp_path / "cache"))
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", _QUIT_CHILD, str(scenes)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, cwd=repo, text=True)
    guard = threading.Timer(60, child.kill)  # a child that never closes must not hang the test run
    guard.start()
    try:
        line = child.stdout.readline()  # the model is busy and an edit was made: the window closes now
        if not line:  # the child failed before closing: say why
            child.wait(timeout=25)
        assert line.startswith("CLOSE"), child.stderr.read() if child.poll() is not None else line
        closed = float(line.split()[1])
        child.wait(timeout=25)  # it waited for the model's request: up to 30 s (1.6-5 s with real models)
        exited = time.monotonic()
        model = Path(f"/proc/{line.split()[2]}")
        deadline = time.monotonic() + 10
        while model.exists() and time.monotonic() < deadline:  # the model process ends with it
            time.sleep(0.02)
        assert not model.exists() or "zombie" in (model / "status").read_text()
    finally:
        guard.cancel()
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == 0
    assert exited - closed < 3.0, exited - closed  # ~0.1 s here; the interpreter's teardown is skipped too
    with Project.open(scenes) as project:  # the lock was released and the last session closed cleanly
        assert not project.recovered and project.integrity_check() == "ok"
        stored = project.load_annotation(project.last_edited())
        assert stored is not None and list(stored.segments) == [1]
    settings = QSettings(str(tmp_path / "config" / "segview" / "segview.conf"), QSettings.Format.IniFormat)
    assert settings.value("geometry") is not None  # the settings were written before the process ended
