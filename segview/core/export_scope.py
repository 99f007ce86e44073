"""Which images of a Workspace an export holds, as a Dataset (Qt-free; the export dialog calls it).

Scopes:

- ``"all"``: every image with a person's annotation, or else a model result (its fused panoptic
  segmentation, segments marked as coming from the model); images with neither are left out;
- ``"corrected"``: only the images with a person's annotation;
- ``"selected"``: the images whose indices are given, each with its annotation or else its model result.

Image ids are the entries' positions + 1 (stable while the workspace is open), sizes come from the
annotation, ``file_name`` is the path relative to the folder the images share (the bare name when they
are all in one folder) and ``image_root`` is that folder. Annotations are copied, so an export running
in the background never sees later edits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from segview.core.categories import CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.segments import Annotation
from segview.core.workspace import ImageEntry, Workspace

SCOPES: tuple[str, ...] = ("all", "corrected", "selected")


def _common_root(paths: Sequence[Path]) -> Path | None:
    if not paths:
        return None
    try:
        return Path(os.path.commonpath([str(p.parent) for p in paths]))
    except ValueError:  # different drives on Windows, or relative mixed with absolute
        return None


def _annotation_of(entry: ImageEntry, scope: str) -> Annotation | None:
    if entry.annotation is not None or scope == "corrected":
        return entry.annotation
    return entry.fused


def dataset_for_scope(workspace: Workspace, scope: str, selected: Sequence[int] = ()) -> Dataset:
    """The Dataset an export of ``scope`` (one of :data:`SCOPES`) writes; see the module docstring."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    if scope == "selected":
        indices = sorted({i for i in selected if 0 <= i < len(workspace.entries)})
    else:
        indices = list(range(len(workspace.entries)))
    chosen = [(i, workspace.entries[i], _annotation_of(workspace.entries[i], scope)) for i in indices]
    chosen = [(i, e, a) for i, e, a in chosen if a is not None]
    root = _common_root([e.path for _, e, _ in chosen])
    images = []
    for index, entry, annotation in chosen:
        if root is not None:
            name = entry.path.relative_to(root).as_posix()
        else:
            name = entry.path.name
        images.append(ImageRecord(index + 1, name, annotation.width, annotation.height, annotation.copy()))
    return Dataset(CategorySet(workspace.categories), images, root)
