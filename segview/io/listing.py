"""Listing the files of a dataset folder without recursion, so that no folder tree ends a listing with a
RecursionError (pathlib's ``rglob`` recurses once per level: a tree 1,000 folders deep raised one).

Like ``rglob``, a listing does not follow links to folders. Folders deeper than
:data:`segview.io.file_names.MAX_DEPTH` below the folder listed, and folders that cannot be opened, are
not searched: the listing says which, for the reader's report.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from segview.io.file_names import MAX_DEPTH, MAX_PATH_BYTES


@dataclass
class Listing:
    """The entries matching a pattern (files, folders and links alike, as ``rglob`` gives them), sorted,
    and what was not searched, as report lines."""

    entries: list[Path] = field(default_factory=list)
    not_searched: list[str] = field(default_factory=list)


@dataclass
class Folder:
    """One folder of a walk: its sub-folders (remove names to skip them, as with ``os.walk``) and its other
    entries (files and links to files), both sorted by name."""

    path: Path
    folders: list[str]
    files: list[str]


def walk_tree(folder: Path, not_searched: list[str] | None = None) -> Iterator[Folder]:
    """``os.walk`` top-down without recursion: before Python 3.12, ``os.walk`` recurses once per level,
    and a tree 1,000 folders deep raised a RecursionError. Links to folders are not followed; folders
    deeper than :data:`MAX_DEPTH`, folders that cannot be opened and paths longer than
    :data:`MAX_PATH_BYTES` are skipped and said in ``not_searched``."""
    notes = [] if not_searched is None else not_searched
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        try:
            with os.scandir(current) as scan:
                children = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            notes.append(f"folder {current} not searched: {exc.strerror or exc}")
            continue
        here = Folder(current, [], [])
        for child in children:
            if len(os.fsencode(current / child.name)) > MAX_PATH_BYTES:
                notes.append(f"{current / child.name} not read: its path is longer than {MAX_PATH_BYTES} bytes")
            else:
                (here.folders if _is_folder(child) else here.files).append(child.name)
        yield here
        for name in reversed(here.folders):
            if depth + 1 > MAX_DEPTH:
                notes.append(f"folder {current / name} not searched: it is more than {MAX_DEPTH} folders below "
                             f"{folder}")
            else:
                pending.append((current / name, depth + 1))


def list_tree(folder: Path, pattern: str = "*") -> Listing:
    """Every entry under ``folder`` (at any depth up to :data:`MAX_DEPTH` folders) whose name matches the
    ``fnmatch`` ``pattern`` (case-sensitive)."""
    listing = Listing()
    for here in walk_tree(folder, listing.not_searched):
        for name in here.folders + here.files:
            if fnmatch.fnmatchcase(name, pattern):
                listing.entries.append(here.path / name)
    listing.entries.sort()
    return listing


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
