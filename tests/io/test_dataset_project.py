"""A dataset's project: where it lives, its images, and what a crashed session reports (steps, not rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import Annotation, Segment
from segview.errors import ProjectLockedError
from segview.io.project import DB_DIR, Project, dataset_store
from tests.factories import write_image

H, W = 32, 40


def _crash(project: Project) -> None:
    """Drop the project as a killed process would: no clean-shutdown flag, the lock gone."""
    project._abandon()


def _stroke(history: EditHistory, pieces: int, y: int = 5) -> None:
    """A brush stroke of ``pieces`` pieces along row ``y``: one step."""
    history.begin("Brush")
    for i in range(pieces):
        mask = edits.brush_mask([(2 + i, y), (3 + i, y + 1)], 2, H, W)
        history.apply(edits.paint(history.annotation, mask, 1, Segment(1) if 1 not in history.annotation.segments
                                  else None))
    history.commit()


def test_a_dataset_file_and_a_dataset_folder_have_their_own_places(tmp_path: Path) -> None:
    json_file = tmp_path / "instances.json"
    json_file.write_text("{}")
    folder = tmp_path / "labelme"
    folder.mkdir()
    (folder / "a.json").write_text('{"shapes": [], "imagePath": "a.png"}')
    semantic = tmp_path / "semantic"
    semantic.mkdir()
    (semantic / "classes.json").write_text("[]")
    assert dataset_store(json_file) == tmp_path / DB_DIR / "instances.json"
    assert dataset_store(folder) == folder / DB_DIR  # the same place as the folder's own project
    assert dataset_store(semantic) == tmp_path / DB_DIR / "semantic"  # an export rewrites semantic/


def test_a_dataset_project_does_not_stop_the_next_export_to_its_folder(tmp_path: Path) -> None:
    from segview.io.detect import DatasetFormat, load_dataset
    from segview.io.export import export_dataset
    from tests.factories import make_dataset

    out = tmp_path / "out"
    formats = [DatasetFormat.COCO_PANOPTIC, DatasetFormat.COCO, DatasetFormat.SEMANTIC_PNG]
    export_dataset(make_dataset(tmp_path / "images", 2), out, formats)
    for opened in ("panoptic.json", "instances.json", "semantic"):
        dataset, _ = load_dataset(out / opened)
        images = [(r.file_name, r.width, r.height) for r in dataset.images]
        Project.open(dataset.image_root, store=dataset_store(out / opened), images=images).close()
    export_dataset(make_dataset(tmp_path / "images", 2, seed=5), out, formats)  # no foreign file in the way
    assert (out / DB_DIR / "semantic" / "project.sqlite").exists()


def test_a_dataset_project_registers_the_dataset_images_not_the_folder(tmp_path: Path) -> None:
    images = tmp_path / "images"
    write_image(images / "a.png", H, W, seed=1)
    write_image(images / "stray.png", H, W, seed=2)  # in the folder, not in the dataset
    json_file = tmp_path / "ann" / "val.json"
    json_file.parent.mkdir()
    json_file.write_text("{}")
    store = dataset_store(json_file)
    with Project.open(images, store=store, images=[("a.png", W, H), ("sub/b.png", 8, 6)]) as project:
        assert project.image_names() == ["a.png", "sub/b.png"]
        assert project.image_size("sub/b.png") == (8, 6)
        assert project.db_path == tmp_path / "ann" / DB_DIR / "val.json" / "project.sqlite"
        try:
            Project.open(images, store=store, images=[])
        except ProjectLockedError as exc:
            assert "val.json" in str(exc)  # names the dataset, not the .segview folder
        else:
            raise AssertionError("a second opener got the dataset's project")
    assert not (images / DB_DIR).exists()  # the image folder is left alone


def test_recovery_counts_user_steps_of_the_crashed_session_only(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", H, W, seed=1)
    write_image(tmp_path / "b.png", H, W, seed=2)
    project = Project.open(tmp_path)
    history = EditHistory(Annotation(H, W))
    project.attach("a.png", history)
    _stroke(history, 20)  # one step (it writes the image's first snapshot)
    _stroke(history, 20, y=20)  # one step, one journal row
    history.undo()
    history.redo()
    _crash(project)
    project = Project.open(tmp_path)
    assert project.recovered and project.recovered_edits == 4
    assert project.last_edited() == "a.png"
    history = EditHistory(project.load_annotation("a.png"))
    project.attach("a.png", history)
    other = EditHistory(Annotation(H, W))
    project.attach("b.png", other)
    _stroke(other, 3)
    _crash(project)  # the journal of a.png still holds the earlier rows: they are not counted again
    project = Project.open(tmp_path)
    assert project.recovered_edits == 1 and project.last_edited() == "b.png"
    project.close()
    with Project.open(tmp_path) as project:
        assert not project.recovered and project.last_edited() == "b.png"
        # a.png: first stroke (journaled after an empty snapshot), second stroke, undo, redo: both undoable
        assert [e.name for e in project.undoable_edits("a.png")] == ["Brush", "Brush"]
        assert [e.name for e in project.undoable_edits("b.png")] == ["Brush"]  # its first step, journaled
        assert np.array_equal(project.load_annotation("b.png").segment_map, other.annotation.segment_map)
