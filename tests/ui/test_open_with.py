"""What segview was started on (`segview PATH`, the desktop's "Open with segview"): an image opens its
folder at that image (ui.app.open_start_path)."""

from __future__ import annotations

from segview.ui.app import open_start_path


def test_an_image_opens_its_folder_at_that_image(window, scenes):
    chosen = scenes / "scene_2.png"
    open_start_path(window, chosen)
    assert [e.path.name for e in window.workspace.entries] == ["scene_0.png", "scene_1.png", "scene_2.png"]
    assert window.workspace.entries[window.current].path.name == "scene_2.png"
    assert window.windowTitle() == "segview — scenes"


def test_a_folder_opens_at_its_first_image(window, scenes):
    open_start_path(window, scenes)
    assert len(window.workspace.entries) == 3 and window.current == 0
