"""The editor driven with real mouse and keyboard events on the canvas: tools, accept, undo/redo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from segview.core import edits
from segview.core.categories import Category, CategorySet
from segview.core.edits import brush_mask
from segview.core.layers import LayerSource, LayerView, layer_name
from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.segments import Source
from segview.core.workspace import ImageStatus

CATEGORIES = CategorySet([Category(1, "disc", True), Category(2, "block", True), Category(3, "ground", False)])
ANN_PANOPTIC = layer_name(LayerSource.ANNOTATION, LayerView.PANOPTIC)
ANN_SEMANTIC = layer_name(LayerSource.ANNOTATION, LayerView.SEMANTIC)
NONE = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton


def _pos(canvas, x: float, y: float) -> QPoint:
    return canvas.mapFromScene(QPointF(x, y))


def _scene(canvas, pos: QPoint) -> tuple[float, float]:
    p = canvas.mapToScene(pos)
    return p.x(), p.y()


def _click(qtbot, canvas, x, y, mods=NONE):
    qtbot.mouseClick(canvas.viewport(), LEFT, mods, _pos(canvas, x, y))


def _drag(qtbot, canvas, points, mods=NONE):
    """Press at the first point, move through the others, release at the last; returns the scene points."""
    positions = [_pos(canvas, x, y) for x, y in points]
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, LEFT, mods, positions[0])
    for p in positions[1:]:
        qtbot.mouseMove(viewport, p)
    qtbot.mouseRelease(viewport, LEFT, mods, positions[-1])
    return [_scene(canvas, p) for p in positions]


def _polygon(qtbot, canvas, points, hole=False):
    """Click a polygon's vertices (Ctrl on the first one cuts a hole) and close it with Enter."""
    for i, (x, y) in enumerate(points):
        _click(qtbot, canvas, x, y, Qt.KeyboardModifier.ControlModifier if hole and i == 0 else NONE)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)


def _with_prediction(window):
    """Give the current image a synthetic prediction: two discs and a block."""
    h, w = window._image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    instances = []
    for cat, score, mask in (
        (1, 0.9, (xx - 30) ** 2 + (yy - 30) ** 2 < 12**2),
        (1, 0.8, (xx - 90) ** 2 + (yy - 60) ** 2 < 10**2),
        (2, 0.7, (xx > 50) & (xx < 70) & (yy > 10) & (yy < 30)),
    ):
        instances.append(InstancePrediction(cat, score, CroppedMask.from_full(mask)))
    window.workspace.set_prediction(window.current, Prediction(h, w, instances), CATEGORIES)
    window.refresh_layers()
    return window.current_entry()


