"""Big images keep the window responsive: a reduced preview before the full decode, heavy edits off the
GUI thread (the full decode is held back by the test, so 'before' is certain, not a race)."""

import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from segview.io.images import read_image
from segview.ui.canvas import image_loader

H, W = 300, 400


@pytest.fixture
def jpeg_folder(tmp_path, monkeypatch):
    """A 400x300 JPEG, red on the left and blue on the right, counted as big (preview first)."""
    monkeypatch.setattr(image_loader, "PREVIEW_PIXELS", 10_000)
    monkeypatch.setattr(image_loader, "PREVIEW_SIDE", 100)
    folder = tmp_path / "big"
    folder.mkdir()
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:, : W // 2] = (220, 30, 30)
    rgb[:, W // 2 :] = (30, 30, 220)
    Image.fromarray(rgb).save(folder / "photo.jpg", quality=95)
    return folder


@pytest.fixture
def held_decode(window):
    """The window's full decode waits until ``release`` is set; ``started`` is set once it waits."""
    started, release = threading.Event(), threading.Event()

    def decode(path):
        started.set()
        assert release.wait(30)
        return read_image(path)

    window.image_loader.decode = decode
    yield started, release
    release.set()


def _screen(canvas, y, x):
    grab = canvas.viewport().grab().toImage()
    point = canvas.viewportTransform().map(QPointF(x + 0.5, y + 0.5))
    c = grab.pixelColor(int(point.x()), int(point.y()))
    return c.red(), c.green(), c.blue()


def test_a_preview_shows_before_the_full_decode_finishes(qtbot, window, jpeg_folder, held_decode):
    started, release = held_decode
    window.open_path(jpeg_folder)
    assert started.wait(10)  # the full decode runs on its worker, held back
    pyramid = window.canvas.image_item.pyramid
    assert not pyramid.complete and window.canvas.image_shape() == (H, W)  # the preview, at the full size
    assert pyramid.level(1).shape[1] < W
    red, blue = _screen(window.canvas, H // 2, W // 4), _screen(window.canvas, H // 2, 3 * W // 4)
    assert red[0] > 180 > red[2] and blue[2] > 180 > blue[0]  # the image is on screen already
    assert window._image is None and window.editor.entry is None  # editing waits for the full image
    with qtbot.waitSignal(window.image_loader.full_ready, timeout=10000):
        release.set()
    assert window.canvas.image_item.pyramid.complete
    assert window._image.shape == (H, W, 3) and window.editor.entry is window.current_entry()
    assert _screen(window.canvas, H // 2, W // 4)[0] > 180


def test_a_full_decode_that_arrives_after_another_image_was_chosen_is_dropped(qtbot, window, jpeg_folder,
                                                                               held_decode):
    started, release = held_decode
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(jpeg_folder / "second.jpg")
    window.open_path(jpeg_folder)
    assert started.wait(10)
    first = window.current
    window.browser.select(1 - first)
    with qtbot.waitSignal(window.image_loader.full_ready, timeout=10000) as blocker:
        release.set()
    # Only the image chosen last is swapped in.
    assert window.current == 1 - first
    assert window.image_loader.is_current(blocker.args[0])
    assert window._image is not None and int(window._image[H // 2, W // 2, 0]) in range(80, 100)


def test_accept_all_runs_off_the_gui_thread_and_lands_as_one_journaled_undo_step(qtbot, window, tmp_path,
                                                                                 monkeypatch):
    from segview.core.views import semantic_view
    from segview.ui.editing import accept_job
    from tests.ui.test_overlay_colours import CATS, _prediction

    monkeypatch.setattr(accept_job, "INLINE_PIXELS", 1000)  # the 160x120 image counts as big
    monkeypatch.setattr(accept_job, "BAND_PIXELS", 1600)  # and is applied in many bands
    threads = []
    computed = accept_job.accepted_bands

    def spy(*args):
        threads.append(threading.current_thread())
        return computed(*args)

    monkeypatch.setattr(accept_job, "accepted_bands", spy)
    from segview.io import project as store

    monkeypatch.setattr(store, "_BIG_STEP", 1000)  # the step is journaled as a snapshot, as on 48 MP
    encoded_on = []
    encode_map = store.encode_map
    monkeypatch.setattr(store, "encode_map", lambda m: encoded_on.append(threading.current_thread()) or encode_map(m))
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(folder / "a.png")
    window.open_path(folder)
    window.workspace.set_prediction(window.current, _prediction(), CATS)
    window.refresh_layers()
    editor = window.editor
    with qtbot.waitSignal(editor.accept_job.finished, timeout=10000):
        editor.actions_.accept_all.trigger()
        annotation = window.current_entry().annotation
        assert annotation is None or not annotation.segments  # nothing applied on the GUI thread yet
        assert editor.history() is None  # and no other edit may come between
    assert threads and threads[0] is not threading.main_thread()
    entry = window.current_entry()
    assert np.array_equal(semantic_view(entry.annotation), semantic_view(entry.fused))
    stack = editor.stacks.stack(entry.path)
    assert stack.count() == 1 and stack.text(0) == "Accept all predictions"
    assert editor.stacks.group.activeStack() is stack  # undo works again
    project = window.project_link.project
    stored = project.load_annotation(window.project_link.name_of(entry.path))
    assert np.array_equal(stored.segment_map, entry.annotation.segment_map)  # journaled
    assert threading.main_thread() not in encoded_on  # the snapshot was encoded on the worker
    editor.actions_.undo.trigger()
    assert not entry.annotation.segments and not entry.annotation.segment_map.any()
    editor.actions_.redo.trigger()
    assert np.array_equal(semantic_view(entry.annotation), semantic_view(entry.fused))


def _predicted_image_accepted_in_bands(window, tmp_path, monkeypatch) -> None:
    """A small image on screen with a prediction, and accept all made to run in bands of 1,600 pixels on it."""
    from segview.ui.editing import accept_job
    from tests.ui.test_overlay_colours import CATS, _prediction

    monkeypatch.setattr(accept_job, "INLINE_PIXELS", 1000)
    monkeypatch.setattr(accept_job, "BAND_PIXELS", 1600)
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(folder / "a.png")
    window.open_path(folder)
    window.workspace.set_prediction(window.current, _prediction(), CATS)
    window.refresh_layers()


def test_the_window_runs_its_timers_between_two_bands_of_accept_all(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer

    _predicted_image_accepted_in_bands(window, tmp_path, monkeypatch)
    events: list[str] = []
    ticker = QTimer()
    ticker.setInterval(1)  # due by the end of every band: a timer that the bands must not starve
    ticker.timeout.connect(lambda: events.append("tick"))

    def band(_box) -> None:
        events.append("band")
        time.sleep(0.003)  # a band of a big image takes a few ms of the GUI thread

    editor = window.editor
    editor.history_created.connect(lambda _key, history: history.change_listeners.append(band))
    ticker.start()
    with qtbot.waitSignal(editor.accept_job.finished, timeout=10000):
        editor.actions_.accept_all.trigger()
    ticker.stop()
    bands = "".join("b" if e == "band" else "." for e in events).strip(".")
    assert bands.count("b") > 5 and "bb" not in bands  # one band per turn, never two in a row


def test_opening_another_folder_while_accept_all_applies_reverts_its_bands(qtbot, window, tmp_path, monkeypatch):
    from segview.ui.editing import accept_job

    _predicted_image_accepted_in_bands(window, tmp_path, monkeypatch)
    editor = window.editor
    scheduled = []  # the job's next band, run by hand

    class ByHand:
        @staticmethod
        def singleShot(_ms, callback):  # noqa: N802 - Qt's name
            scheduled.append(callback)

    monkeypatch.setattr(accept_job, "QTimer", ByHand)
    editor.actions_.accept_all.trigger()
    entry = window.current_entry()
    history = editor.stacks.get(entry.path)
    qtbot.waitUntil(lambda: bool(scheduled))  # computed on the worker; the first band is due
    scheduled.pop()()
    scheduled.pop()()  # two bands applied
    assert history.in_step and entry.annotation.segment_map.any()
    editor.clear()  # what opening another folder does
    scheduled.pop()()  # the band due before the cancel does nothing
    assert not editor.accept_job.running and not history.in_step
    assert not entry.annotation.segment_map.any() and not entry.annotation.segments and not history.done


def test_background_accept_replaces_or_fills_only_void_as_the_inline_one_does():
    from segview.core import edits
    from segview.core.history import EditHistory
    from segview.core.segments import Annotation, Segment, Source
    from segview.io.project import decode_map
    from segview.ui.editing.accept_job import accepted_bands, accepted_step

    rng = np.random.default_rng(7)
    fused = Annotation(40, 30)
    for category in (1, 2):
        fused.add(rng.random((40, 30)) < 0.5, Segment(category, score=0.9, source=Source.MODEL))
    annotation = Annotation(40, 30)
    annotation.add(np.pad(np.ones((10, 10), bool), ((2, 28), (3, 17))), Segment(3))
    for replace, only_void in ((True, False), (False, True)):
        inline = annotation.copy()
        history = EditHistory(inline)
        history.begin("inline")
        if replace:
            history.apply(edits.delete(inline, list(inline.segments)))
        history.apply(edits.accept(inline, fused, only_void=only_void)[1])
        history.commit()
        banded = annotation.copy()
        before = banded.copy()
        bands = accepted_bands(banded, fused, replace, only_void)
        assert np.array_equal(banded.segment_map, before.segment_map)  # computing changes nothing
        EditHistory(banded).apply_all(bands, "background")
        assert np.array_equal(banded.segment_map, inline.segment_map) and banded.segments == inline.segments
        _bands, (dtype, blob) = accepted_step(annotation, fused, replace, only_void)  # the snapshot, ahead
        assert np.array_equal(decode_map(blob, dtype, 40, 30), inline.segment_map)
