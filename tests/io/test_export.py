"""export_dataset: every format written into one folder, replaced as a whole, and checked by reading back."""

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from segview.core.views import semantic_view
from segview.errors import WriteError
from segview.io import export
from segview.io.detect import DatasetFormat, load_dataset
from segview.io.export import (
    EXPORT_FORMATS,
    LAYOUTS,
    ExportError,
    export_dataset,
    export_steps,
    output_path,
    validate_export,
)
from tests.factories import make_dataset

ALL = [f.value for f in EXPORT_FORMATS]


def _thing_masks(dataset, base=1):
    """image id → {mask bytes: exported category id} of every thing segment with pixels."""
    _, mapping = dataset.categories.renumbered(base)
    out = {}
    for record in dataset.images:
        ann = record.annotation
        out[record.id] = {
            (ann.segment_map == sid).tobytes(): mapping[seg.category_id]
            for sid, seg in ann.segments.items()
            if dataset.categories.is_thing(seg.category_id) and (ann.segment_map == sid).any()
        }
    return out


def test_exports_all_formats_that_read_back_identically(tmp_path):
    dataset = make_dataset(tmp_path / "images", n_images=3, seed=3)
    steps = []
    report, paths = export_dataset(
        dataset, tmp_path / "out", ALL, progress=lambda d, t, m: steps.append((d, t, m))
    )
    assert report.ok, report.format()
    out = tmp_path / "out"
    assert paths == [out / "instances.json", out / "panoptic", out / "panoptic.json", out / "semantic"]
    assert steps[0] == (0, 27, "Writing COCO instances…") and steps[-1] == (27, 27, "Done")
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [export.EXPORT_MANIFEST]  # no staging

    coco = COCO(str(out / "instances.json"))
    expected = _thing_masks(dataset)
    for record in dataset.images:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[record.id]))
        got = {coco.annToMask(a).astype(bool).tobytes(): a["category_id"] for a in anns}
        assert got == expected[record.id]

    panoptic, _ = load_dataset(out / "panoptic.json", DatasetFormat.COCO_PANOPTIC, image_root=tmp_path / "images")
    semantic, _ = load_dataset(out / "semantic", DatasetFormat.SEMANTIC_PNG)
    for source, pan, sem in zip(dataset.images, panoptic.images, semantic.images, strict=True):
        ann = source.annotation
        present = sorted(int(v) for v in np.unique(ann.segment_map) if v)
        relabel = np.zeros(ann.segment_map.max() + 1, dtype=np.int64)
        relabel[present] = np.arange(1, len(present) + 1)
        assert np.array_equal(pan.annotation.segment_map, relabel[ann.segment_map])
        assert [pan.annotation.segments[relabel[s]].category_id for s in present] == [
            ann.segments[s].category_id for s in present
        ]
        assert np.array_equal(semantic_view(sem.annotation), semantic_view(ann))


def test_progress_advances_per_image_in_every_step(tmp_path):
    dataset = make_dataset(None, n_images=5, seed=2)
    dataset.images[3].annotation = None  # listed only, still a step of each phase
    calls = []
    report, _ = export_dataset(dataset, tmp_path, ALL, progress=lambda *call: calls.append(call))
    assert report.ok, report.format()
    total = export_steps(dataset, ALL)
    assert total == 3 * 5 * len(ALL)
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and done[0] == 0
    assert {t for _, t, _ in calls} == {total}
    assert calls[-1] == (total, total, "Done")
    assert len(calls) >= len(dataset.images) * len(ALL) > 2 * len(ALL)
    for fmt in EXPORT_FORMATS:
        label = LAYOUTS[fmt].label
        for prefix in (f"Writing {label}…", f"Checking {label}: comparing…"):
            assert [m for _, _, m in calls if m.startswith(prefix)] == [prefix] + [
                f"{prefix} {k}/5" for k in range(1, 6)
            ]
        assert any(m.startswith(f"Checking {label}: reading back… ") for _, _, m in calls)


