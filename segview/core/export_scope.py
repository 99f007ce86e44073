"""Which images of a Workspace an export holds, as a Dataset (Qt-free; the export dialog calls it).

Scopes (the command line's ``--scope corrected`` and ``--scope all`` mean the same):

- ``"corrected"`` (the default): the images with a person's annotation (made or accepted in segview);
- ``"all"``: every image, those without a person's annotation exported as images with no annotation
  (most trainers take them for background-only examples);
- ``"predictions"``: the corrected images, plus the model's result (its fused panoptic segmentation,
  segments marked as coming from the model) for the images not corrected; images with neither are left
  out. :attr:`ScopedDataset.unreviewed` names the images exported from predictions, for the report;
- ``"selected"``: the images whose indices are given, each with its person's annotation or none.

Image ids are the entries' positions + 1 (stable while the workspace is open), sizes come from the
annotation (of an image without one: from the model's result, else the file's header), ``file_name`` is
the path relative to the folder the images share (the bare name when they are all in one folder) and
``image_root`` is that folder. Annotations are copied, so an export running in the background never sees
later edits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from segview.core.categories import CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.segments import Annotation
from segview.core.workspace import ImageEntry, Workspace
from segview.errors import ImageReadError

_EXIF_ORIENTATION = 0x0112

SCOPES: tuple[str, ...] = ("corrected", "all", "predictions", "selected")
DEFAULT_SCOPE = "corrected"


@dataclass
class ScopedDataset(Dataset):
    """The Dataset of a scope; ``unreviewed``: the file names of images whose annotation is the model's
    prediction, which no person made or accepted (scope "predictions")."""

    unreviewed: tuple[str, ...] = ()


def _common_root(paths: Sequence[Path]) -> Path | None:
    if not paths:
        return None
    try:
        return Path(os.path.commonpath([str(p.parent) for p in paths]))
    except ValueError:  # different drives on Windows, or relative mixed with absolute
        return None


def _annotation_of(entry: ImageEntry, scope: str) -> Annotation | None:
    if entry.annotation is not None or scope != "predictions":
        return entry.annotation
    return entry.fused


def dataset_for_scope(workspace: Workspace, scope: str, selected: Sequence[int] = ()) -> ScopedDataset:
    """The Dataset an export of ``scope`` (one of :data:`SCOPES`) writes; see the module docstring."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    if scope == "selected":
        indices = sorted({i for i in selected if 0 <= i < len(workspace.entries)})
    else:
        indices = list(range(len(workspace.entries)))
    chosen = [(i, workspace.entries[i], _annotation_of(workspace.entries[i], scope)) for i in indices]
    if scope in ("corrected", "predictions"):
        chosen = [(i, e, a) for i, e, a in chosen if a is not None]
    root = _common_root([e.path for _, e, _ in chosen])
    images, unreviewed = [], []
    for index, entry, annotation in chosen:
        if root is not None:
            name = entry.path.relative_to(root).as_posix()
        else:
            name = entry.path.name
        if annotation is None:
            width, height = _size_of(entry)
            images.append(ImageRecord(index + 1, name, width, height))
            continue
        if entry.annotation is None:
            unreviewed.append(name)
        images.append(ImageRecord(index + 1, name, annotation.width, annotation.height, annotation.copy()))
    return ScopedDataset(CategorySet(workspace.categories), images, root, tuple(unreviewed))


def _size_of(entry: ImageEntry) -> tuple[int, int]:
    """Width and height of an image without annotation: from the model's result, else the file's header."""
    for known in (entry.fused, entry.reference):
        if known is not None:
            return known.width, known.height
    try:  # the header only, as segview.io.images.read_image_size (core cannot import io)
        with Image.open(entry.path) as image:
            width, height = image.size
            rotated = image.getexif().get(_EXIF_ORIENTATION) in (5, 6, 7, 8)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ImageReadError(f"Cannot read the size of {entry.path} ({exc}); it cannot be exported. "
                             "Export the corrected images only, or remove the file from the folder.") from None
    return (height, width) if rotated else (width, height)
