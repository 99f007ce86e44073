"""Atomic writes leave the old or the new file, with the permissions an ordinary write would give."""

import os
import stat

import pytest

from segview.errors import WriteError
from segview.io import atomic
from segview.io.atomic import atomic_open, atomic_write_bytes, atomic_write_text


def test_a_new_file_gets_the_umask_mode_not_a_temporary_files_0600(tmp_path):
    target = tmp_path / "out" / "instances.json"
    atomic_write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~atomic._UMASK
    assert target.read_text() == "{}" and not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "mask.png"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("name", ["a\x00.json", "\ud800.json", "/".join(["d"] * 1500) + "/x.json"])
def test_a_name_no_file_system_takes_is_a_write_error_and_writes_nothing(tmp_path, name):
    with pytest.raises(WriteError, match="cannot be a file's path"):
        atomic_write_text(tmp_path / name, "{}")
    assert not any(tmp_path.iterdir())


def test_text_utf8_cannot_encode_is_a_write_error_and_leaves_the_old_file(tmp_path):
    target = tmp_path / "classes.txt"
    target.write_text("old")
    with pytest.raises(WriteError, match=r"\\ud800"):
        atomic_write_text(target, "1 \ud800\n")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["classes.txt"]
