"""Which files of a folder are images: the photos of folders given to `segview predict` or opened in the
window (never segview's own outputs), and the images of a dataset folder that its annotation files do not
list (a labelme folder lists only the images someone annotated)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Report
from segview.errors import ImageReadError, SegviewError
from segview.io.detect import DatasetFormat, detect_format
from segview.io.images import is_image_file, read_image_size
from segview.io.listing import walk_tree
from segview.io.manifest import EXPORT_MANIFEST, manifest_files, read_export_manifest


def image_files(folder: Path) -> Iterator[Path]:
    """Image files under ``folder``, skipping hidden files and folders (a .segview project among them)."""
    for here in walk_tree(folder):
        here.folders[:] = [d for d in here.folders if not d.startswith(".")]
        for file in here.files:
            if is_image_file(file) and not file.startswith("."):
                yield here.path / file


def add_unlisted_images(dataset: Dataset, report: Report) -> int:
    """Add every image under the dataset's image root that it does not list, without an annotation (the
    sizes read from the headers; an unreadable file is a warning in ``report``); the images are then
    sorted by file name. Returns how many were added."""
    root = dataset.image_root
    if root is None or not root.is_dir():
        return 0
    listed = {r.file_name for r in dataset.images}
    next_id = max((r.id for r in dataset.images), default=0) + 1
    added = 0
    for path in image_files(root):
        name = path.relative_to(root).as_posix()
        if name in listed:
            continue
        try:
            width, height = read_image_size(path, name=name)
        except ImageReadError as exc:
            report.warning(f"not listed: {exc}", name)
            continue
        dataset.images.append(ImageRecord(next_id + added, name, width, height))
        added += 1
    dataset.images.sort(key=lambda r: r.file_name)
    return added


def collect_images(
    paths: Iterable[str | os.PathLike], report: Report | None = None
) -> tuple[Path, list[Path]]:
    """Image files named directly or found (recursively, sorted) in folders, and their common root.

    Folders skip segview's own files: ``.segview`` (the project) and an export's staging folders, every
    file a segview export's manifest (``.segview-export.json``) lists, and, for exports written before
    manifests, the PNGs of a semantic-PNG folder (one holding both classes.json and classes.txt) and of a
    panoptic PNG folder (``X/`` beside a COCO panoptic ``X.json``). They are label masks, not photos; a
    note in ``report`` says how many were skipped and where.
    """
    found: list[Path] = []
    skipped: dict[Path, int] = {}
    not_searched: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(_images_in(path, skipped, not_searched))
        elif path.is_file():
            found.append(path)
        else:
            raise SegviewError(f"{path} does not exist. Give image files or folders of images.")
    if report is not None:
        for note in not_searched:
            report.warning(note)
    masks = sum(skipped.values())
    if not found:
        also = f" ({masks} label mask(s) of a segview export were skipped)" if masks else ""
        raise SegviewError(f"No images found (looked for .jpg, .jpeg, .png, .bmp, .tif, .tiff, .webp){also}.")
    if masks and report is not None:
        places = ", ".join(str(folder) for folder in sorted(skipped)[:3]) + (" …" if len(skipped) > 3 else "")
        report.info(f"{masks} file(s) not opened as images: they are the label masks of a segview export "
                    f"({places})")
    resolved = [p.resolve() for p in found]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    return root, resolved


def _segview_folder(name: str) -> bool:
    """The project folder, an export's staging folder, the work folder of ``segview predict`` or a folder an
    export is replacing."""
    return name in (".segview", ".segview-predict") or name.startswith(".segview-export-") or (name.startswith(".") and ".old-" in name)


def _is_panoptic_json(path: Path) -> bool:
    try:
        return path.is_file() and detect_format(path) is DatasetFormat.COCO_PANOPTIC
    except (SegviewError, OSError):
        return False


def _images_in(folder: Path, skipped: dict[Path, int], not_searched: list[str]) -> list[Path]:
    """The image files under ``folder``, sorted; the label masks of segview exports are counted in
    ``skipped`` (by their folder) instead, folders too deep or unreadable in ``not_searched``."""
    found: list[Path] = []
    own: set[Path] = set()  # files listed by an export manifest
    mask_folders: set[Path] = set()  # semantic / panoptic PNG folders of exports without a manifest
    for folder_entry in walk_tree(folder, not_searched):
        here, dirs, files = folder_entry.path, folder_entry.folders, folder_entry.files
        dirs[:] = [d for d in dirs if not _segview_folder(d)]
        manifest = read_export_manifest(here) if EXPORT_MANIFEST in files else None
        own.update(here / name for name in manifest_files(manifest))
        if manifest is None:
            if "classes.json" in files and "classes.txt" in files:
                mask_folders.add(here)
            mask_folders.update(here / d for d in dirs if _is_panoptic_json(here / f"{d}.json"))
        in_masks = here in mask_folders or any(m in here.parents for m in mask_folders)
        for name in files:
            path = here / name
            if not is_image_file(path) or not path.is_file():
                continue
            if path in own or (in_masks and path.suffix.lower() == ".png"):
                skipped[path.parent] = skipped.get(path.parent, 0) + 1
            else:
                found.append(path)
    return sorted(found)
