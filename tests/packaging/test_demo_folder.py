"""The demo folder the window opens by default (segview.ui.resources.demo_folder): installed, a copy in the
user's data folder, so that its project is not written into the package."""

from __future__ import annotations

import pytest

from segview.ui import resources


@pytest.fixture
def installed(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "is_installed", lambda: True)
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_a_checkout_opens_its_own_demo_folder():
    assert resources.demo_folder() == resources.DEMO_IMAGES


def test_installed_the_demo_is_copied_once_into_the_user_data(installed):
    shipped = sorted(p.name for p in resources.DEMO_IMAGES.iterdir() if not p.name.startswith("."))
    folder = resources.demo_folder()
    assert folder == installed / "demo"
    assert sorted(p.name for p in folder.iterdir()) == shipped  # no hidden project of the checkout
    assert [p.name for p in installed.iterdir()] == ["demo"]  # no staging folder left
    (folder / ".segview").mkdir()  # the user's project, from the first start
    (folder / shipped[0]).unlink()
    assert resources.demo_folder() == folder and (folder / ".segview").is_dir()  # not copied again
    assert not (folder / shipped[0]).exists()


def test_installed_without_a_writable_data_folder_the_shipped_one_is_opened(installed):
    installed.write_text("a file where the folder should be")
    assert resources.demo_folder() == resources.DEMO_IMAGES
