"""`segview desktop install | uninstall` (segview.desktop), in a temporary XDG_DATA_HOME."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
from pathlib import Path

import pytest

from segview import desktop
from segview.bundled import bundled_path
from segview.cli import main
from segview.desktop import DesktopError, DesktopPaths, exec_argument, render_entry


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")} if folder.exists() else set()


def test_install_writes_entry_icon_and_mime_type_then_uninstall_removes_exactly_them(data_home, capsys):
    assert main(["desktop", "install"]) == 0
    paths = DesktopPaths(data_home)
    entry = _entry(paths.entry)
    program = shlex.split(entry["Exec"])[0]
    assert Path(program).is_absolute() and Path(program).is_file() and entry["TryExec"] == program
    assert entry["Exec"].endswith(" %f") and entry["Icon"] == "segview" and entry["Type"] == "Application"
    mime_types = entry["MimeType"].rstrip(";").split(";")
    assert {"inode/directory", "application/x-coco+json", "image/png", "image/jpeg"} <= set(mime_types)
    assert paths.icon.read_bytes() == (bundled_path("resources") / "icons" / "segview.svg").read_bytes()
    assert 'type="application/x-coco+json"' in paths.mime.read_text()
    out = capsys.readouterr().out
    assert f"Wrote {paths.entry}" in out and "uninstall" in out
    if shutil.which("update-mime-database"):
        assert "Ran update-mime-database" in out
        assert (data_home / "mime" / "application" / "x-coco+json.xml").is_file()  # the database knows it

    assert main(["desktop", "uninstall"]) == 0
    assert f"Removed {paths.entry}" in capsys.readouterr().out
    assert not data_home.exists()  # it created the data folder: nothing of it is left


def test_uninstall_leaves_what_others_put_there_and_a_changed_file(data_home, capsys):
    other = data_home / "applications" / "other.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\nName=other\n")
    before = _tree(data_home)
    paths = DesktopPaths(data_home)
    desktop.install(paths, command=["/opt/seg view/bin/segview"])
    paths.icon.write_text("<svg>mine now</svg>")
    lines = desktop.uninstall(paths)
    assert any(line.startswith(f"Left {paths.icon}") for line in lines)
    # (the desktop database's cache, where update-desktop-database is installed, belongs to the folder)
    assert _tree(data_home) - before - {"applications/mimeinfo.cache"} == {"icons", "icons/hicolor", "icons/hicolor/scalable",
                                          "icons/hicolor/scalable/apps", "icons/hicolor/scalable/apps/segview.svg"}
    assert other.read_text() == "[Desktop Entry]\nName=other\n"
    assert desktop.uninstall(paths)[0].startswith("Nothing to remove")


def test_install_again_replaces_its_files_and_still_uninstalls_cleanly(data_home):
    paths = DesktopPaths(data_home)
    desktop.install(paths, command=["/a/segview"])
    desktop.install(paths, command=["/b/segview"])
    assert _entry(paths.entry)["TryExec"] == "/b/segview"
    desktop.uninstall(paths)
    assert not data_home.exists()


@pytest.mark.parametrize(("arg", "written", "parsed"), [
    ("/usr/bin/segview", "/usr/bin/segview", "/usr/bin/segview"),
    ("/opt/seg view/segview", '"/opt/seg view/segview"', "/opt/seg view/segview"),
    ("/home/a$b/100%/segview", '"/home/a\\\\$b/100%%/segview"', "/home/a$b/100%/segview"),
])
def test_exec_arguments_are_quoted_as_the_specification_says(arg, written, parsed):
    assert exec_argument(arg) == written
    assert _read_exec_argument(written) == parsed


def _read_exec_argument(written: str) -> str:
    """How a desktop reads one Exec argument back: the string value's escapes (\\\\ -> \\), then the
    quoting (\\ before " ` $ \\), then the field code %% -> %."""
    value = written.replace("\\\\", "\\")
    if value.startswith('"'):
        value = re.sub(r'\\(["`$\\])', r"\1", value[1:-1])
    return value.replace("%%", "%")


def test_the_entry_keeps_every_key_of_the_shipped_file_but_the_program():
    shipped = (bundled_path("resources") / "segview.desktop").read_text()
    rendered = render_entry(shipped, ["/x/python", "-m", "segview.cli"])
    changed = set(shipped.splitlines()) ^ set(rendered.splitlines())
    assert changed == {"Exec=segview %f", "TryExec=segview", "Exec=/x/python -m segview.cli %f", "TryExec=/x/python"}


@pytest.mark.parametrize(("platform", "says"), [("darwin", "macOS"), ("win32", "Windows"), ("sunos5", "sunos5")])
def test_other_platforms_are_told_what_is_not_supported(platform, says, monkeypatch, data_home, capsys):
    with pytest.raises(DesktopError, match=says):
        desktop.check_supported(platform)
    monkeypatch.setattr(desktop.sys, "platform", platform)
    assert main(["desktop", "install"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("segview: error: segview desktop supports Linux") and says in err
    assert len(err.strip().splitlines()) == 1
    assert not data_home.exists()
