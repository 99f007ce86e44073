"""The classes panel and the class picker, driven through their widgets."""

import pytest
from PySide6.QtCore import Qt

from segview.core.categories import Category, CategorySet
from segview.ui.docks.classes_panel import ClassesPanel, ClassPicker
from tests.factories import make_categories


@pytest.fixture
def panel(qtbot):
    usage = {1: 3}
    model = CategorySet([Category(1, "person"), Category(7, "bicycle"), Category(8, "grass", False)])
    widget = ClassesPanel(make_categories(), in_use=lambda cid: usage.get(cid, 0), model_categories=lambda: model)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _names(panel):
    return [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]


def test_add_through_the_form_emits_the_new_set(qtbot, panel):
    panel.new_name.setText("bus")
    panel.new_kind.setCurrentIndex(1)  # stuff
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    cats = blocker.args[0]
    assert cats[6].name == "bus" and not cats[6].isthing
    assert _names(panel)[-1] == "bus" and panel.current_id() == 6
    assert panel.new_name.text() == ""
    assert panel.add_category("teal", color=(0, 128, 128)).color == (0, 128, 128)


def test_inline_rename_and_duplicate_refused(qtbot, panel):
    item = panel.tree.topLevelItem(1)
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        item.setText(0, "automobile")  # what the inline editor does on commit
    assert blocker.args[0][2].name == "automobile"
    with qtbot.assertNotEmitted(panel.categories_changed):
        panel.tree.topLevelItem(1).setText(0, "Dog")
    assert "'dog' already exists" in panel.message_text()
    assert _names(panel)[1] == "automobile"  # the view shows the kept name again
    assert not panel.rename(2, "  ")


def test_recolour_and_thing_stuff(qtbot, panel):
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        panel.set_color(4, (1, 2, 3))
    assert blocker.args[0][4].color == (1, 2, 3)
    panel.select(4)
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        qtbot.mouseClick(panel.kind_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0][4].isthing
    assert panel.tree.topLevelItem(3).text(1) == "thing"


def test_reorder_with_buttons_and_drop(qtbot, panel):
    panel.select(5)
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        qtbot.mouseClick(panel.up_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ids == [1, 2, 3, 5, 4] and panel.current_id() == 5
    qtbot.mouseClick(panel.down_button, Qt.MouseButton.LeftButton)
    assert panel.categories.ids == [1, 2, 3, 4, 5]
    # a drop rearranges the tree's rows; the panel then adopts the order it shows
    moved = panel.tree.takeTopLevelItem(0)
    panel.tree.insertTopLevelItem(2, moved)
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        panel.tree.reordered.emit()
    assert blocker.args[0].ids == [2, 3, 1, 4, 5]


def test_delete_refused_while_in_use(qtbot, panel):
    panel.select(1)
    with qtbot.assertNotEmitted(panel.categories_changed):
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert "3 segment(s) still use 'person'" in panel.message_text()
    assert 1 in panel.categories
    panel.select(3)
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ids == [1, 2, 4, 5]


def test_import_from_model(qtbot, panel):
    with qtbot.waitSignal(panel.categories_changed) as blocker:
        qtbot.mouseClick(panel.import_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ids == [1, 2, 3, 4, 5, 7, 8]
    assert "Added 2 class(es)" in panel.message_text()
    assert panel.import_categories(CategorySet([Category(1, "person")])) == 0
    assert "already here" in panel.message_text()
    assert panel.import_categories(None) == 0 and "load a model" in panel.message_text()


def test_set_categories_does_not_emit(qtbot, panel):
    with qtbot.assertNotEmitted(panel.categories_changed):
        panel.set_categories(CategorySet([Category(3, "cat")]))
    assert _names(panel) == ["cat"]


@pytest.fixture
def picker(qtbot):
    widget = ClassPicker(make_categories())
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.search.setFocus()
    return widget


def test_picker_search_and_enter(qtbot, picker):
    qtbot.keyClicks(picker.search, "o")
    assert picker.visible_ids() == [1, 3, 5]  # person, dog, road
    qtbot.keyClicks(picker.search, "a")
    assert picker.visible_ids() == [5] and picker.pick() == 5
    with qtbot.waitSignal(picker.chosen) as blocker:
        qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert blocker.args == [5] and picker.pick() == 5


def test_picker_digit_keys_and_click(qtbot, picker):
    with qtbot.waitSignal(picker.chosen) as blocker:
        qtbot.keyClick(picker.search, Qt.Key.Key_3)
    assert blocker.args == [3] and picker.search.text() == ""
    with qtbot.assertNotEmitted(picker.chosen):
        qtbot.keyClick(picker.search, Qt.Key.Key_9)  # only five classes: "9" is searched for
    assert picker.search.text() == "9" and picker.visible_ids() == []
    picker.search.clear()
    picker.list.setFocus()
    with qtbot.waitSignal(picker.chosen) as blocker:
        qtbot.keyClick(picker.list, Qt.Key.Key_2)
    assert blocker.args == [2]
    rect = picker.list.visualItemRect(picker.list.item(3))
    with qtbot.waitSignal(picker.chosen) as blocker:
        qtbot.mouseClick(picker.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [4] and picker.pick() == 4
