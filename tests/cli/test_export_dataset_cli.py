"""`segview export DATASET`: a dataset exported with the edits its project holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segview.cli import main
from segview.core import edits
from segview.core.history import EditHistory
from segview.core.segments import Annotation, Segment
from segview.io.coco import save_coco
from segview.io.detect import load_dataset
from segview.io.project import Project, dataset_store
from tests.factories import make_dataset, write_image


def test_export_of_a_dataset_carries_its_edits(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "ds"
    original = make_dataset(folder, n_images=3)
    coco = folder / "instances.json"
    save_coco(original, coco)
    loaded, _ = load_dataset(coco)
    record = loaded.images[1]
    images = [(r.file_name, r.width, r.height) for r in loaded.images]
    with Project.open(folder, store=dataset_store(coco), images=images) as project:  # as the window does
        history = EditHistory(record.annotation)
        project.attach(record.file_name, history)
        mask = edits.brush_mask([(5, 5), (40, 30)], 6, record.height, record.width)
        history.apply(edits.new_segment(history.annotation, mask, Segment(1))[1], "Brush")
        edited = history.annotation.copy()
    out = tmp_path / "out"
    assert main(["export", str(coco), "--to", "coco", "--out", str(out), "--scope", "all"]) == 0
    assert "Exported 3 image(s)" in capsys.readouterr().out
    exported, _ = load_dataset(out / "instances.json", image_root=folder)
    by_name = {r.file_name: r.annotation for r in exported.images}
    assert np.array_equal(by_name[record.file_name].segment_map > 0, edited.segment_map > 0)
    first = loaded.images[0]
    assert np.array_equal(by_name[first.file_name].segment_map > 0, first.annotation.segment_map > 0)


def test_export_of_a_labelme_folder_lists_the_images_edited_in_segview_only_once_corrected(tmp_path: Path,
                                                                                             capsys) -> None:
    folder = tmp_path / "labelme"
    for i in range(3):
        write_image(folder / f"p{i}.png", 20, 30, seed=i)
    (folder / "p0.json").write_text('{"shapes": [{"label": "cat", "points": [[2, 2], [20, 2], [20, 15]],'
                                    ' "shape_type": "polygon"}], "imagePath": "p0.png", "imageHeight": 20,'
                                    ' "imageWidth": 30}')
    out = tmp_path / "out"
    assert main(["export", str(folder), "--to", "coco", "--out", str(out)]) == 0
    assert "Exported 1 image(s) (corrected)" in capsys.readouterr().out
    with Project.open(folder, store=dataset_store(folder), images=[("p2.png", 30, 20)]) as project:
        history = EditHistory(Annotation(20, 30))  # an image without a labelme file, edited in segview
        project.set_categories(load_dataset(folder)[0].categories)
        project.attach("p2.png", history)
        history.apply(edits.new_segment(history.annotation, edits.brush_mask([(3, 3), (9, 9)], 3, 20, 30),
                                        Segment(1))[1], "Brush")
    assert main(["export", str(folder), "--to", "coco", "--out", str(tmp_path / "again")]) == 0
    assert "Exported 2 image(s) (corrected)" in capsys.readouterr().out