def test_polygon_with_hole_drawn_with_clicks(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    window.editor.tool_actions["polygon"].trigger()
    for x, y in ((10, 10), (70, 10), (70, 70), (10, 70)):
        _click(qtbot, canvas, x, y)
    qtbot.mouseDClick(canvas.viewport(), LEFT, NONE, _pos(canvas, 10, 70))
    annotation = window.current_entry().annotation
    assert annotation is not None and len(annotation.segments) == 1
    (sid,) = annotation.segments
    assert window.editor.selection == [sid]
    for x, y in ((25, 25), (60, 60), (40, 40)):
        assert annotation.segment_map[y, x] == sid
    # Ctrl on the first vertex: the polygon cuts a hole in the selected segment; Enter closes it.
    _polygon(qtbot, canvas, ((30, 30), (50, 30), (50, 50), (30, 50)), hole=True)
    assert annotation.segment_map[40, 40] == 0  # the hole
    assert annotation.segment_map[20, 20] == sid and annotation.segment_map[60, 60] == sid
    assert list(annotation.segments) == [sid]
    assert window.current_entry().status is ImageStatus.CORRECTED


def test_brush_stroke_adds_exactly_the_brushed_pixels_and_undo_redo(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    window.editor.tool_actions["brush"].trigger()
    window.editor.panel.brush.setValue(4)
    window.editor.history()  # an empty annotation to compare against
    annotation = window.current_entry().annotation
    before = annotation.segment_map.copy()
    points = _drag(qtbot, canvas, [(20, 20), (30, 25), (45, 40), (60, 42)])
    expected = brush_mask(points, 4, annotation.height, annotation.width).to_full(annotation.height, annotation.width)
    assert np.array_equal(annotation.segment_map != 0, expected)
    assert len(annotation.segments) == 1
    after = annotation.segment_map.copy()
    stack = window.editor.stacks.group.activeStack()
    assert stack.count() == 1  # one stroke, one step
    # The panoptic layer shares the map and the semantic layer was updated in place.
    assert canvas.layer(ANN_PANOPTIC).labels is annotation.segment_map
    assert np.array_equal(canvas.layer(ANN_SEMANTIC).labels != 0, expected)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(annotation.segment_map, before)
    assert not canvas.layer(ANN_SEMANTIC).labels.any()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(annotation.segment_map, after)
    window.editor.actions_.undo.trigger()
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(annotation.segment_map, after)


def test_escape_aborts_a_stroke_and_brush_size_keys(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    window.editor.tool_actions["brush"].trigger()
    window.editor.panel.brush.setValue(10)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert window.editor.brush_radius > 10
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert window.editor.brush_radius < 10
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, LEFT, NONE, _pos(canvas, 30, 30))
    qtbot.mouseMove(viewport, _pos(canvas, 50, 40))
    annotation = window.current_entry().annotation
    assert annotation.segment_map.any()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(viewport, LEFT, NONE, _pos(canvas, 50, 40))
    assert not annotation.segment_map.any()
    assert window.editor.stacks.group.activeStack().count() == 0


def test_eraser_and_fill(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    editor.tool_actions["fill"].trigger()
    _click(qtbot, canvas, 5, 5)  # fills the whole (void) image with a new segment
    annotation = window.current_entry().annotation
    (sid,) = annotation.segments
    assert (annotation.segment_map == sid).all()
    editor.tool_actions["eraser"].trigger()
    editor.panel.brush.setValue(6)
    points = _drag(qtbot, canvas, [(-3, 50), (131, 50)])
    erased = brush_mask(points, 6, annotation.height, annotation.width).to_full(annotation.height, annotation.width)
    assert np.array_equal(annotation.segment_map == 0, erased)
    # Fill the upper part (cut off by the erased band) with class 2: its own new segment.
    editor.select([])
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    assert editor.category_id == 2
    editor.tool_actions["fill"].trigger()
    _click(qtbot, canvas, 60, 5)
    assert len(annotation.segments) == 2
    new = max(annotation.segments)
    assert annotation.segments[new].category_id == 2
    assert annotation.segment_map[5, 60] == new and annotation.segment_map[90, 60] == sid


def test_accept_all_then_delete_merge_split_relabel_with_undo(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    entry = _with_prediction(window)
    assert entry.annotation is None
    empty = np.zeros(window._image.shape[:2], np.uint16)
    editor.actions_.accept_all.trigger()
    annotation = entry.annotation
    assert np.array_equal(annotation.segment_map, entry.fused.segment_map)
    assert all(s.source is Source.MODEL for s in annotation.segments.values())
    assert window.browser  # the browser got the CORRECTED status
    assert entry.status is ImageStatus.CORRECTED
    accepted = annotation.segment_map.copy()
    disc_a, disc_b, block = sorted(annotation.segments)

    editor.tool_actions["select"].trigger()
    _click(qtbot, canvas, 30, 30)
    assert editor.selection == [disc_a]
    _click(qtbot, canvas, 90, 60, Qt.KeyboardModifier.ShiftModifier)
    assert editor.selection == [disc_a, disc_b]
    qtbot.keyClick(canvas, Qt.Key.Key_M)  # merge
    assert disc_b not in annotation.segments and annotation.segment_map[60, 90] == disc_a
    merged = annotation.segment_map.copy()
    editor.actions_.split.trigger()
    assert set(editor.selection) >= {disc_a} and len(editor.selection) == 2
    assert annotation.segment_map[60, 90] not in (0, disc_a)
    qtbot.keyClick(canvas, Qt.Key.Key_3)  # digit with the select tool: relabel the selection
    assert all(annotation.segments[s].category_id == 3 for s in editor.selection)
    assert all(annotation.segments[s].source is Source.PERSON for s in editor.selection)
    _click(qtbot, canvas, 60, 20)
    assert editor.selection == [block]
    editor.actions_.crowd.trigger()
    assert annotation.segments[block].iscrowd
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert block not in annotation.segments and annotation.segment_map[20, 60] == 0

    stack = editor.stacks.group.activeStack()
    names = [stack.text(i) for i in range(stack.count())]
    assert names[0] == "Accept all predictions" and len(names) == 6
    view = editor.history_view
    assert view.model().rowCount() == 7  # "Opened" + six steps
    for _ in range(5):
        editor.actions_.undo.trigger()
    assert np.array_equal(annotation.segment_map, accepted)
    assert all(s.source is Source.MODEL and not s.iscrowd for s in annotation.segments.values())
    editor.actions_.redo.trigger()
    assert np.array_equal(annotation.segment_map, merged)
    stack.setIndex(0)
    assert np.array_equal(annotation.segment_map, empty)
    stack.setIndex(6)
    assert block not in annotation.segments


def test_accept_and_reject_one_segment(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    entry = _with_prediction(window)
    editor.tool_actions["accept"].trigger()
    fused_disc = int(entry.fused.segment_map[30, 30])
    _click(qtbot, canvas, 30, 30)
    annotation = entry.annotation
    assert len(annotation.segments) == 1
    (sid,) = annotation.segments
    assert np.array_equal(annotation.segment_map == sid, entry.fused.segment_map == fused_disc)
    _click(qtbot, canvas, 90, 60, Qt.KeyboardModifier.ShiftModifier)  # reject the other disc
    assert entry.fused.segment_map[60, 90] == 0 and len(entry.fused.segments) == 2
    window.model_panel.threshold.setValue(10)  # re-fusion keeps it rejected
    assert entry.fused.segment_map[60, 90] == 0 and entry.fused.segment_map[20, 60] != 0


def test_switching_images_keeps_each_history(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    editor.tool_actions["fill"].trigger()
    _click(qtbot, canvas, 5, 5)
    first = window.current_entry()
    window.actions_.next_image.trigger()
    assert window.current == 1 and editor.stacks.group.activeStack() is None
    _click(qtbot, canvas, 5, 5)
    _click(qtbot, canvas, 5, 5)  # same id again: nothing changes, no step
    assert editor.stacks.group.activeStack().count() == 1
    window.actions_.previous_image.trigger()
    assert editor.stacks.group.activeStack().count() == 1
    editor.actions_.undo.trigger()
    assert not first.annotation.segment_map.any()
    assert window.workspace.entries[1].annotation.segment_map.any()


def test_grabcut_box_finds_a_clear_object(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    h, w = window._image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    obj = (xx - 64) ** 2 / 22**2 + (yy - 48) ** 2 / 16**2 < 1
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(60, 10, (h, w, 3)), 0, 255).astype(np.uint8)
    image[obj] = np.clip(rng.normal((220, 60, 40), 10, (int(obj.sum()), 3)), 0, 255).astype(np.uint8)
    window._image = image
    canvas.set_image(image)
    window.editor.image = image
    window.editor.tool_actions["grabcut"].trigger()
    _drag(qtbot, canvas, [(36, 26), (60, 50), (93, 71)])
    annotation = window.current_entry().annotation
    (sid,) = annotation.segments
    found = annotation.segment_map == sid
    iou = (found & obj).sum() / (found | obj).sum()
    assert iou > 0.8


def test_pan_with_space_drag_and_wheel_zoom_still_work(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    window.editor.tool_actions["brush"].trigger()
    canvas.zoom_by(4)
    scale = canvas.scale_factor()
    h0 = canvas.horizontalScrollBar().value()
    canvas.setFocus()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, LEFT, NONE, QPoint(400, 300))
    qtbot.mouseMove(viewport, QPoint(300, 300))
    qtbot.mouseRelease(viewport, LEFT, NONE, QPoint(300, 300))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.horizontalScrollBar().value() > h0
    assert window.current_entry().annotation is None  # nothing was painted
    assert canvas.scale_factor() == scale


def test_edits_are_journaled_in_the_folder_project_and_recovered(qtbot, editor_window, scenes):
    window, canvas = editor_window, editor_window.canvas
    assert window.project_link.project is not None
    window.editor.tool_actions["polygon"].trigger()
    for x, y in ((10, 10), (60, 10), (60, 60)):
        _click(qtbot, canvas, x, y)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    window.editor.select([])  # else the brush extends the selected segment of the same class
    window.editor.tool_actions["brush"].trigger()
    _drag(qtbot, canvas, [(80, 70), (100, 80)])
    edited = window.current_entry().annotation.copy()
    assert len(edited.segments) == 2
    # A crash: the project is dropped without a clean shutdown; reopening the folder recovers every step.
    window.project_link.project._abandon()
    window.project_link.project = None
    window.open_path(scenes)
    entry = window.current_entry()
    assert entry.annotation is not None and entry.annotation.equals(edited)
    assert entry.status is ImageStatus.CORRECTED
    assert "recovered" in window.statusBar().currentMessage()
    assert [c.id for c in window.workspace.categories] == [1, 2, 3]
    window.editor.actions_.undo.trigger()  # the brush stroke of the crashed session (the polygon is the snapshot)
    assert len(entry.annotation.segments) == 1
    window.editor.tool_actions["fill"].trigger()
    _click(qtbot, canvas, 120, 5)
    assert window.project_link.project.journal_length(entry.path.name) >= 1


def test_dragging_inserting_and_deleting_outline_vertices(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    editor.tool_actions["polygon"].trigger()
    _polygon(qtbot, canvas, ((20, 20), (60, 20), (60, 60), (20, 60)))
    annotation = window.current_entry().annotation
    (sid,) = annotation.segments
    square = annotation.segment_map.copy()
    editor.tool_actions["vertices"].trigger()
    tool = editor.tools["vertices"]
    assert tool.segment_id == sid and len(tool.rings) == 1 and len(tool.rings[0]) == 4
    corner = min(tool.rings[0], key=lambda p: (p[0] - 60) ** 2 + (p[1] - 60) ** 2)
    _drag(qtbot, canvas, [corner, (70, 70), (85, 85)])
    assert annotation.segment_map[75, 75] == sid and annotation.segment_map[25, 25] == sid
    assert annotation.segment_map[25, 75] == 0
    dragged = annotation.segment_map.copy()
    # Double-click the top edge to insert a vertex, then drag it up: a bump appears.
    qtbot.mouseDClick(canvas.viewport(), LEFT, NONE, _pos(canvas, 40, tool.rings[0][0][1]))
    assert len(tool.rings[0]) == 5
    _drag(qtbot, canvas, [(40, tool.rings[0][0][1]), (40, 10), (40, 5)])
    assert annotation.segment_map[12, 40] == sid
    # Alt-click deletes that vertex again: the bump goes.
    _click(qtbot, canvas, 40, 5, Qt.KeyboardModifier.AltModifier)
    assert len(tool.rings[0]) == 4 and annotation.segment_map[12, 40] == 0
    assert np.array_equal(annotation.segment_map, dragged)
    for _ in range(3):
        editor.actions_.undo.trigger()
    assert np.array_equal(annotation.segment_map, square)
    assert len(tool.rings[0]) == 4


def test_dragging_a_hole_vertex_reshapes_the_hole(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    editor.tool_actions["polygon"].trigger()
    _polygon(qtbot, canvas, ((10, 10), (70, 10), (70, 70), (10, 70)))
    _polygon(qtbot, canvas, ((30, 30), (50, 30), (50, 50), (30, 50)), hole=True)
    annotation = window.current_entry().annotation
    (sid,) = annotation.segments
    with_hole = annotation.segment_map.copy()
    editor.tool_actions["vertices"].trigger()
    tool = editor.tools["vertices"]
    assert tool.segment_id == sid and len(tool.rings) == 2 and tool.hole_count == 1 and tool.is_hole(1)
    corner = min(tool.rings[1], key=lambda p: (p[0] - 50) ** 2 + (p[1] - 50) ** 2)
    _drag(qtbot, canvas, [corner, (55, 55), (60, 60)])  # the hole's corner goes out: the hole grows
    assert annotation.segment_map[56, 56] == 0 and annotation.segment_map[40, 40] == 0
    assert annotation.segment_map[65, 65] == sid and annotation.segment_map[20, 20] == sid
    changed = annotation.segment_map != with_hole
    assert changed.any() and (with_hole[changed] == sid).all()  # only pixels the hole took
    corner = min(tool.rings[1], key=lambda p: (p[0] - 30) ** 2 + (p[1] - 30) ** 2)
    _drag(qtbot, canvas, [corner, (35, 35), (40, 40)])  # another corner comes in: the segment regains
    assert annotation.segment_map[32, 32] == sid
    editor.actions_.undo.trigger()
    editor.actions_.undo.trigger()
    assert np.array_equal(annotation.segment_map, with_hole)
    assert tool.hole_count == 1


def test_a_stuff_class_keeps_one_segment_per_image(qtbot, editor_window):
    # Stuff has no instances: filling, drawing or GrabCutting more of it adds to its one segment
    # (COCO panoptic lists each stuff class at most once per image); things get a new segment each.
    window, canvas = editor_window, editor_window.canvas
    editor = window.editor
    editor.tool_actions["polygon"].trigger()
    qtbot.keyClick(canvas, Qt.Key.Key_3)  # "ground", stuff
    assert not editor.categories().is_thing(editor.category_id)
    _polygon(qtbot, canvas, ((5, 5), (30, 5), (30, 30), (5, 30)))
    annotation = window.current_entry().annotation
    (ground,) = annotation.segments
    editor.select([])
    _polygon(qtbot, canvas, ((60, 60), (90, 60), (90, 90), (60, 90)))
    assert list(annotation.segments) == [ground] and annotation.segment_map[75, 75] == ground
    editor.select([])
    editor.tool_actions["fill"].trigger()
    _click(qtbot, canvas, 100, 10)  # the void around them
    assert list(annotation.segments) == [ground] and annotation.segment_map[10, 100] == ground
    editor.tool_actions["polygon"].trigger()
    qtbot.keyClick(canvas, Qt.Key.Key_1)  # "disc", a thing: a new segment, even over the ground
    _polygon(qtbot, canvas, ((40, 40), (50, 40), (50, 50), (40, 50)))
    assert len(annotation.segments) == 2 and annotation.segment_map[45, 45] != ground


def test_class_edits_are_stored_in_the_project(qtbot, editor_window, scenes):
    window = editor_window
    panel = window.classes_panel
    panel.set_categories(window.workspace.categories)
    with qtbot.waitSignal(panel.categories_changed):
        assert panel.add_category("puddle", isthing=False) is not None
    with qtbot.waitSignal(panel.categories_changed):
        assert panel.rename(1, "ball")
    window.project_link.close()
    window.open_path(scenes)
    names = [c.name for c in window.workspace.categories]
    assert "puddle" in names and "ball" in names and "disc" not in names
    assert [c.name for c in window.classes_panel.categories] == names


def test_every_tool_has_an_icon(editor_window):
    for name, action in editor_window.editor.tool_actions.items():
        assert not action.icon().isNull(), name
        assert not action.icon().pixmap(24, 24).toImage().isNull(), name


def test_a_full_disk_is_reported_and_the_edit_stays_undoable(qtbot, editor_window):
    window, canvas = editor_window, editor_window.canvas
    project = window.project_link.project
    window.editor.tool_actions["brush"].trigger()
    _drag(qtbot, canvas, [(20, 20), (40, 25)])  # the first step writes the first snapshot
    project._read("VACUUM")
    project._read(f"PRAGMA max_page_count = {project._read('PRAGMA page_count')[0][0]}")  # the disk is full
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    strokes = 0
    while not any("disk is full" in m for m in messages) and strokes < 60:
        y = 5 + (strokes * 7) % 85
        _drag(qtbot, canvas, [(5, y), (60, y + 20), (120, y)])
        strokes += 1
    assert any("disk is full" in m for m in messages), messages
    stack = window.editor.stacks.group.activeStack()
    assert stack.count() == 1 + strokes and stack.canUndo()
    project._read("PRAGMA max_page_count = 1073741823")  # space is back: the next edit saves everything
    _drag(qtbot, canvas, [(60, 5), (70, 8)])
    assert project.load_annotation(window.current_entry().path.name).equals(window.current_entry().annotation)


def test_a_read_only_folder_opens_without_a_project_and_says_so(qtbot, window, scenes, monkeypatch):
    from segview.errors import ProjectReadOnlyError
    from segview.io.project import Project

    def read_only(folder, **_kw):
        raise ProjectReadOnlyError(f"The folder {folder} is read-only. Copy it somewhere you can write to.")

    monkeypatch.setattr(Project, "open", read_only)
    window.open_path(scenes)
    assert len(window.workspace.entries) == 3 and window.project_link.project is None
    assert "read-only" in window.statusBar().currentMessage()
    assert "kept in this window only" in window.statusBar().currentMessage()
    window.workspace.categories = CATEGORIES
    window.editor.tool_actions["brush"].trigger()
    _drag(qtbot, window.canvas, [(20, 20), (40, 25)])  # editing still works, in memory
    assert window.current_entry().annotation is not None and window.current_entry().annotation.segments
    from tests.ui.answers import answer

    asked = answer(monkeypatch, "Cancel", "Discard")  # quitting with unexported edits asks
    window.close()
    assert asked == ["Quit: unsaved edits"] and window.isVisible()
    window.close()
    assert len(asked) == 2 and not window.isVisible()


def test_the_brush_scales_with_the_image_until_the_user_picks_a_size(qtbot, window, tmp_path):
    from PIL import Image

    folder = tmp_path / "sizes"
    folder.mkdir()
    Image.new("RGB", (640, 480)).save(folder / "a_small.png")
    Image.new("RGB", (3200, 1800)).save(folder / "b_large.png")
    window.open_path(folder)
    spin = window.editor.panel.brush
    assert spin.value() == 10  # 640 / 64
    window.actions_.next_image.trigger()
    assert spin.value() == 50 and window.editor.brush_radius == 50
    qtbot.keyClick(window.canvas, Qt.Key.Key_BracketLeft)  # the user's own choice is kept from now on
    chosen = spin.value()
    assert chosen < 50
    window.actions_.previous_image.trigger()
    assert spin.value() == chosen


def test_a_zoomed_out_outline_keeps_few_handles(qtbot, editor_window):
    from segview.ui.editing.vertex_tool import segment_rings

    yy, xx = np.mgrid[0:600, 0:800]
    rng = np.random.default_rng(3)
    wobbly = (yy - 300) ** 2 + (xx - 400) ** 2 < (250 + 8 * np.sin(xx / 3.0) + rng.integers(0, 3, xx.shape)) ** 2
    crop = CroppedMask.from_full(wobbly)
    fine, _ = segment_rings(crop)
    coarse, _ = segment_rings(crop, tolerance=16.0)  # a screen pixel is 8 image pixels
    assert sum(map(len, coarse)) * 5 < sum(map(len, fine))
    editor = editor_window.editor
    editor.tool_actions["polygon"].trigger()
    _polygon(qtbot, editor.canvas, [(60 + 30 * np.cos(a), 45 + 30 * np.sin(a)) for a in np.linspace(0, 6, 60)])
    annotation = editor_window.current_entry().annotation
    (sid,) = annotation.segments
    full_detail = len(segment_rings(edits.segment_crop(annotation, sid))[0][0])
    editor.canvas.zoom_by(1 / 8)  # zoomed out: a screen pixel covers about two image pixels
    assert editor.pixel_size > 1.5
    editor.tool_actions["vertices"].trigger()
    tool = editor.tools["vertices"]
    assert tool.segment_id == sid and len(tool.rings[0]) < full_detail