def test_progress_is_throttled_but_keeps_each_steps_first_and_last_call(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "monotonic", lambda: 0.0)  # no time passes: only the 1 % rule
    dataset = make_dataset(None, n_images=300, seed=4, height=8, width=10)
    calls = []
    report, _ = export_dataset(dataset, tmp_path, ["coco"], progress=lambda *call: calls.append(call))
    assert report.ok, report.format()
    writing = [m for _, _, m in calls if m.startswith("Writing")]
    assert writing[:2] == ["Writing COCO instances…", "Writing COCO instances… 1/300"]
    assert writing[-1] == "Writing COCO instances… 300/300"
    assert len(writing) <= 2 + 100
    assert calls[-2][2] == "Checking COCO instances: comparing… 300/300"
    assert len(calls) <= 3 * 102 + 1


def test_category_id_base_renumbers_every_format(tmp_path):
    dataset = make_dataset(None, n_images=1)
    report, _ = export_dataset(dataset, tmp_path, ALL, category_id_base=10)
    assert report.ok, report.format()
    doc = json.loads((tmp_path / "instances.json").read_text())
    assert [c["id"] for c in doc["categories"]] == [10, 11, 12]  # the things: their ids as in the other formats
    panoptic = json.loads((tmp_path / "panoptic.json").read_text())
    assert [c["id"] for c in panoptic["categories"]] == [10, 11, 12, 13, 14]
    labels = np.asarray(Image.open(tmp_path / "semantic" / "img_000.png"))
    assert set(np.unique(labels)) <= {0, 10, 11, 12, 13, 14}


def test_a_new_export_replaces_the_folders_of_the_old_one(tmp_path):
    export_dataset(make_dataset(None, n_images=3), tmp_path, ALL)
    smaller = make_dataset(None, n_images=1, seed=5)
    report, _ = export_dataset(smaller, tmp_path, ALL)
    assert report.ok, report.format()
    assert sorted(p.name for p in (tmp_path / "semantic").glob("*.png")) == ["img_000.png"]
    assert sorted(p.name for p in (tmp_path / "panoptic").glob("*.png")) == ["img_000.png"]


def test_polygons_fill_holes_with_warnings_not_errors(tmp_path):
    dataset = make_dataset(None, n_images=4, seed=1)
    report, _ = export_dataset(dataset, tmp_path, ["coco"], mask_format="polygon")
    assert report.ok, report.format()
    assert any("holes" in i.message for i in report.warnings)
    assert any("read back" in i.message for i in report.warnings)  # expected: explained by the writer
    assert all(i.message.startswith("COCO instances: ") for i in report.issues[:-1])


def test_validation_finds_a_tampered_output(tmp_path):
    dataset = make_dataset(None, n_images=2)
    export_dataset(dataset, tmp_path, ["semantic-png"])
    mask = tmp_path / "semantic" / "img_001.png"
    labels = np.asarray(Image.open(mask)).copy()
    labels[:5, :5] = 0
    Image.fromarray(labels).save(mask)
    report = validate_export(dataset, output_path(tmp_path, "semantic-png"), "semantic-png")
    assert [(i.image, i.message) for i in report.errors] == [
        ("img_001.png", "read back, the image has 25 pixel(s) of another class than the annotation")
    ]
    mask.unlink()
    missing = validate_export(dataset, output_path(tmp_path, "semantic-png"), "semantic-png")
    assert any("missing" in i.message and i.image == "img_001.png" for i in missing.errors)


