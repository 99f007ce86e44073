"""collect_images: the photos of a folder, never segview's own outputs (a project, an export's masks)."""

import json
from pathlib import Path

import pytest

from segview.core.report import Report
from segview.errors import SegviewError
from segview.io.export import export_dataset
from segview.io.folder_images import collect_images
from tests.factories import make_dataset, write_image

ALL = ["coco", "coco-panoptic", "semantic-png"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three photos, one in a subfolder, and a project database folder holding a PNG."""
    folder = tmp_path / "photos"
    for name in ("scene_02024.png", "b.jpg", "trip/c.png"):
        write_image(folder / name, 16, 20)
    write_image(folder / ".segview" / "thumb.png", 4, 4)
    return folder


def _names(folder: Path, files: list[Path]) -> list[str]:
    return [f.relative_to(folder.resolve()).as_posix() for f in files]


def test_an_export_inside_the_folder_is_not_opened_as_images(folder):
    dataset = make_dataset(None, n_images=2, height=16, width=20)
    dataset.images[0].file_name = "scene_02024.png"
    report, _ = export_dataset(dataset, folder / "export", ALL)
    assert report.ok, report.format()
    assert (folder / "export" / "semantic" / "scene_02024.png").is_file()
    notes = Report()
    root, files = collect_images([folder], notes)
    assert root == folder.resolve()
    assert _names(folder, files) == ["b.jpg", "scene_02024.png", "trip/c.png"]
    (note,) = notes.issues
    assert note.message.startswith("4 file(s) not opened as images: they are the label masks of a segview export")
    assert str(folder / "export" / "semantic") in note.message


def test_an_export_into_the_photo_folder_itself_hides_only_its_own_files(folder):
    dataset = make_dataset(None, n_images=1, height=16, width=20)
    export_dataset(dataset, folder, ["semantic-png"])
    _root, files = collect_images([folder])
    assert _names(folder, files) == ["b.jpg", "scene_02024.png", "trip/c.png"]


def test_exports_written_before_the_manifest_are_recognised_by_their_layout(folder):
    old = folder / "old-export"
    report, _ = export_dataset(make_dataset(None, n_images=2, height=16, width=20), old, ALL)
    assert report.ok
    (old / ".segview-export.json").unlink()
    notes = Report()
    _root, files = collect_images([folder], notes)
    assert _names(folder, files) == ["b.jpg", "scene_02024.png", "trip/c.png"]
    assert notes.issues[0].message.startswith("4 file(s) not opened as images")


def test_a_folder_of_only_masks_says_why_nothing_was_found(tmp_path):
    export_dataset(make_dataset(None, n_images=2), tmp_path / "out", ["semantic-png"])
    with pytest.raises(SegviewError, match=r"2 label mask\(s\) of a segview export were skipped"):
        collect_images([tmp_path / "out"])
    assert json.loads((tmp_path / "out" / ".segview-export.json").read_text())["outputs"]


def test_a_plain_folder_reports_nothing(folder):
    notes = Report()
    _root, files = collect_images([folder, folder / "b.jpg"], notes)
    assert len(files) == 4 and not notes.issues  # a file named directly is always taken


def test_a_folder_tree_deeper_than_the_interpreter_recursion_limit_is_walked_without_error(tmp_path: Path):
    """Python 3.11's os.walk recursed once per level (RecursionError at ~1,000 folders): the walk is
    iterative, takes the images down to MAX_DEPTH folders and reports the folders below as not searched."""
    from segview.io.file_names import MAX_DEPTH
    from segview.io.folder_images import image_files

    top = tmp_path / "photos"
    write_image(top / "a.png", 8, 8)
    folders = [top]
    for level in range(1, 1101):
        folders.append(folders[-1] / "d")
        folders[-1].mkdir(parents=True)
        if level in (MAX_DEPTH, MAX_DEPTH + 1):
            write_image(folders[-1] / f"at{level}.png", 8, 8)
    try:
        report = Report()
        _root, files = collect_images([top], report)
        assert sorted(f.name for f in files) == ["a.png", f"at{MAX_DEPTH}.png"]
        assert any("not searched" in issue.message and f"more than {MAX_DEPTH} folders" in issue.message
                   for issue in report.warnings)
        assert sorted(p.name for p in image_files(top)) == ["a.png", f"at{MAX_DEPTH}.png"]
    finally:  # bottom-up: pytest's clean-up (shutil.rmtree) recurses too and would fail on this tree
        for folder in reversed(folders):
            for file in folder.iterdir():
                if not file.is_dir():
                    file.unlink()
            folder.rmdir()
