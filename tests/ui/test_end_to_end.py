"""The whole job as a user does it: open images, let the model pre-label, correct, export, validate."""

from __future__ import annotations

import numpy as np
from pycocotools.coco import COCO
from PySide6.QtCore import QPoint, QPointF, Qt

from segview.cli import main
from segview.core.edits import brush_mask
from segview.io.coco_panoptic import load_coco_panoptic
from tests.ui.test_main_window import _predict


def _pos(canvas, x: float, y: float) -> QPoint:
    return canvas.mapFromScene(QPointF(x, y))


def test_predict_accept_correct_export_validate_reimport(qtbot, window, scenes, tmp_path, capsys):
    window.open_path(scenes)
    _predict(qtbot, window, "tiny_sem")
    entry = window.current_entry()
    window.editor.actions_.accept_all.trigger()
    annotation = entry.annotation
    assert annotation is not None and annotation.segments
    assert np.array_equal(annotation.segment_map > 0, entry.fused.segment_map > 0)

    # Correct: paint a new thing with the brush over what the model said.
    thing = next(c for c in window.workspace.categories if c.isthing)
    window.editor.tool_actions["brush"].trigger()
    window.editor.select([])
    assert window.editor.panel.set_category(thing.id)
    canvas, viewport = window.canvas, window.canvas.viewport()
    points = [(20.0, 20.0), (50.0, 30.0)]
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pos(canvas, *points[0]))
    qtbot.mouseMove(viewport, _pos(canvas, *points[1]))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _pos(canvas, *points[1]))
    brushed = [sid for sid, s in annotation.segments.items() if s.category_id == thing.id]
    assert len(brushed) == 1
    scene = [canvas.mapToScene(_pos(canvas, *p)) for p in points]
    stroke = brush_mask([(p.x(), p.y()) for p in scene], window.editor.brush_radius, *annotation.segment_map.shape)
    expected = np.zeros(annotation.segment_map.shape, bool)
    expected[stroke.slices] = stroke.mask
    assert np.array_equal(annotation.segment_map == brushed[0], expected)

    window.export_action.trigger()
    dialog = window.export_dialog
    out = tmp_path / "export"
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(dialog.export_finished, timeout=60000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].report.ok, blocker.args[0].report.format()
    assert dialog.scope() == "corrected"  # the default: only what the person made or accepted
    dialog.close()

    capsys.readouterr()
    for path in ("instances.json", "panoptic.json", "semantic"):  # no --images: the export says where they are
        assert main(["validate", str(out / path)]) == 0, capsys.readouterr()
        assert "image folder recorded by the segview export" in capsys.readouterr().out
    coco = COCO(str(out / "instances.json"))
    assert [i["file_name"] for i in coco.dataset["images"]] == [entry.path.name]  # the one image corrected
    image = next(i for i in coco.dataset["images"] if i["file_name"] == entry.path.name)
    masks = [coco.annToMask(a).astype(bool) for a in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))]
    assert any(np.array_equal(m, annotation.segment_map == brushed[0]) for m in masks)

    loaded, report = load_coco_panoptic(out / "panoptic.json")
    assert report.ok and loaded.image_root == scenes.resolve()
    back = loaded.by_file_name(entry.path.name).annotation
    # Same partition of the pixels into segments (ids are renumbered 1..N on load), same classes.
    pairs = set(zip(annotation.segment_map.ravel().tolist(), back.segment_map.ravel().tolist(), strict=True))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})
    for a, b in pairs:
        if a:
            assert annotation.segments[a].category_id == back.segments[b].category_id
