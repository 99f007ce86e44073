"""The image browser: background thumbnails, status, filters and next/previous."""

from pathlib import Path

import numpy as np
from PIL import Image

from segview.core.workspace import ImageStatus
from segview.ui.docks.browser import THUMBNAIL_SIDE, ImageBrowser


def _images(folder: Path, n: int = 4) -> list[Path]:
    paths = []
    for i in range(n):
        path = folder / f"{'cat' if i % 2 else 'dog'}_{i}.png"
        Image.fromarray(np.full((150, 200, 3), 40 * i, np.uint8)).save(path)
        paths.append(path)
    return paths


def _browser(qtbot, paths):
    browser = ImageBrowser()
    qtbot.addWidget(browser)
    browser.set_images(paths, [ImageStatus.NONE] * len(paths))
    return browser


def test_thumbnails_load_in_the_background_and_bad_files_are_marked(qtbot, tmp_path):
    paths = _images(tmp_path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    browser = _browser(qtbot, [*paths, broken])
    qtbot.waitUntil(lambda: all(browser.thumbnail_loaded(i) for i in range(5)), timeout=10000)
    icon = browser.model.item(3).icon().pixmap(THUMBNAIL_SIDE, THUMBNAIL_SIDE).toImage()
    assert icon.width() == THUMBNAIL_SIDE
    assert icon.pixelColor(icon.width() // 2, icon.height() // 2).red() == 120  # the image's own grey
    assert "broken.jpg" in browser.model.item(4).toolTip()
    assert browser.status_of(4) == "unreadable" and "unreadable" in browser.model.item(4).text()
    browser.set_status(4, ImageStatus.PREDICTED)  # a later status does not hide that the file is broken
    assert browser.status_of(4) == "unreadable"
    browser.status_filter.setCurrentIndex(browser.status_filter.findData("unreadable"))
    assert browser.visible_indices() == [4]


def test_next_previous_and_current_changed(qtbot, tmp_path):
    browser = _browser(qtbot, _images(tmp_path))
    with qtbot.waitSignal(browser.current_changed) as blocker:
        browser.select(0)
    assert blocker.args == [0]
    browser.select_next()
    browser.select_next()
    assert browser.current_index() == 2
    browser.select_previous()
    assert browser.current_index() == 1
    for _ in range(5):
        browser.select_next()
    assert browser.current_index() == 3  # stops at the end


def test_filters_by_name_and_status(qtbot, tmp_path):
    browser = _browser(qtbot, _images(tmp_path))
    browser.name_filter.setText("CAT")
    assert browser.visible_indices() == [1, 3]
    browser.name_filter.setText("")
    browser.set_status(2, ImageStatus.PREDICTED)
    browser.set_status(3, ImageStatus.CORRECTED)
    assert browser.status_of(2) == ImageStatus.PREDICTED.value
    assert "predicted" in browser.model.item(2).text()
    browser.status_filter.setCurrentIndex(browser.status_filter.findData(ImageStatus.CORRECTED.value))
    assert browser.visible_indices() == [3]
    browser.status_filter.setCurrentIndex(browser.status_filter.findData(ImageStatus.NONE.value))
    assert browser.visible_indices() == [0, 1]
    browser.select(0)
    browser.select_next()
    assert browser.current_index() == 1  # next within the filtered rows
    browser.select(3)  # hidden by the filter: the filter is cleared to show it
    assert browser.current_index() == 3 and browser.visible_indices() == [0, 1, 2, 3]


def test_name_filter_does_not_match_the_status_text(qtbot, tmp_path):
    browser = _browser(qtbot, _images(tmp_path))
    browser.set_status(0, ImageStatus.PREDICTED)
    browser.name_filter.setText("predicted")
    assert browser.visible_indices() == []
