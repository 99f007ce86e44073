"""Listing dataset folders without recursion: a tree deeper than Python's recursion limit is listed down
to MAX_DEPTH and the rest is named, links to folders are not followed."""

import json
import os
from pathlib import Path

import pytest

from segview.cli import main
from segview.io.file_names import MAX_DEPTH
from segview.io.listing import list_tree


@pytest.fixture
def deep(tmp_path):
    """``deep(folder, levels)``: ``folder``/d/d/... ``levels`` deep, removed bottom-up after the test
    (os.makedirs and shutil.rmtree, pytest's clean-up of old temporary folders among them, recurse per level)."""
    made: list[Path] = []

    def make(folder: Path, levels: int) -> Path:
        folder.mkdir(exist_ok=True)
        path = folder
        for _ in range(levels):
            path = path / "d"
            path.mkdir()
            made.append(path)
        return path

    yield make
    for path in reversed(made):
        for child in path.iterdir():
            if not child.is_dir():
                child.unlink()
        path.rmdir()


def test_a_tree_deeper_than_the_recursion_limit_is_listed_to_max_depth(tmp_path, deep):
    bottom = deep(tmp_path, 1100)
    (bottom / "lost.json").write_text("{}")
    (tmp_path / "d" / "near.json").write_text("{}")
    listing = list_tree(tmp_path, "*.json")
    assert listing.entries == [tmp_path / "d" / "near.json"]
    assert len(listing.not_searched) == 1
    assert listing.not_searched[0].endswith(f"not searched: it is more than {MAX_DEPTH} folders below {tmp_path}")
    assert listing.not_searched[0].count("/d") == MAX_DEPTH + 1


def test_entries_of_every_kind_match_and_links_to_folders_are_not_followed(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "folder.json" / "inner.json").write_text("{}")
    os.symlink("/nonexistent/x.json", tmp_path / "dangling.json")
    os.symlink(tmp_path, tmp_path / "loop")  # followed, it would list everything again, forever
    (tmp_path / "b.txt").write_text("")
    names = [p.relative_to(tmp_path).as_posix() for p in list_tree(tmp_path, "*.json").entries]
    assert names == ["a.json", "dangling.json", "folder.json", "folder.json/inner.json"]
    assert list_tree(tmp_path / "missing").not_searched[0].startswith(f"folder {tmp_path / 'missing'} not searched")


def test_validate_names_the_folders_it_did_not_search(tmp_path, capsys, deep):
    folder = tmp_path / "labelme"
    bottom = deep(folder, 1100)
    for where in (folder, bottom):
        (where / "x.json").write_text(json.dumps({"shapes": [], "imagePath": "x.png", "imageHeight": 2,
                                                  "imageWidth": 2}))
    assert main(["validate", str(folder), "--no-check-images"]) == 1
    out = capsys.readouterr().out
    assert "labelme, 1 image(s)" in out
    assert f"more than {MAX_DEPTH} folders below {folder}; labelme files there are not loaded" in out
