"""Projects: SQLite store round trips, journal replay, crash recovery, locking and clear errors."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from segview.core import edits
from segview.core.categories import CategorySet
from segview.core.history import EditHistory
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.segments import Annotation, Segment, Source
from segview.errors import ProjectError, ProjectLockedError, ProjectReadOnlyError, SegviewError
from segview.io.project import DB_DIR, DB_NAME, Project
from tests.factories import make_categories, random_annotation, write_image
from tests.io.project_edits import random_step

REPO = Path(__file__).resolve().parents[2]
H, W = 48, 64


def _folder(tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "shots"
    for i in range(n):
        write_image(folder / f"img_{i}.png", H, W, seed=i)
    write_image(folder / "sub" / "deep.png", H, W, seed=9)
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return _folder(tmp_path)


def _edited(history: EditHistory, seed: int, steps: int) -> list[Annotation]:
    """Run ``steps`` random steps; the annotation after each (index 0 = before any)."""
    rng = np.random.default_rng(seed)
    states = [history.annotation.copy()]
    for _ in range(steps):
        random_step(history, rng)
        states.append(history.annotation.copy())
    return states


def _assert_same(a: Annotation | None, b: Annotation) -> None:
    assert a is not None
    assert a.segment_map.dtype == b.segment_map.dtype
    assert a.segment_map.tobytes() == b.segment_map.tobytes()
    assert a.segments == b.segments


# --- creating and reopening ----------------------------------------------------------------------------


def test_open_creates_the_database_and_lists_images(folder: Path) -> None:
    with Project.open(folder) as project:
        assert project.image_names() == ["img_0.png", "img_1.png", "img_2.png", "sub/deep.png"]
        assert project.image_size("sub/deep.png") == (W, H)
        assert not project.recovered
        assert project.load_annotation("img_0.png") is None
        assert project.integrity_check() == "ok"
        db = project.db_path
    assert db == folder / DB_DIR / DB_NAME
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    write_image(folder / "img_new.jpg", H, W)
    with Project.open(folder) as project:
        assert "img_new.jpg" in project.image_names()
        assert not project.recovered


def test_open_without_create_refuses_a_plain_folder(folder: Path) -> None:
    with pytest.raises(ProjectError, match="has no segview project"):
        Project.open(folder, create=False)
    with pytest.raises(ProjectError, match="is not a folder"):
        Project.open(folder / "missing")


# --- annotations -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_annotation_round_trip_is_byte_identical(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    annotation = random_annotation(rng, H, W, n_things=int(rng.integers(0, 8)))
    if seed == 5:  # ids beyond uint16 and model scores
        annotation.add(np.eye(H, W, dtype=bool), Segment(2, True, 0.123456789, Source.MODEL), segment_id=70_000)
    with Project.open(folder) as project:
        project.save_annotation("img_1.png", annotation)
        _assert_same(project.load_annotation("img_1.png"), annotation)
    with Project.open(folder) as project:
        _assert_same(project.load_annotation("img_1.png"), annotation)
        assert project.corrected_names() == ["img_1.png"]


@pytest.mark.parametrize("seed", range(4))
def test_journal_replay_equals_the_history(folder: Path, seed: int) -> None:
    base = random_annotation(np.random.default_rng(seed), H, W)
    with Project.open(folder) as project:
        project.save_annotation("img_0.png", base)
        history = EditHistory(project.load_annotation("img_0.png"))
        project.attach("img_0.png", history)
        _edited(history, seed, 60)
        assert project.journal_length("img_0.png") > 0
        _assert_same(project.load_annotation("img_0.png"), history.annotation)
    with Project.open(folder) as project:
        _assert_same(project.load_annotation("img_0.png"), history.annotation)


def test_undo_across_a_checkpoint_and_automatic_checkpoints(folder: Path) -> None:
    with Project.open(folder) as project:
        project.checkpoint_rows = 7
        history = EditHistory(Annotation(H, W))  # no stored annotation: the first step writes one
        project.attach("img_2.png", history)
        _edited(history, 11, 25)
        project.save_annotation("img_2.png", history.annotation)
        assert project.journal_length("img_2.png") == 0
        while history.undo() is not None:  # these edits' atoms now travel in the undo rows
            if history.done:
                _assert_same(project.load_annotation("img_2.png"), history.annotation)
            else:  # back to the empty start: not corrected any more
                assert project.load_annotation("img_2.png") is None and project.starts_empty("img_2.png")
        for _ in range(5):
            history.redo()
        _edited(history, 12, 30)
        assert project.journal_length("img_2.png") <= 7
        _assert_same(project.load_annotation("img_2.png"), history.annotation)


def test_aborted_strokes_and_detached_histories_are_not_journaled(folder: Path) -> None:
    with Project.open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach("img_0.png", history)
        _edited(history, 3, 5)
        stored = project.load_annotation("img_0.png")
        history.begin("Stroke")
        history.apply(edits.new_segment(history.annotation, CroppedMask(0, 0, np.ones((5, 5), bool)),
                                        Segment(1))[1])
        history.abort()
        project.detach("img_0.png")
        _edited(history, 4, 5)
        _assert_same(project.load_annotation("img_0.png"), stored)


def test_a_small_edit_on_a_4k_map_journals_only_its_atoms(folder: Path) -> None:
    write_image(folder / "big.png", 2160, 3840)
    with Project.open(folder) as project:
        base = Annotation(2160, 3840)
        project.save_annotation("big.png", base)
        history = EditHistory(project.load_annotation("big.png"))
        project.attach("big.png", history)
        history.apply(edits.new_segment(base, edits.brush_mask([(100, 100)], 5, 2160, 3840), Segment(1))[1])
        timings = []
        for i in range(20):
            mask = edits.brush_mask([(100 + 3 * i, 100), (110 + 3 * i, 104)], 4, 2160, 3840)
            start = time.perf_counter()
            history.apply(edits.paint(history.annotation, mask, 1), "Paint")
            timings.append(time.perf_counter() - start)
        size = project._read("SELECT MAX(LENGTH(atoms)) FROM journal")[0][0]
        _assert_same(project.load_annotation("big.png"), history.annotation)
    assert size < 2000
    assert sorted(timings)[len(timings) // 2] < 0.25  # generous: the machine may be busy


# --- categories, predictions, settings, datasets --------------------------------------------------------


def test_categories_settings_and_predictions_round_trip(folder: Path) -> None:
    rng = np.random.default_rng(0)
    semantic = rng.integers(0, 6, (H, W)).astype(np.uint8)
    confidence = rng.random((H, W), dtype=np.float32)
    instances = [
        InstancePrediction(int(rng.integers(1, 4)), float(rng.random()),
                           CroppedMask(int(rng.integers(0, 30)), int(rng.integers(0, 20)),
                                       rng.random((int(rng.integers(1, 20)), int(rng.integers(1, 30)))) < 0.5))
        for _ in range(5)
    ]
    prediction = Prediction(H, W, instances, semantic, confidence, "demo", "cpu")
    with Project.open(folder) as project:
        assert len(project.categories()) == 0
        project.set_categories(make_categories())
        project.set_setting("fusion", {"score_threshold": 0.5, "overlap": [0.5, 1]})
        project.save_prediction("img_0.png", "demo", prediction)
        project.save_prediction("img_0.png", "other", Prediction(H, W))
    with Project.open(folder) as project:
        assert project.categories() == make_categories()
        assert project.get_setting("fusion") == {"score_threshold": 0.5, "overlap": [0.5, 1]}
        assert project.get_setting("missing", 3) == 3
        loaded = project.load_prediction("img_0.png", "demo")
        assert project.load_prediction("img_1.png", "demo") is None
        assert project.load_prediction("img_0.png", "other") == Prediction(H, W)
    assert (loaded.height, loaded.width, loaded.model, loaded.device) == (H, W, "demo", "cpu")
    assert loaded.semantic.dtype == np.uint8 and np.array_equal(loaded.semantic, semantic)
    assert loaded.semantic_confidence.tobytes() == confidence.tobytes()
    for got, want in zip(loaded.instances, instances, strict=True):
        assert (got.category_id, got.score, got.mask.x, got.mask.y) == (
            want.category_id, want.score, want.mask.x, want.mask.y)
        assert np.array_equal(got.mask.mask, want.mask.mask)


def test_dataset_scopes(folder: Path) -> None:
    annotation = random_annotation(np.random.default_rng(1), H, W)
    with Project.open(folder) as project:
        project.set_categories(make_categories())
        project.save_annotation("img_1.png", annotation)
        everything = project.dataset()
        corrected = project.dataset("corrected")
        chosen = project.dataset(names=["img_2.png", "img_1.png"])
        with pytest.raises(ProjectError):
            project.dataset("some")
    assert everything.image_root == folder.resolve()
    assert [r.file_name for r in everything.images] == ["img_0.png", "img_1.png", "img_2.png", "sub/deep.png"]
    assert [r.file_name for r in corrected.images] == ["img_1.png"]
    assert [r.file_name for r in chosen.images] == ["img_1.png", "img_2.png"]
    assert corrected.images[0].annotation.equals(annotation)
    assert everything.images[0].annotation is None
    assert isinstance(corrected.categories, CategorySet) and len(corrected.categories) == 5


# --- locking, crashes, bad files ---------------------------------------------------------------------------

_CHILD_ENV = {**os.environ, "PYTHONPATH": str(REPO)}

_LOCK_CHILD = """
import sys
from segview.errors import ProjectLockedError
from segview.io.project import Project
try:
    Project.open(sys.argv[1]).close()
    print("opened")
