"""The main window's Classes dock and File → Export…, over a dataset opened from disk."""

import numpy as np
from pycocotools.coco import COCO
from PySide6.QtCore import Qt

from segview.io.coco import save_coco
from tests.factories import make_dataset


def _open_dataset(window, tmp_path):
    dataset = make_dataset(tmp_path / "images", n_images=2, seed=4)
    save_coco(dataset, tmp_path / "images" / "instances.json")
    window.open_path(tmp_path / "images" / "instances.json")
    return dataset


def test_classes_dock_edits_the_workspace_categories(qtbot, window, tmp_path):
    _open_dataset(window, tmp_path)
    panel = window.classes_panel
    assert panel.categories == window.workspace.categories and len(panel.categories) == 3  # COCO: the things
    with qtbot.waitSignal(panel.categories_changed):
        assert panel.rename(2, "automobile")
    assert window.workspace.categories[2].name == "automobile"
    used = window._category_in_use(1)
    assert used > 0 and not panel.delete(1)
    assert f"{used} segment(s) still use 'person'" in panel.message_text()
    assert 1 in window.workspace.categories
    assert window.findChild(type(window._docks["Classes"]), "dock-classes") is window._docks["Classes"]


def test_export_action_exports_the_workspace(qtbot, window, tmp_path):
    source = _open_dataset(window, tmp_path)
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    window.export_action.trigger()
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible()
    out = tmp_path / "export"
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(dialog.export_finished, timeout=60000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.report.ok, result.report.format()
    coco = COCO(str(out / "instances.json"))
    assert sorted(i["file_name"] for i in coco.dataset["images"]) == ["img_000.png", "img_001.png"]
    for image in coco.dataset["images"]:
        record = source.by_file_name(image["file_name"])
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]])):
            mask = coco.annToMask(ann).astype(bool)
            sid = int(np.bincount(record.annotation.segment_map[mask]).argmax())
            assert np.array_equal(mask, record.annotation.mask(sid))
    assert window.settings.value("export_folder") == str(out)
    dialog.close()
