"""An image whose every step is undone back to the empty start it was first edited from is not corrected:
not in corrected_names(), dataset("corrected"), annotation_versions(); load_annotation() gives None. Redo,
a new edit or a reopening keep the rule; an image emptied by its own steps stays corrected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from segview.core import edits
from segview.core.history import EditHistory
from segview.core.masks import CroppedMask
from segview.core.segments import Annotation, Segment
from segview.io.project import Project
from tests.factories import make_categories, random_annotation, write_image

H, W = 40, 56
NAME = "a.png"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "shots"
    for i, name in enumerate((NAME, "b.png")):
        write_image(folder / name, H, W, seed=i)
    return folder


def _accept_all(history: EditHistory, seed: int = 1) -> None:
    """One step painting a whole random annotation (as accept all does)."""
    base = random_annotation(np.random.default_rng(seed), H, W)
    history.begin("Accept all")
    for sid, segment in base.segments.items():
        history.apply(edits.paint(history.annotation, CroppedMask(0, 0, base.segment_map == sid), sid, segment))
    history.commit()


def _brush(history: EditHistory, x: int = 5) -> None:
    history.apply(edits.paint(history.annotation, edits.brush_mask([(x, 5)], 3, H, W), 1, Segment(1)), "Brush")


def _is_corrected(project: Project, name: str = NAME) -> bool:
    states = (name in project.corrected_names(), name in project.annotation_versions(),
              name in [r.file_name for r in project.dataset("corrected").images],
              project.load_annotation(name) is not None)
    assert len(set(states)) == 1, states  # every view agrees
    return states[0]


def _open(folder: Path) -> Project:
    project = Project.open(folder)
    project.set_categories(make_categories())
    return project


def test_undoing_every_step_leaves_the_image_uncorrected_and_redo_brings_it_back(folder: Path) -> None:
    with _open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach(NAME, history)
        _accept_all(history)
        assert _is_corrected(project)
        history.undo()
        assert not _is_corrected(project)
        assert project.journal_length(NAME) == 2  # derived: the journal rows stay
        history.redo()
        assert _is_corrected(project)
        history.undo()
        _brush(history)  # a new edit after undoing everything
        done = history.annotation.copy()
        assert _is_corrected(project)
        history.undo()
    with _open(folder) as project:  # reopened: still not corrected, and a new edit journals as before
        assert not _is_corrected(project)
        assert project.undoable_edits(NAME) == []
        history = EditHistory(Annotation(H, W))
        project.attach(NAME, history)
        _brush(history)
        assert _is_corrected(project)
        assert project.load_annotation(NAME).equals(done)


def test_undo_into_an_earlier_session_back_to_the_start_is_not_corrected(folder: Path) -> None:
    with _open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach(NAME, history)
        _accept_all(history)
        _brush(history)
    with _open(folder) as project:
        assert _is_corrected(project)
        history = EditHistory(project.load_annotation(NAME))
        history.done.extend(project.undoable_edits(NAME))
        project.attach(NAME, history)
        history.undo()
        assert _is_corrected(project)
        history.undo()
        assert not history.annotation.segments and not _is_corrected(project)
        history.redo()
        assert _is_corrected(project)
        history.undo()
    with _open(folder) as project:
        assert not _is_corrected(project)


def test_an_image_emptied_by_its_own_steps_stays_corrected(folder: Path) -> None:
    with _open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach(NAME, history)
        _accept_all(history)
        history.apply(edits.delete(history.annotation, list(history.annotation.segments)), "Delete")
        assert not history.annotation.segments and _is_corrected(project)
        project.save_annotation("b.png", Annotation(H, W))  # a saved empty annotation is not the empty start
        assert _is_corrected(project, "b.png")
    with _open(folder) as project:
        assert _is_corrected(project) and _is_corrected(project, "b.png")


@pytest.mark.parametrize("compaction", ["big step", "checkpoint"])
def test_a_compaction_snapshot_in_between_is_handled(folder: Path, monkeypatch, compaction: str) -> None:
    """A snapshot holding edits (a big step stored as one, or a checkpoint every N rows) no longer is the
    empty start: the undo that goes back to it writes the empty snapshot again."""
    import segview.io.project as store

    with _open(folder) as project:
        if compaction == "big step":
            monkeypatch.setattr(store, "_BIG_STEP", H * W // 2)
        else:
            project.checkpoint_rows = 2
        history = EditHistory(Annotation(H, W))
        project.attach(NAME, history)
        _accept_all(history)
        for x in (10, 20, 30):
            _brush(history, x)
        assert not project.starts_empty(NAME) and _is_corrected(project)
        while history.done:
            assert _is_corrected(project)
            history.undo()
        assert not _is_corrected(project) and project.starts_empty(NAME)
        history.redo()
        assert _is_corrected(project)
        _accept_all(history, seed=2)
        after = history.annotation.copy()
    with _open(folder) as project:
        assert _is_corrected(project) and project.load_annotation(NAME).equals(after)
        # the redone step and the new one: journaled after the empty start, or big steps stored as snapshots
        assert len(project.undoable_edits(NAME)) == (2 if compaction == "checkpoint" else 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_steps_are_corrected_exactly_while_a_step_is_done(folder: Path, seed: int) -> None:
    from tests.io.project_edits import random_step

    rng = np.random.default_rng(seed)
    with _open(folder) as project:
        history = EditHistory(Annotation(H, W))
        project.attach(NAME, history)
        seen = set()
        for _ in range(60):
            random_step(history, rng)
            if rng.random() < 0.3:  # undo runs, so that the start is reached now and then
                while history.undo() is not None and rng.random() < 0.8:
                    pass
            assert (NAME in project.corrected_names()) == bool(history.done)
            seen.add(bool(history.done))
        assert seen == {True, False}  # both states were reached
        done = bool(history.done)
    with _open(folder) as project:
        assert (NAME in project.corrected_names()) == done
