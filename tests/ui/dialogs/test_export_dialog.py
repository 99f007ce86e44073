"""The export dialog driven as a user would: choose, click Export, wait for the worker, read the result."""

import numpy as np
import pytest
from pycocotools.coco import COCO
from PySide6.QtCore import Qt

from segview.core.dataset import Dataset
from segview.io.detect import DatasetFormat, load_dataset
from segview.io.export import export_steps
from segview.ui.dialogs.export_dialog import ExportDialog
from tests.factories import make_dataset


@pytest.fixture
def source(tmp_path):
    return make_dataset(tmp_path / "images", n_images=3, seed=7)


def _dialog(qtbot, source, folder, selected=()):
    calls = []

    def dataset_for(scope, chosen):
        calls.append((scope, chosen))
        if scope == "selected":
            return Dataset(source.categories, [source.images[i] for i in chosen], source.image_root)
        return source

    dialog = ExportDialog(dataset_for, selected=selected, folder=folder)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog, calls


def _export(qtbot, dialog):
    with qtbot.waitSignal(dialog.export_finished, timeout=60000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert not dialog.is_running()
    return blocker.args[0]


def test_export_writes_every_format_and_reads_back_pixel_exact(qtbot, tmp_path, source):
    out = tmp_path / "export"
    dialog, calls = _dialog(qtbot, source, out)
    values = []
    dialog.progress.valueChanged.connect(values.append)
    result = _export(qtbot, dialog)
    assert calls == [("corrected", [])]
    assert result.report.ok, result.report.format()
    assert {p.name for p in result.paths} == {"instances.json", "panoptic.json", "panoptic", "semantic"}
    formats = len(dialog.formats())
    assert dialog.progress.value() == dialog.progress.maximum() == export_steps(source, dialog.formats())
    assert dialog.progress.maximum() > 2 * formats
    assert values == sorted(values) and len(values) > 2 * formats  # the bar moved per image, not per format
    text = dialog.report_view.toPlainText()
    assert str(out / "instances.json") in text and "0 error(s)" in text
    assert "Export done and checked" in dialog.status.text()

    coco = COCO(str(out / "instances.json"))
    mapping = source.categories.renumbered(1)[1]
    for record in source.images:
        ann = record.annotation
        things = {
            sid for sid, s in ann.segments.items() if source.categories.is_thing(s.category_id) and ann.mask(sid).any()
        }
        exported = coco.loadAnns(coco.getAnnIds(imgIds=[record.id]))
        assert len(exported) == len(things)
        for item in exported:
            mask = coco.annToMask(item).astype(bool)
            sid = int(np.bincount(ann.segment_map[mask]).argmax())
            assert np.array_equal(mask, ann.mask(sid)), (record.file_name, sid)
            assert item["category_id"] == mapping[ann.segments[sid].category_id]

    panoptic, report = load_dataset(out / "panoptic.json", DatasetFormat.COCO_PANOPTIC, image_root=source.image_root)
    assert report.ok
    for record, back in zip(source.images, panoptic.images, strict=True):
        ann, got = record.annotation, back.annotation
        present = sorted(int(v) for v in np.unique(ann.segment_map) if v)
        relabel = np.zeros(int(ann.segment_map.max()) + 1, dtype=np.int64)
        relabel[present] = np.arange(1, len(present) + 1)  # panoptic ids are renumbered 1..N on load
        assert np.array_equal(got.segment_map, relabel[ann.segment_map])
        assert all(got.segments[relabel[s]].category_id == ann.segments[s].category_id for s in present)


def test_options_reach_the_export(qtbot, tmp_path, source):
    out = tmp_path / "only-selected"
    dialog, calls = _dialog(qtbot, source, out, selected=[1])
    dialog.format_boxes[DatasetFormat.COCO_PANOPTIC].setChecked(False)
    dialog.format_boxes[DatasetFormat.SEMANTIC_PNG].setChecked(False)
    dialog.scope_buttons["selected"].setChecked(True)
    assert not dialog.id_base.isEnabled()
    dialog.renumber.setChecked(True)
    dialog.id_base.setValue(20)
    dialog.mask_format.setCurrentIndex(dialog.mask_format.findData("rle"))
    result = _export(qtbot, dialog)
    assert calls == [("selected", [1])]
    assert [p.name for p in result.paths] == ["instances.json"]
    coco = COCO(str(out / "instances.json"))
    assert [img["file_name"] for img in coco.dataset["images"]] == ["img_001.png"]
    assert min(c["id"] for c in coco.dataset["categories"]) == 20
    assert all(isinstance(a["segmentation"], dict) for a in coco.dataset["annotations"])


def test_export_button_needs_a_format_and_a_folder(qtbot, tmp_path, source):
    dialog, _ = _dialog(qtbot, source, "")
    assert not dialog.export_button.isEnabled()
    dialog.folder.setText(str(tmp_path))
    assert dialog.export_button.isEnabled()
    for box in dialog.format_boxes.values():
        box.setChecked(False)
    assert not dialog.export_button.isEnabled()
    assert not dialog.scope_buttons["selected"].isEnabled()


def test_unwritable_folder_shows_an_error_in_the_dialog(qtbot, tmp_path, source):
    blocker_file = tmp_path / "a-file"
    blocker_file.write_text("not a folder")
    dialog, _ = _dialog(qtbot, source, blocker_file / "export")
    with qtbot.waitSignal(dialog.export_failed, timeout=60000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "Choose a folder you can write to" in blocker.args[0]
    assert "Choose a folder you can write to" in dialog.status.text()
    assert dialog.report_view.toPlainText() == blocker.args[0]
    assert not dialog.is_running() and dialog.export_button.isEnabled() and dialog.isVisible()


def test_files_of_the_users_own_in_the_folder_stop_the_export_with_a_message(qtbot, tmp_path, source):
    out = tmp_path / "export"
    (out / "semantic").mkdir(parents=True)
    (out / "semantic" / "my_notes.txt").write_text("notes")
    dialog, _ = _dialog(qtbot, source, out)
    with qtbot.waitSignal(dialog.export_failed, timeout=60000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    message = blocker.args[0]
    assert "my_notes.txt" in message and str(out / "semantic") in message and "Choose an empty folder" in message
    assert dialog.report_view.toPlainText() == message and message in dialog.status.text()
    assert (out / "semantic" / "my_notes.txt").read_text() == "notes"
    assert sorted(p.name for p in out.rglob("*")) == ["my_notes.txt", "semantic"]


def test_scopes_default_to_corrected_and_say_what_they_export(qtbot, tmp_path, source):
    dialog, _ = _dialog(qtbot, source, tmp_path / "out")
    assert dialog.scope() == "corrected"
    assert "you have not corrected without any annotation" in dialog.scope_buttons["all"].text()
    predictions = dialog.scope_buttons["predictions"]
    assert "using the model's predictions for images you have not corrected" in predictions.text()
    dialog.hide()
    dialog.scope_buttons["all"].setText("All images with results (2 of 6)")  # an older caller's wording
    dialog.show()
    assert dialog.scope_buttons["all"].text() == "All images, those you have not corrected without any annotation"


def test_the_report_counts_images_exported_from_predictions(qtbot, tmp_path, source):
    from segview.core.export_scope import ScopedDataset

    predicted = ScopedDataset(source.categories, source.images, source.image_root, ("img_000.png", "img_002.png"))
    dialog = ExportDialog(lambda scope, chosen: predicted, folder=tmp_path / "out")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.scope_buttons["predictions"].setChecked(True)
    result = _export(qtbot, dialog)
    assert any(i.message.startswith("2 image(s) are exported from the model's unreviewed predictions")
               for i in result.report.warnings)
    assert "unreviewed predictions" in dialog.report_view.toPlainText()


def _without_category_3(source):
    """The source after the person deleted class 3 (its segments relabelled to 2 first): ids 1, 2, 4, 5."""
    from dataclasses import replace

    from segview.core.categories import CategorySet

    for record in source.images:
        segments = record.annotation.segments
        for sid, segment in list(segments.items()):
            if segment.category_id == 3:
                segments[sid] = replace(segment, category_id=2)
    return Dataset(CategorySet([c for c in source.categories if c.id != 3]), source.images, source.image_root)


def test_category_ids_are_kept_by_default_as_on_the_command_line(qtbot, tmp_path, source):
    import json

    gapped = _without_category_3(source)
    dialog = ExportDialog(lambda scope, chosen: gapped, folder=tmp_path / "kept")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.renumber.isChecked() and dialog.category_id_base() is None
    assert "kept" in dialog.renumber.toolTip()
    result = _export(qtbot, dialog)
    assert result.report.ok, result.report.format()
    for name, ids in (("instances.json", [1, 2]), ("panoptic.json", [1, 2, 4, 5])):  # COCO instances: things
        assert [c["id"] for c in json.loads((tmp_path / "kept" / name).read_text())["categories"]] == ids
    assert [c["id"] for c in json.loads((tmp_path / "kept" / "semantic" / "classes.json").read_text())] == [1, 2, 4, 5]

    dialog.folder.setText(str(tmp_path / "renumbered"))
    dialog.renumber.setChecked(True)
    assert dialog.id_base.isEnabled() and dialog.category_id_base() == 1
    assert _export(qtbot, dialog).report.ok
    document = json.loads((tmp_path / "renumbered" / "instances.json").read_text())
    assert [c["id"] for c in document["categories"]] == [1, 2]  # the things of 1, 2, 3, 4


def test_a_dataset_the_check_refuses_says_nothing_was_written(qtbot, tmp_path, source):
    from segview.core.segments import Segment

    broken = source.images[0].annotation
    broken.segments[max(broken.segments)] = Segment(999)  # a class the project does not have
    dialog, _ = _dialog(qtbot, source, tmp_path / "out")
    result = _export(qtbot, dialog)
    assert not result.paths and not (tmp_path / "out" / "instances.json").exists()
    assert dialog.status.text().startswith("Nothing exported")
    assert dialog.report_view.toPlainText().startswith("Nothing was written.")
    assert "999" in dialog.report_view.toPlainText()