except ProjectLockedError as exc:
    print("locked:", exc)
"""


def _run_child(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          env=_CHILD_ENV, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_second_opener_is_refused_while_the_first_holds_the_project(folder: Path) -> None:
    with Project.open(folder) as project:
        out = _run_child(_LOCK_CHILD, str(folder))
        assert out.startswith("locked:")
        assert "open in another segview window" in out and f"process {os.getpid()}" in out
        with pytest.raises(ProjectLockedError):
            Project.open(folder)  # a second opener in the same process too
        assert project.integrity_check() == "ok"
    assert _run_child(_LOCK_CHILD, str(folder)) == "opened"


def test_a_held_project_can_be_read_without_its_lock(folder: Path) -> None:
    with Project.open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach("img_1.png", history)
        states = _edited(history, seed=5, steps=6)  # journaled, not yet snapshotted
        with Project.open_read_only(folder) as reader:
            assert reader.read_only and reader.image_names() == project.image_names()
            _assert_same(reader.load_annotation("img_1.png"), states[-1])
            with pytest.raises(ProjectReadOnlyError):
                reader.set_categories(reader.categories())
        random_step(history, np.random.default_rng(9))  # the holder goes on journaling
        _assert_same(project.load_annotation("img_1.png"), history.annotation)
        assert project.integrity_check() == "ok"
    with Project.open(folder) as again:
        assert not again.recovered  # the reader wrote nothing, not even the clean-shutdown flag


def test_reading_a_folder_without_a_project_says_so(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="has no segview project"):
        Project.open_read_only(tmp_path)


_CRASH_CHILD = """
import sys
import numpy as np
from segview.core.history import EditHistory
from segview.io.project import Project
from tests.io.project_edits import random_step

