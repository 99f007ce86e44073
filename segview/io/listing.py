"""Listing the files of a dataset folder without recursion, so that no folder tree ends a listing with a
RecursionError (pathlib's ``rglob`` recurses once per level: a tree 1,000 folders deep raised one).

Like ``rglob``, a listing does not follow links to folders. Folders deeper than
:data:`segview.io.file_names.MAX_DEPTH` below the folder listed, and folders that cannot be opened, are
not searched: the listing says which, for the reader's report.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from segview.io.file_names import MAX_DEPTH, MAX_PATH_BYTES


@dataclass
class Listing:
    """The entries matching a pattern (files, folders and links alike, as ``rglob`` gives them), sorted,
    and what was not searched, as report lines."""

    entries: list[Path] = field(default_factory=list)
    not_searched: list[str] = field(default_factory=list)


def list_tree(folder: Path, pattern: str = "*") -> Listing:
    """Every entry under ``folder`` (at any depth up to :data:`MAX_DEPTH` folders) whose name matches the
    ``fnmatch`` ``pattern`` (case-sensitive)."""
    listing = Listing()
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        try:
            with os.scandir(current) as scan:
                children = list(scan)
        except OSError as exc:
            listing.not_searched.append(f"folder {current} not searched: {exc.strerror or exc}")
            continue
        for child in children:
            path = current / child.name
            if len(os.fsencode(path)) > MAX_PATH_BYTES:
                listing.not_searched.append(f"{path} not read: its path is longer than {MAX_PATH_BYTES} bytes")
                continue
            if fnmatch.fnmatchcase(child.name, pattern):
                listing.entries.append(path)
            if _is_folder(child):
                if depth + 1 > MAX_DEPTH:
                    listing.not_searched.append(
                        f"folder {path} not searched: it is more than {MAX_DEPTH} folders below {folder}"
                    )
                else:
                    pending.append((path, depth + 1))
    listing.entries.sort()
    return listing


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
