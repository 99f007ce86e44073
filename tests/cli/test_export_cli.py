"""`segview export PROJECT`: validated, atomic exports of a project that read back pixel for pixel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from segview.cli import main
from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import Annotation, Segment
from segview.io.project import Project
from tests.factories import make_categories, random_annotation, write_image

H, W = 48, 64


@pytest.fixture()
def project_folder(tmp_path: Path) -> Path:
    """Four images: two saved annotations, one edited through an attached history, one untouched."""
    folder = tmp_path / "shots"
    for i in range(4):
        write_image(folder / f"img_{i}.png", H, W, seed=i)
    rng = np.random.default_rng(7)
    with Project.open(folder) as project:
        project.set_categories(make_categories())
        project.save_annotation("img_0.png", random_annotation(rng, H, W))
        project.save_annotation("img_1.png", random_annotation(rng, H, W, n_things=6))
        history = EditHistory(Annotation(H, W))
        project.attach("img_2.png", history)
        history.apply(edits.new_segment(history.annotation, edits.brush_mask([(10, 10), (30, 20)], 5, H, W),
                                        Segment(2))[1], "Brush")
        history.apply(edits.new_segment(history.annotation, edits.polygon_mask(
            [(40, 5), (60, 5), (60, 40), (40, 40)], [[(45, 10), (55, 10), (55, 30), (45, 30)]], height=H,
            width=W), Segment(1))[1], "Polygon with a hole")
    return folder


def _project_masks(folder: Path) -> dict[int, list[tuple[int, np.ndarray]]]:
    """image id → [(category id, full mask)] of every thing segment with pixels, from the project."""
    with Project.open(folder) as project:
        dataset = project.dataset()
    out: dict[int, list[tuple[int, np.ndarray]]] = {}
    for record in dataset.images:
        for sid, segment in (record.annotation.segments.items() if record.annotation else ()):
            mask = record.annotation.segment_map == sid
            if dataset.categories.is_thing(segment.category_id) and mask.any():
                out.setdefault(record.id, []).append((segment.category_id, mask))
    return out


def test_export_writes_every_format_that_reads_back_exactly(project_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "export"
    rc = main(["export", str(project_folder), "--to", "coco,coco-panoptic,semantic-png", "--out", str(out)])
    printed = capsys.readouterr()
    assert rc == 0, printed
    assert "Exported 3 image(s) (corrected), 3 annotated" in printed.out  # the default scope
    assert sorted(p.name for p in out.iterdir()) == [
        ".segview-export.json", "instances.json", "panoptic", "panoptic.json", "semantic"]

    coco = COCO(str(out / "instances.json"))
    expected = _project_masks(project_folder)
    assert len(coco.getAnnIds()) == sum(len(v) for v in expected.values())
    for image_id, wanted in expected.items():
        got = [(a["category_id"], coco.annToMask(a).astype(bool)) for a in coco.loadAnns(coco.getAnnIds(image_id))]
        assert len(got) == len(wanted)
        for category_id, mask in wanted:
            assert any(c == category_id and np.array_equal(m, mask) for c, m in got)

    assert main(["validate", str(out / "panoptic.json"), "--images", str(project_folder)]) == 0
    assert capsys.readouterr().out.strip().endswith("valid")

    with Project.open(project_folder) as project:
        annotation = project.load_annotation("img_1.png")
    lut = np.zeros(max(annotation.segments) + 1, np.uint8)
    for sid, segment in annotation.segments.items():
        lut[sid] = segment.category_id
    assert np.array_equal(np.asarray(Image.open(out / "semantic" / "img_1.png")), lut[annotation.segment_map])


def test_scope_corrected_and_category_base(project_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "export"
    rc = main(["export", str(project_folder), "--to", "coco", "--out", str(out), "--scope", "corrected",
               "--category-id-base", "0", "--mask-format", "rle"])
    assert rc == 0, capsys.readouterr()
    document = json.loads((out / "instances.json").read_text())
    assert [i["file_name"] for i in document["images"]] == ["img_0.png", "img_1.png", "img_2.png"]
    assert [c["id"] for c in document["categories"]] == [0, 1, 2]  # the things; stuff (3, 4) is not in COCO
    assert all(isinstance(a["segmentation"], dict) for a in document["annotations"])
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".segview-export.json"]  # no staging


def test_validation_errors_stop_the_export(project_folder: Path, tmp_path: Path, capsys) -> None:
    with Project.open(project_folder) as project:
        broken = random_annotation(np.random.default_rng(3), H, W)
        broken.segments[max(broken.segments)] = Segment(99)
        project.save_annotation("img_3.png", broken)
    out = tmp_path / "export"
    assert main(["export", str(project_folder), "--to", "coco", "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert "category id 99 is not a category of the project" in printed.out
    assert "Nothing written" in printed.err
    assert not (out / "instances.json").exists()


@pytest.mark.parametrize("make", ["missing", "plain folder", "bad format"])
def test_bad_input_is_one_clear_line(tmp_path: Path, project_folder: Path, capsys, make: str) -> None:
    target = {"missing": tmp_path / "nowhere", "plain folder": tmp_path, "bad format": project_folder}[make]
    to = "coco,yolo" if make == "bad format" else "coco"
    rc = main(["export", str(target), "--to", to, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc != 0
    assert err.startswith("segview: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_export_reads_a_project_a_window_holds(project_folder: Path, tmp_path: Path, capsys) -> None:
    with Project.open(project_folder) as held:  # a segview window has the folder open
        history = EditHistory(held.load_annotation("img_3.png") or Annotation(H, W))
        held.attach("img_3.png", history)
        history.apply(edits.new_segment(history.annotation, edits.brush_mask([(20, 20)], 6, H, W),
                                        Segment(2))[1], "Brush")  # journaled only, not snapshotted
        out = tmp_path / "export"
        rc = main(["export", str(project_folder), "--to", "coco", "--out", str(out)])
        printed = capsys.readouterr()
        expected = history.annotation.segment_map > 0
    assert rc == 0, printed.err
    assert "open in another segview window" in printed.err and "saved so far" in printed.err
    coco = COCO(str(out / "instances.json"))
    image = next(i for i in coco.dataset["images"] if i["file_name"] == "img_3.png")
    masks = [coco.annToMask(a) for a in coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))]
    assert masks and np.array_equal(np.logical_or.reduce(masks), expected)


def test_export_refuses_to_replace_files_of_the_users_own(project_folder: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "export"
    (out / "semantic").mkdir(parents=True)
    (out / "panoptic").mkdir()
    (out / "semantic" / "my_notes.txt").write_text("notes")
    (out / "panoptic" / "photo.png").write_bytes(b"photo")
    rc = main(["export", str(project_folder), "--to", "coco-panoptic,semantic-png", "--out", str(out)])
    printed = capsys.readouterr()
    assert rc == 2  # a user error, nothing written: as predict and convert
    assert printed.err.startswith("segview: error: Nothing was written") and printed.err.count("\n") == 1
    assert "my_notes.txt" in printed.err and "photo.png" in printed.err and str(out / "semantic") in printed.err
    assert "Choose an empty folder, or move those files away" in printed.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "panoptic", "panoptic/photo.png", "semantic", "semantic/my_notes.txt"]

    (out / "semantic" / "my_notes.txt").unlink()
    (out / "panoptic" / "photo.png").unlink()
    for _ in range(2):  # its own export, replaced by the next one
        assert main(["export", str(project_folder), "--to", "coco-panoptic,semantic-png", "--out", str(out)]) == 0
    capsys.readouterr()


def test_an_export_validates_and_reopens_without_being_told_where_the_images_are(
    project_folder: Path, tmp_path: Path, capsys
) -> None:
    from segview.io.detect import load_dataset

    out = tmp_path / "export"
    rc = main(["export", str(project_folder), "--to", "coco,coco-panoptic,semantic-png", "--out", str(out),
               "--scope", "all"])
    assert rc == 0, capsys.readouterr()
    capsys.readouterr()
    for name in ("instances.json", "panoptic.json", "semantic"):
        assert main(["validate", str(out / name)]) == 0, name
        printed = capsys.readouterr().out
        assert printed.strip().endswith("valid") and "not found" not in printed
        assert f"image folder recorded by the segview export: {project_folder.resolve()}" in printed, printed
        dataset, report = load_dataset(out / name)
        assert report.ok and dataset.image_root == project_folder.resolve()
        assert sorted(r.file_name for r in dataset.images) == [f"img_{i}.png" for i in range(4 if name != "semantic"
                                                                                             else 3)]
        assert all(dataset.image_path(r).is_file() for r in dataset.images)
    info = json.loads((out / "instances.json").read_text())["info"]
    assert info["segview_image_root"] == str(project_folder.resolve())
    assert COCO(str(out / "instances.json")).dataset["info"]["description"] == "exported by segview"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert main(["validate", str(out / "instances.json"), "--images", str(elsewhere)]) == 1  # --images wins
    assert "INVALID" in capsys.readouterr().out
    beside = tmp_path / "beside"  # images beside the JSON are used before the recorded folder
    beside.mkdir()
    (beside / "instances.json").write_bytes((out / "instances.json").read_bytes())
    for i in range(4):
        (beside / f"img_{i}.png").write_bytes((project_folder / f"img_{i}.png").read_bytes())
    dataset, report = load_dataset(beside / "instances.json")
    assert dataset.image_root == beside and not report.issues


def test_scope_all_exports_the_untouched_image_and_says_what_that_means(project_folder: Path, tmp_path: Path,
                                                                        capsys) -> None:
    out = tmp_path / "export"
    assert main(["export", str(project_folder), "--to", "coco", "--out", str(out), "--scope", "all"]) == 0
    printed = capsys.readouterr().out
    assert "Exported 4 image(s) (all), 3 annotated" in printed
    assert "1 image(s) without any annotation are exported as images with no segments" in printed
    assert "background-only" in printed
    document = json.loads((out / "instances.json").read_text())
    assert [i["file_name"] for i in document["images"]] == [f"img_{i}.png" for i in range(4)]


def test_category_ids_are_kept_by_default_after_a_class_is_deleted(project_folder: Path, tmp_path: Path,
                                                                   capsys) -> None:
    from segview.core.categories import CategorySet

    with Project.open(project_folder) as project:
        for name in project.corrected_names():  # no segment of class 3 is left: it can be deleted
            annotation = project.load_annotation(name)
            annotation.segments = {sid: Segment(2) if s.category_id == 3 else s for sid, s in annotation.segments.items()}
            project.save_annotation(name, annotation)
        project.set_categories(CategorySet([c for c in project.categories() if c.id != 3]))
    out = tmp_path / "export"
    assert main(["export", str(project_folder), "--to", "coco,semantic-png", "--out", str(out)]) == 0, capsys.readouterr()
    assert [c["id"] for c in json.loads((out / "instances.json").read_text())["categories"]] == [1, 2]  # things
    assert [c["id"] for c in json.loads((out / "semantic" / "classes.json").read_text())] == [1, 2, 4, 5]