def test_unwritable_folder_and_bad_formats_raise_segview_errors(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    dataset = make_dataset(None, n_images=1)
    with pytest.raises(WriteError, match="Choose a folder"):
        export_dataset(dataset, blocker / "out", ALL)
    with pytest.raises(WriteError, match="is a file"):
        export_dataset(dataset, blocker, ALL)
    with pytest.raises(ExportError, match="at least one"):
        export_dataset(dataset, tmp_path / "out", [])
    with pytest.raises(ExportError, match="import format only"):
        export_dataset(dataset, tmp_path / "out", ["labelme"])


def test_a_format_that_writes_nothing_is_an_error_not_a_path(tmp_path):
    report, paths = export_dataset(make_dataset(None, n_images=1), tmp_path, ["semantic-png"], category_id_base=0)
    assert paths == [] and not report.ok
    assert any("nothing was written" in i.message for i in report.errors)


def test_nothing_is_written_when_the_check_before_export_finds_errors(tmp_path):
    from segview.core.segments import Segment

    dataset = make_dataset(tmp_path / "images", n_images=2)
    record = dataset.images[0]
    record.annotation.segments[max(record.annotation.segments)] = Segment(99)  # no such category
    report, paths = export_dataset(dataset, tmp_path / "out", ["coco", "coco-panoptic"])
    assert paths == [] and not report.ok
    assert any("category id 99" in i.message for i in report.errors)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _user_files(out):
    """A note in semantic/ and a photo in panoptic/: files of the person's own, not of segview."""
    (out / "semantic").mkdir(parents=True)
    (out / "panoptic").mkdir()
    (out / "semantic" / "my_notes.txt").write_text("do not lose me")
    (out / "panoptic" / "photo.png").write_bytes(b"my photo")


def test_files_segview_did_not_write_stop_the_export_before_anything_is_written(tmp_path):
    out = tmp_path / "out"
    _user_files(out)
    with pytest.raises(export.ForeignFilesError) as caught:
        export_dataset(make_dataset(None, n_images=2), out, ALL)
    message = str(caught.value)
    assert str(out / "semantic") in message and "my_notes.txt" in message
    assert str(out / "panoptic") in message and "photo.png" in message
    assert "Choose an empty folder, or move those files away" in message
    assert sorted(caught.value.files) == ["panoptic/photo.png", "semantic/my_notes.txt"]
    assert (out / "semantic" / "my_notes.txt").read_text() == "do not lose me"
    assert (out / "panoptic" / "photo.png").read_bytes() == b"my photo"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "panoptic", "panoptic/photo.png", "semantic", "semantic/my_notes.txt"]  # nothing written


def test_a_json_of_someone_else_is_not_overwritten_but_other_formats_go_ahead(tmp_path):
    (tmp_path / "instances.json").write_text('{"images": [], "annotations": [], "categories": []}')
    with pytest.raises(export.ForeignFilesError, match="instances.json"):
        export_dataset(make_dataset(None, n_images=1), tmp_path, ["coco"])
    report, paths = export_dataset(make_dataset(None, n_images=1), tmp_path, ["semantic-png"])
    assert report.ok and paths == [tmp_path / "semantic"]  # a file outside what it replaces is no obstacle


def test_segviews_own_earlier_export_is_replaced_but_a_file_added_to_it_is_kept(tmp_path):
    export_dataset(make_dataset(None, n_images=3), tmp_path, ALL)
    manifest = json.loads((tmp_path / export.EXPORT_MANIFEST).read_text())
    assert "semantic/img_002.png" in manifest["outputs"]["semantic-png"]
    (tmp_path / "semantic" / ".DS_Store").write_bytes(b"finder")  # a file browser's, let pass
    report, _ = export_dataset(make_dataset(None, n_images=1, seed=5), tmp_path, ["semantic-png"])
    assert report.ok, report.format()
    manifest = json.loads((tmp_path / export.EXPORT_MANIFEST).read_text())
    assert manifest["outputs"]["semantic-png"] == ["semantic/classes.json", "semantic/classes.txt",
                                                   "semantic/img_000.png"]
    assert "panoptic/img_002.png" in manifest["outputs"]["coco-panoptic"]  # not rewritten: still listed
    (tmp_path / "semantic" / "mine.txt").write_text("x")
    with pytest.raises(export.ForeignFilesError, match="mine.txt"):
        export_dataset(make_dataset(None, n_images=1), tmp_path, ALL)
    assert (tmp_path / "semantic" / "mine.txt").exists()