project = Project.open(sys.argv[1])
history = EditHistory(project.load_annotation("img_0.png"))
project.attach("img_0.png", history)
rng = np.random.default_rng(int(sys.argv[2]))
print("ready", flush=True)
for i in range(1, 100_000):
    random_step(history, rng)
    print(i, flush=True)
"""


def _read_lines(fd: int, buffer: bytearray, want: int, deadline: float) -> list[str]:
    """Complete lines from a pipe until ``want`` of them or the deadline (bounded polling, no sleeps)."""
    lines: list[str] = []
    while len(lines) < want and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 65536) if ready else b""
        if ready and not chunk:
            break
        buffer.extend(chunk)
        while b"\n" in buffer and len(lines) < want:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            lines.append(line.decode())
    return lines


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("seed, kill_after", [(21, 12), (22, 40)])
def test_a_killed_session_loses_no_completed_edit(folder: Path, seed: int, kill_after: int) -> None:
    base = random_annotation(np.random.default_rng(seed), H, W)
    with Project.open(folder) as project:
        project.save_annotation("img_0.png", base)
    child = subprocess.Popen([sys.executable, "-c", _CRASH_CHILD, str(folder), str(seed)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_CHILD_ENV, cwd=REPO)
    buffer = bytearray()
    try:
        lines = _read_lines(child.stdout.fileno(), buffer, kill_after + 1, time.monotonic() + 120)
        assert len(lines) == kill_after + 1, child.stderr.read1().decode() if child.poll() is not None else lines
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        lines += _read_lines(child.stdout.fileno(), buffer, 10**6, time.monotonic() + 10)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()
    reported = int(lines[-1]) if lines[-1] != "ready" else 0
    assert reported >= kill_after
    states = _edited(EditHistory(base.copy()), seed, reported + 1)
    with Project.open(folder) as project:
        assert project.recovered
        assert project.integrity_check() == "ok"
        restored = project.load_annotation("img_0.png")
    # Every reported edit is there; the one after it may have been committed before its line was printed.
    assert any(restored.equals(s) for s in states[reported:]), "restored state matches no completed edit count"
    _assert_same(restored, next(s for s in states[reported:] if restored.equals(s)))
    with Project.open(folder) as project:
        assert not project.recovered


def test_a_malformed_database_gives_a_clear_error_and_is_left_alone(folder: Path) -> None:
    db = folder / DB_DIR / DB_NAME
    db.parent.mkdir()
    db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(SegviewError, match="damaged or is not a segview project"):
        Project.open(folder)
    assert db.read_bytes() == b"this is not sqlite at all" * 100
    Project.open(folder / "sub").close()  # the failed open released its lock: other folders are fine


def test_a_foreign_sqlite_database_is_refused_untouched(folder: Path) -> None:
    db = folder / DB_DIR / DB_NAME
    db.parent.mkdir()
    with sqlite3.connect(db) as raw:
        raw.execute("CREATE TABLE recipes (name TEXT)")
    before = db.read_bytes()
    with pytest.raises(ProjectError, match="not a segview project"):
        Project.open(folder)
    assert db.read_bytes() == before
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_folder_gives_a_clear_error(folder: Path, tmp_path: Path) -> None:
    other = _folder(tmp_path / "b")
    with Project.open(other) as project:
        project.save_annotation("img_0.png", random_annotation(np.random.default_rng(0), H, W))
    try:
        folder.chmod(0o555)
        (other / DB_DIR).chmod(0o555)
        (other / DB_DIR / DB_NAME).chmod(0o444)
        with pytest.raises(ProjectError, match="read-only"):
            Project.open(folder)
        with pytest.raises(ProjectError, match="read-only"):
            Project.open(other)
    finally:
        folder.chmod(0o755)
        (other / DB_DIR).chmod(0o755)
        (other / DB_DIR / DB_NAME).chmod(0o644)
    with Project.open(other) as project:
        assert project.load_annotation("img_0.png") is not None
        assert project.integrity_check() == "ok"


def test_a_full_disk_keeps_the_store_consistent(folder: Path) -> None:
    base = random_annotation(np.random.default_rng(2), H, W)
    with Project.open(folder) as project:
        project.save_annotation("img_0.png", base)
        history = EditHistory(project.load_annotation("img_0.png"))
        project.attach("img_0.png", history)
        _edited(history, 5, 10)
        project._read("VACUUM")  # no free pages left inside the file
        pages = project._read("PRAGMA page_count")[0][0]
        project._read(f"PRAGMA max_page_count = {pages}")  # the "disk" is full from here on
        big = Prediction(H * 40, W * 40, semantic=np.random.default_rng(0).integers(0, 255, (H * 40, W * 40),
                                                                                      dtype=np.uint8))
        with pytest.raises(ProjectError, match="disk is full"):
            project.save_prediction("img_0.png", "demo", big)
        failed, rng = 0, np.random.default_rng(100)
        for _ in range(40):  # some journal rows may still fit in a page's free space; the rest fail cleanly
            try:
                random_step(history, rng)
            except ProjectError as exc:
                assert "disk is full" in str(exc)
                failed += 1
        assert failed
        assert project.integrity_check() == "ok"
        project._read("PRAGMA max_page_count = 1073741823")  # space freed
        history.apply(edits.erase(history.annotation, CroppedMask(0, 0, np.ones((3, 3), bool))), "Erase")
        _assert_same(project.load_annotation("img_0.png"), history.annotation)  # a snapshot caught up
        assert project.load_prediction("img_0.png", "demo") is None


def test_snapshot_maps_are_stored_as_runs_and_read_back_exactly() -> None:
    import zlib

    from segview.io.project import decode_map, encode_map

    rng = np.random.default_rng(5)
    blocky = np.zeros((600, 800), np.uint16)
    for i in range(60):
        y, x = rng.integers(0, 500, 2)
        blocky[y : y + 100, x : x + 300] = i + 1
    noisy = rng.integers(0, 70000, (60, 80)).astype(np.uint32)  # runs would be bigger: plain zlib
    for segment_map in (blocky, noisy, np.zeros((5, 7), np.uint16), blocky.astype(np.uint32)):
        blob = encode_map(segment_map)
        back = decode_map(blob, segment_map.dtype.str, *segment_map.shape)
        assert back.dtype == segment_map.dtype and np.array_equal(back, segment_map)
    assert encode_map(blocky).startswith(b"RLE1") and len(encode_map(blocky)) < 10_000
    assert not encode_map(noisy).startswith(b"RLE1")
    old = zlib.compress(blocky.tobytes(), 3)  # a snapshot written by an earlier segview
    assert np.array_equal(decode_map(old, "<u2", 600, 800), blocky)
    with pytest.raises(ValueError):  # damaged runs: load_annotation says the annotation is damaged
        decode_map(b"RLE1" + zlib.compress(b"\0" * 12), "<u2", 600, 800)


def test_a_first_step_on_an_empty_image_is_journaled_and_undoable_after_a_restart(folder: Path) -> None:
    from segview.core.edits import brush_mask, paint

    with Project.open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach("img_1.png", history)
        history.apply(paint(history.annotation, brush_mask([(5, 5), (9, 9)], 3, H, W), 1, Segment(1)), "Brush")
        first = history.annotation.copy()
        history.apply(paint(history.annotation, brush_mask([(30, 20)], 3, H, W), 2, Segment(2)), "Brush")
        assert project.journal_length("img_1.png") == 2  # both steps, after an empty snapshot
        assert project.starts_empty("img_1.png")
        project._abandon()  # killed: every committed step is there
    with Project.open(folder) as project:
        _assert_same(project.load_annotation("img_1.png"), history.annotation)
        edits_ = project.undoable_edits("img_1.png")
        assert [e.name for e in edits_] == ["Brush", "Brush"]
        again = EditHistory(project.load_annotation("img_1.png"))
        again.done.extend(edits_)
        again.undo()
        _assert_same(again.annotation, first)
        again.undo()
        assert not again.annotation.segments and not again.annotation.segment_map.any()
        project.save_annotation("img_1.png", first)  # a checkpoint holds edits: no longer the empty start
        assert not project.starts_empty("img_1.png")


def test_a_step_over_many_pixels_is_stored_as_a_cheap_snapshot(folder: Path, monkeypatch) -> None:
    import segview.io.project as store

    monkeypatch.setattr(store, "_BIG_STEP", H * W // 2)  # accept all on 48 MP: its atoms took 0.8 s to encode
    base = random_annotation(np.random.default_rng(3), H, W)
    with Project.open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach("img_2.png", history)
        history.begin("Accept all")
        for sid, segment in base.segments.items():
            history.apply(edits.paint(history.annotation, CroppedMask(0, 0, base.segment_map == sid), sid, segment))
        history.commit()
        assert project.journal_length("img_2.png") == 0 and not project.starts_empty("img_2.png")
        blob = project._read("SELECT map FROM annotations")[0][0]
        assert blob.startswith(b"RLE1")
        history.apply(edits.paint(history.annotation, edits.brush_mask([(3, 3)], 2, H, W), 1), "Brush")
        assert project.journal_length("img_2.png") == 1  # small steps are journaled as before
        project._abandon()
    with Project.open(folder) as project:
        _assert_same(project.load_annotation("img_2.png"), history.annotation)
        assert len(project.undoable_edits("img_2.png")) == 1


def test_a_big_step_encoded_ahead_is_stored_as_it_was_given_and_its_undo_is_encoded_anew(folder: Path,
                                                                                        monkeypatch) -> None:
    import segview.io.project as store

    monkeypatch.setattr(store, "_BIG_STEP", H * W // 2)
    base = random_annotation(np.random.default_rng(4), H, W)
    encoded: list[int] = []
    monkeypatch.setattr(store, "encode_map", lambda m: encoded.append(m.size) or b"RLE1 encoded here")
    with Project.open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach("img_2.png", history)
        history.apply(edits.paint(history.annotation, edits.brush_mask([(3, 3)], 2, H, W), 1, Segment(1)), "Brush")
        step = history.begin("Accept all")  # after a first step: its undo is not back to the empty start
        step.encoded_after = (base.segment_map.dtype.str, b"computed ahead")
        for sid, segment in base.segments.items():
            history.apply(edits.paint(history.annotation, CroppedMask(0, 0, base.segment_map == sid), sid, segment))
        history.commit()
        assert project._read("SELECT map FROM annotations")[0][0] == b"computed ahead" and not encoded
        history.undo()  # a snapshot again (the step is big), of the map before the step: encoded here
        assert encoded == [H * W] and project._read("SELECT map FROM annotations")[0][0] != b"computed ahead"
        project._abandon()


def test_a_project_of_a_newer_segview_is_refused_and_a_schema_1_project_is_marked_2(tmp_path):
    from segview.io.project import SCHEMA_VERSION

    folder = tmp_path / "photos"
    write_image(folder / "a.png", 4, 4)
    with Project.open(folder) as project:
        project.save_annotation("a.png", Annotation(4, 4))
    db_path = folder / DB_DIR / DB_NAME

    def set_version(version: int) -> None:
        db = sqlite3.connect(db_path)
        db.execute(f"PRAGMA user_version={version}")
        db.close()

    def version() -> int:
        db = sqlite3.connect(db_path)
        try:
            return db.execute("PRAGMA user_version").fetchone()[0]
        finally:
            db.close()

    set_version(SCHEMA_VERSION + 1)
    with pytest.raises(ProjectError, match="written by a newer segview"):
        Project.open(folder)
    assert version() == SCHEMA_VERSION + 1  # left as it was
    set_version(1)  # a project of the segview before snapshots could be stored as runs
    with Project.open(folder) as project:
        assert project.load_annotation("a.png") is not None
    assert version() == SCHEMA_VERSION == 2
