"""The images of a dataset folder that its annotation files do not list."""

from __future__ import annotations

from pathlib import Path

from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Report
from segview.io.folder_images import add_unlisted_images
from tests.factories import make_categories, write_image


def test_unlisted_images_join_without_annotation_hidden_and_unreadable_ones_do_not(tmp_path: Path) -> None:
    write_image(tmp_path / "b.png", 10, 12)
    write_image(tmp_path / "sub" / "a.jpg", 8, 6)
    write_image(tmp_path / ".segview" / "thumb.png", 4, 4)  # a hidden folder: not an image of the dataset
    write_image(tmp_path / ".hidden.png", 4, 4)
    (tmp_path / "c.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("x")
    dataset = Dataset(make_categories(), [ImageRecord(7, "b.png", 12, 10)], image_root=tmp_path)
    report = Report()
    assert add_unlisted_images(dataset, report) == 1
    assert [(r.file_name, r.width, r.height, r.annotation) for r in dataset.images] == [
        ("b.png", 12, 10, None), ("sub/a.jpg", 6, 8, None)]
    assert dataset.images[1].id == 8  # after the dataset's own ids
    assert [issue.image for issue in report.warnings] == ["c.png"]