def test_the_report_warns_about_images_without_annotation_and_unreviewed_predictions(tmp_path):
    dataset = make_dataset(None, n_images=4)
    dataset.images[1].annotation = dataset.images[3].annotation = None
    report, paths = export_dataset(dataset, tmp_path, ["coco"], unreviewed=["img_000.png", "img_001.png"])
    assert report.ok and paths
    warnings = [i.message for i in report.warnings]
    assert any(m.startswith("2 image(s) without any annotation are exported") and "background-only" in m
               for m in warnings), warnings
    assert any(m.startswith("1 image(s) are exported from the model's unreviewed predictions") for m in warnings)
    clean, _ = export_dataset(make_dataset(None, n_images=2), tmp_path / "clean", ["coco"])
    assert not clean.warnings


def test_a_manifest_segview_did_not_write_is_a_foreign_file(tmp_path):
    (tmp_path / export.EXPORT_MANIFEST).write_text('{"my": "own notes"}')
    with pytest.raises(export.ForeignFilesError, match=r"\.segview-export\.json") as caught:
        export_dataset(make_dataset(None, n_images=1), tmp_path, ["coco"])
    assert caught.value.files == [export.EXPORT_MANIFEST]
    assert (tmp_path / export.EXPORT_MANIFEST).read_text() == '{"my": "own notes"}'
    assert not (tmp_path / "instances.json").exists()


def test_staging_folders_of_dead_exports_are_removed_by_the_next_one_but_a_live_ones_are_kept(tmp_path):
    import os
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)  # a process that has exited (kill -9 during an export leaves its folder)
    host = export._host()
    dead = tmp_path / f".segview-export-{dead_pid}@{host}-abc_12x"
    live = tmp_path / f".segview-export-{os.getppid()}@{host}-def34"
    old_unnamed, new_unnamed = tmp_path / ".segview-export-k2j_4l", tmp_path / ".segview-export-zz9"
    for folder in (dead, live, old_unnamed, new_unnamed):
        (folder / "semantic").mkdir(parents=True)
        (folder / "semantic" / "a.png").write_bytes(b"half")
    os.utime(old_unnamed, (0, 0))  # written by an older segview long ago: stale by age
    report, _ = export_dataset(make_dataset(None, n_images=1), tmp_path, ["semantic-png"])
    assert report.ok
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".segview-export-"))
    assert left == [live.name, new_unnamed.name]


def test_a_write_error_in_the_second_format_says_what_was_written_and_what_was_not(tmp_path, monkeypatch):
    import errno

    real = export.save_dataset

    def disk_full_for_panoptic(dataset, fmt, out, **options):
        if fmt is DatasetFormat.COCO_PANOPTIC:
            raise WriteError("The disk is full") from OSError(errno.ENOSPC, "No space left on device")
        return real(dataset, fmt, out, **options)

    monkeypatch.setattr(export, "save_dataset", disk_full_for_panoptic)
    with pytest.raises(WriteError) as caught:
        export_dataset(make_dataset(None, n_images=2), tmp_path, ALL)
    message = str(caught.value)
    assert "stopped while writing COCO panoptic: No space left on device" in message
    assert f"Written, complete: {tmp_path / 'instances.json'}." in message
    assert "Not written: COCO panoptic (panoptic + panoptic.json); semantic PNG (semantic)" in message
    assert "nothing was changed" not in message
    assert (tmp_path / "instances.json").is_file() and not (tmp_path / "panoptic.json").exists()
    manifest = json.loads((tmp_path / export.EXPORT_MANIFEST).read_text())
    assert manifest["outputs"] == {"coco": ["instances.json"]}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".segview-export-")]


def test_single_output_layouts_follow_the_path_given(tmp_path):
    folder, layout = export.single_output_layout(tmp_path / "train.json", "coco-panoptic")
    assert folder == tmp_path and layout.main == "train.json" and layout.paths == ("train", "train.json")
    folder, layout = export.single_output_layout(tmp_path / "masks", "semantic-png")
    assert folder == tmp_path and layout.paths == ("masks",)
    with pytest.raises(ExportError, match="is a folder"):
        export.single_output_layout(tmp_path, "coco")
