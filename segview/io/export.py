"""Export a Dataset to a folder in one or more formats, then check every output by reading it back.

The layout of an export folder::

    instances.json          COCO instances (thing segments)
    panoptic.json           COCO panoptic ...
    panoptic/               ... and its RGB id PNGs
    semantic/               semantic PNGs (class id per pixel) with classes.json and classes.txt

    .segview-export.json    the manifest: every file segview wrote here, by format, and the image folder

Each format is written into a hidden staging folder beside the outputs and then moved into place, so a
format's outputs are either the old ones or the complete new ones (a folder of PNGs replaces the old
folder as a whole; no stale PNG of an earlier export survives).

An export never deletes or overwrites a file segview did not write. Segview's own files are exactly those
listed in the folder's manifest (``.segview-export.json``, :data:`segview.io.manifest.EXPORT_MANIFEST`),
which every export rewrites: before anything is written, every file at a path the export would replace
(``instances.json``, ``panoptic.json`` and everything under ``panoptic/``, ``semantic/``, for the formats
chosen) must be listed there — only the operating system's ``.DS_Store``, ``Thumbs.db`` and
``desktop.ini`` are let pass — or the export is refused with :class:`ForeignFilesError`, naming them.
So a folder exported by segview before the manifest existed, or one where the person put files of their
own, is refused until those files are moved away or another (empty) folder is chosen. The manifest is
rewritten, as a superset, before each format is moved into place and, pruned to what is there, at the
end, so an interrupted export leaves no file of segview's unlisted. It also records the image folder
(``image_root``, absolute): the semantic-PNG reader falls back to it when it is given no image folder,
as the COCO readers do with the same folder recorded in their JSON's ``info``.

After writing, each output is loaded
back with :func:`segview.io.detect.load_dataset` and compared with the source pixel by pixel: COCO
instances must reproduce every thing segment's class per pixel and the number of instances, panoptic the
segment partition and each segment's class, semantic PNG the class of every pixel. Everything the writer
could not carry over, everything the reader complains about and every difference is an issue of the
returned Report, prefixed with the format's name.

The GUI's export dialog and the command line share :func:`check_before_export` (what an export would
drop or get wrong, before anything is written) and :func:`export_dataset`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from time import monotonic

import numpy as np

from segview.core.categories import CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.report import Issue, Report, Severity
from segview.core.segments import Annotation
from segview.errors import SegviewError, WriteError
from segview.io.atomic import atomic_write_text
from segview.io.coco_panoptic import default_png_dir
from segview.io.detect import DatasetFormat, load_dataset, save_dataset
from segview.io.manifest import EXPORT_MANIFEST, manifest_files, read_export_manifest
from segview.io.mask_png import png_name
from segview.io.progress import ImageProgress, counted

ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, message)``: ``done`` of ``total`` steps finished, ``message`` the current one."""

_STEPS_PER_IMAGE = 3  # per format: write, read back, compare
_THROTTLE_S = 0.05
_OS_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # made by file browsers, not by people
_SHOWN_FOREIGN = 5


class ExportError(SegviewError):
    """An export that cannot start (no format chosen, a format that cannot be exported)."""


class ForeignFilesError(ExportError):
    """The export would replace files segview did not write; nothing was written. ``files``: their paths
    relative to the export folder."""

    def __init__(self, message: str, files: list[str]) -> None:
        super().__init__(message)
        self.files = files


@dataclass(frozen=True)
class FormatLayout:
    """Where one format goes in the export folder: its main path and every path it writes, in the
    order they are moved into place (PNG folders before the JSON that refers to them)."""

    label: str
    main: str
    paths: tuple[str, ...]


LAYOUTS: dict[DatasetFormat, FormatLayout] = {
    DatasetFormat.COCO: FormatLayout("COCO instances", "instances.json", ("instances.json",)),
    DatasetFormat.COCO_PANOPTIC: FormatLayout("COCO panoptic", "panoptic.json", ("panoptic", "panoptic.json")),
    DatasetFormat.SEMANTIC_PNG: FormatLayout("semantic PNG", "semantic", ("semantic",)),
}
EXPORT_FORMATS: tuple[DatasetFormat, ...] = tuple(LAYOUTS)


def output_path(out_dir: str | os.PathLike, fmt: DatasetFormat | str) -> Path:
    """The main path of a format in an export folder (what ``load_dataset`` reads back)."""
    return Path(out_dir) / LAYOUTS[DatasetFormat(fmt)].main


def single_output_layout(out: str | os.PathLike, fmt: DatasetFormat | str) -> tuple[Path, FormatLayout]:
    """The folder and layout of one format written to the path ``out`` names (``segview convert --out``):
    a JSON file (COCO; COCO panoptic with its PNG folder beside it, see
    :func:`segview.io.coco_panoptic.default_png_dir`) or the semantic-PNG folder itself. Written with
    :func:`export_dataset`, it gets an export's guarantees: staged, listed in the folder's manifest, and
    refused where it would replace files segview did not write."""
    fmt = DatasetFormat(fmt)
    path = Path(out).absolute()
    if not path.name or path.name in (".", ".."):
        raise ExportError(f"{out} is not a name to write to: give a file name (or, for semantic-png, a folder "
                          "name) inside an existing folder.")
    label = LAYOUTS[_formats([fmt])[0]].label
    if fmt is DatasetFormat.SEMANTIC_PNG:
        return path.parent, FormatLayout(label, path.name, (path.name,))
    if path.is_dir():
        raise ExportError(f"{out} is a folder: --out takes the {label} JSON file to write, e.g. {path / 'out.json'}.")
    if fmt is DatasetFormat.COCO_PANOPTIC:
        return path.parent, FormatLayout(label, path.name, (default_png_dir(path).name, path.name))
    return path.parent, FormatLayout(label, path.name, (path.name,))


def export_steps(dataset: Dataset, formats: Iterable[DatasetFormat | str]) -> int:
    """The ``total`` of :func:`export_dataset`'s progress: three steps (write, read back, compare) per
    image and format."""
    return _STEPS_PER_IMAGE * max(len(dataset.images), 1) * len(_formats(formats))


def export_dataset(
    dataset: Dataset,
    out_dir: str | os.PathLike,
    formats: Iterable[DatasetFormat | str],
    *,
    mask_format: str = "auto",
    category_id_base: int | None = None,
    progress: ProgressCallback | None = None,
    check_images: bool | None = None,
    unreviewed: Iterable[str] = (),
    layouts: dict[DatasetFormat, FormatLayout] | None = None,
    read_back: bool = True,
) -> tuple[Report, list[Path]]:
    """Write ``dataset`` into ``out_dir`` in each of ``formats`` and validate each output.

    ``formats``: any of coco, coco-panoptic, semantic-png (see the module docstring for the layout).
    ``mask_format`` (COCO instances: auto, polygon or rle) and ``category_id_base`` (None, the default
    of the dialog and the command line too, keeps the category ids; an int renumbers them contiguously
    from it in display order) go to ``save_dataset``.
    ``progress(done, total, message)`` follows each image as each format is written, read back and
    compared (throttled to every 1 % or 50 ms, each step's first and last call always), then ends with
    ``(total, total, "Done")``; ``total`` is :func:`export_steps`.
    ``check_images`` (default: when the dataset has an ``image_root``) makes the check also require
    every image file to exist with the stated size. ``unreviewed``: the file names of images whose
    annotation is a model's prediction no person made or accepted; the report warns how many.
    ``layouts`` (default :data:`LAYOUTS`) names each format's paths in ``out_dir`` (``segview convert``
    writes to the file name it is given); ``read_back=False`` skips loading each output back.
    Staging folders that interrupted exports left in ``out_dir`` are removed first (see
    :func:`remove_stale_staging`).

    :func:`check_before_export` runs first: when it finds errors nothing is written and its report comes
    back with no paths. Otherwise returns the combined report (the check's issues, the writers' issues,
    then the readers' issues and round-trip differences, each prefixed with the format) and the paths
    written, in order. Raises
    :class:`ExportError` when no format (or labelme) is asked for, :class:`ForeignFilesError` (before
    anything is written) when the export would replace files segview did not write, and
    :class:`WriteError` when the folder cannot be written; a format written before the failure stays
    complete, and the message names what was written and what was not.
    """
    chosen = _formats(formats)
    layouts = LAYOUTS if layouts is None else layouts
    out_dir = Path(out_dir)
    manifest = read_export_manifest(out_dir) if out_dir.is_dir() else None
    refuse_foreign_files(out_dir, chosen, manifest, layouts)
    outputs: dict[str, list[str]] = dict(manifest["outputs"]) if manifest else {}
    if check_images is None:
        check_images = dataset.image_root is not None
    report = check_before_export(dataset, check_images=check_images)
    unreviewed = set(unreviewed) & {r.file_name for r in dataset.images if r.annotation is not None}
    if unreviewed:
        report.warning(
            f"{len(unreviewed)} image(s) are exported from the model's unreviewed predictions, not from "
            "annotations you made or accepted: check them before training or evaluating on them"
        )
    written: list[Path] = []
    if not report.ok:
        return report, written  # nothing is written while the check finds errors
    total = export_steps(dataset, chosen)
    images = max(len(dataset.images), 1)
    annotated = sum(r.annotation is not None for r in dataset.images)
    created = not out_dir.exists()
    _make_folder(out_dir)
    remove_stale_staging(out_dir)
    try:
        for index, fmt in enumerate(chosen):
            layout = layouts[fmt]
            start = _STEPS_PER_IMAGE * images * index
            try:
                save_report = _write_format(
                    dataset, fmt, out_dir, layout, outputs, written, report,
                    mask_format=mask_format,
                    category_id_base=category_id_base,
                    progress=_step(progress, start, images, total, f"Writing {layout.label}"),
                )
            except WriteError as exc:
                raise WriteError(_partial_message(exc, out_dir, layout, written, chosen[index + 1:], layouts)) from exc
            if save_report is None or not read_back:
                continue
            checked = validate_export(
                dataset,
                out_dir / layout.main,
                fmt,
                category_id_base,
                check_images,
                save_report,
                progress=_within(progress, start + images, 2 * images, total, f"Checking {layout.label}: "),
            )
            report.extend(_prefixed(checked, layout.label))
    finally:
        if created and not written:  # a failed first export leaves no empty folder behind
            with contextlib.suppress(OSError):
                out_dir.rmdir()
    if not out_dir.is_dir():  # removed just above: nothing was written
        return report, written
    present = {name for name in manifest_files({"outputs": outputs}) if (out_dir / name).is_file()}
    _write_manifest(out_dir, {f: [n for n in files if n in present] for f, files in outputs.items()},
                    dataset.image_root)
    report.info(
        f"{annotated} annotated image(s) of {len(dataset.images)} exported as "
        + ", ".join(layouts[f].label for f in chosen)
    )
    if progress is not None:
        progress(total, total, "Done")
    return report, written


def _write_format(
    dataset: Dataset,
    fmt: DatasetFormat,
    out_dir: Path,
    layout: FormatLayout,
    outputs: dict[str, list[str]],
    written: list[Path],
    report: Report,
    **options,
) -> Report | None:
    """Write one format into a staging folder, list its files in the manifest, then move them into place
    (appended to ``written``). Returns the writer's report, None when it wrote nothing (an error in
    ``report``)."""
    staging = _staging_folder(out_dir)
    try:
        save_report = save_dataset(dataset, fmt, staging / layout.main, **options)
        report.extend(_prefixed(save_report, layout.label))
        if not (staging / layout.main).exists():
            report.error(f"{layout.label}: nothing was written")
            return None
        _move_staged(staging, out_dir, fmt, layout, outputs, written, dataset.image_root)
        return save_report
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_staged(
    staging: Path,
    out_dir: Path,
    fmt: DatasetFormat,
    layout: FormatLayout,
    outputs: dict[str, list[str]],
    written: list[Path],
    image_root: Path | None,
) -> None:
    """List a format's staged files in the manifest, then move them into place (appended to ``written``)."""
    new_files = _files_at(staging, layout.paths)
    # Listed before they are moved in: an interrupted export leaves none of its files unlisted.
    outputs[fmt.value] = _relisted(outputs.get(fmt.value, ()), layout.paths, new_files, keep_old=True)
    _write_manifest(out_dir, outputs, image_root)
    for name in layout.paths:
        if (staging / name).exists():
            _move_into_place(staging / name, out_dir / name, staging)
            written.append(out_dir / name)
    outputs[fmt.value] = _relisted(outputs[fmt.value], layout.paths, new_files, keep_old=False)


def publish_staged(
    staging: str | os.PathLike,
    out_dir: str | os.PathLike,
    formats: Iterable[DatasetFormat | str],
    image_root: Path | None,
    job: dict | None = None,
) -> list[Path]:
    """Move formats already written into ``staging`` (each at its :data:`LAYOUTS` paths there) into
    ``out_dir`` as :func:`export_dataset` does: refused (:class:`ForeignFilesError`) where they would
    replace files segview did not write, listed in the manifest before they are moved, an old PNG folder
    replaced as a whole (into ``staging``, which the caller removes). Returns the paths written, in order.
    A batch job (``segview predict``) writes its outputs bit by bit into ``staging`` and publishes them
    at the end, with ``job`` (what made them) in the manifest until the next export there."""
    chosen = _formats(formats)
    staging, out_dir = Path(staging), Path(out_dir)
    _make_folder(out_dir)
    manifest = read_export_manifest(out_dir)
    refuse_foreign_files(out_dir, chosen, manifest)
    outputs: dict[str, list[str]] = dict(manifest["outputs"]) if manifest else {}
    written: list[Path] = []
    for fmt in chosen:
        if (staging / LAYOUTS[fmt].main).exists():
            _move_staged(staging, out_dir, fmt, LAYOUTS[fmt], outputs, written, image_root)
    present = {name for name in manifest_files({"outputs": outputs}) if (out_dir / name).is_file()}
    _write_manifest(out_dir, {f: [n for n in files if n in present] for f, files in outputs.items()}, image_root,
                    job)
    return written


def _relisted(listed: Iterable[str], paths: Iterable[str], new_files: list[str], keep_old: bool) -> list[str]:
    """A format's manifest entries with those under ``paths`` replaced by ``new_files`` (or, with
    ``keep_old``, joined by them); entries of the format at other paths (another convert's output) stay."""
    paths = tuple(paths)

    def under(name: str) -> bool:
        return any(name == p or name.startswith(f"{p}/") for p in paths)

    return sorted({n for n in listed if keep_old or not under(n)} | set(new_files))


def _partial_message(
    exc: WriteError,
    out_dir: Path,
    failed: FormatLayout,
    written: list[Path],
    not_started: list[DatasetFormat],
    layouts: dict[DatasetFormat, FormatLayout],
) -> str:
    """What an export that stopped on a write error wrote, and what it did not."""
    cause = exc.__cause__
    reason = (cause.strerror or str(cause)) if isinstance(cause, OSError) else str(exc)
    done = ", ".join(str(p) for p in written) if written else "nothing"
    missing = [failed, *(layouts[f] for f in not_started)]
    names = "; ".join(f"{layout.label} ({' + '.join(layout.paths)})" for layout in missing)
    return (
        f"Writing into {out_dir} stopped while writing {failed.label}: {reason}. Written, complete: {done}. "
        f"Not written: {names}; files of an earlier export at those paths are unchanged. Fix the cause "
        "(free some space, check permissions), then write again."
    )


def foreign_files(
    out_dir: str | os.PathLike,
    formats: Iterable[DatasetFormat | str],
    manifest: dict | None = None,
    layouts: dict[DatasetFormat, FormatLayout] | None = None,
) -> list[str]:
    """The files an export of ``formats`` into ``out_dir`` would replace that segview did not write: those
    at the formats' paths (``layouts``, default :data:`LAYOUTS`) not listed in the folder's manifest (read
    from ``out_dir`` when None), and the manifest's own path when the file there is not a segview
    manifest; as paths relative to ``out_dir`` with ``/``, sorted."""
    out_dir = Path(out_dir)
    layouts = LAYOUTS if layouts is None else layouts
    if manifest is None:
        manifest = read_export_manifest(out_dir)
    own = manifest_files(manifest)
    paths = [name for fmt in _formats(formats) for name in layouts[fmt].paths]
    found = [name for name in _files_at(out_dir, paths) if name not in own and PurePosixPath(name).name not in _OS_LITTER]
    if manifest is None and _files_at(out_dir, [EXPORT_MANIFEST]):  # a file of that name segview did not write
        found.append(EXPORT_MANIFEST)
    return sorted(found)


def refuse_foreign_files(
    out_dir: str | os.PathLike,
    formats: Iterable[DatasetFormat | str],
    manifest: dict | None = None,
    layouts: dict[DatasetFormat, FormatLayout] | None = None,
) -> None:
    """Raise :class:`ForeignFilesError` when an export of ``formats`` would replace files segview did not
    write (see :func:`foreign_files`); the message names the folders, the first few files and what to do."""
    out_dir = Path(out_dir)
    found = foreign_files(out_dir, formats, manifest, layouts)
    if not found:
        return
    by_place: dict[str, list[str]] = {}
    for name in found:
        top, _, rest = name.partition("/")
        by_place.setdefault(top, []).append(rest)
    places = []
    for top, names in by_place.items():
        if names == [""]:  # a file the export would overwrite
            places.append(str(out_dir / top))
            continue
        shown = ", ".join(names[:_SHOWN_FOREIGN])
        if len(names) > _SHOWN_FOREIGN:
            shown += f" and {len(names) - _SHOWN_FOREIGN} more"
        places.append(f"{out_dir / top}{os.sep} ({shown})")
    raise ForeignFilesError(
        f"Nothing was written: {' and '.join(places)} would be deleted or overwritten, but segview did "
        f"not write {'it' if len(found) == 1 else f'these {len(found)} files'}. Choose an empty folder, or "
        "move those files away, then export again.",
        found,
    )


def validate_export(
    dataset: Dataset,
    path: str | os.PathLike,
    fmt: DatasetFormat | str,
    category_id_base: int | None = None,
    check_images: bool = False,
    save_report: Report | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> Report:
    """Load an exported ``path`` back and compare it with ``dataset``, the source it was written from.

    The reader's report comes first; then each image whose read-back pixels differ from the source is
    an error, or a warning when ``save_report`` (the writer's report) already named a problem with that
    image, since then the difference is expected and explained there. ``progress(done, total, message)``
    follows the reader and then each image compared; ``total`` is twice the number of images.
    """
    fmt = DatasetFormat(fmt)
    report = Report()
    images = max(len(dataset.images), 1)
    try:
        loaded, load_report = load_dataset(
            path,
            fmt,
            image_root=dataset.image_root,
            check_images=check_images,
            progress=_step(progress, 0, images, 2 * images, "reading back"),
        )
    except SegviewError as exc:
        report.error(f"the written output cannot be read back: {exc}")
        return report
    report.extend(load_report)
    explained = {i.image for i in (save_report.issues if save_report else []) if i.severity is not Severity.INFO}
    mapping = _category_mapping(dataset.categories, category_id_base)
    if fmt is DatasetFormat.COCO:  # by name: the reader shifts 0-based ids by one, and COCO lists things only
        mapping = {c.id: loaded.categories.by_name(c.name).id for c in dataset.categories
                   if c.isthing and loaded.categories.by_name(c.name) is not None}
    key = _semantic_key if fmt is DatasetFormat.SEMANTIC_PNG else (lambda r: r.file_name)
    back = {_loaded_key(r.file_name, fmt): r for r in loaded.images}
    for record in counted(dataset.images, _step(progress, images, images, 2 * images, "comparing")):
        if record.annotation is None:
            continue
        other = back.get(key(record))
        problem = (
            "is missing from the written output"
            if other is None
            else _difference(record.annotation, other.annotation, fmt, dataset.categories, mapping)
        )
        if problem:
            severity = Severity.WARNING if record.file_name in explained else Severity.ERROR
            report.add(severity, f"read back, the image {problem}", record.file_name)
    return report


def check_before_export(dataset: Dataset, *, check_images: bool = True) -> Report:
    """Everything an export would drop or get wrong, before anything is written."""
    report = Report()
    if not len(dataset.categories):
        report.error("there are no categories; define them before exporting")
    annotated = [r for r in dataset.images if r.annotation is not None]
    if not annotated:
        report.warning("no image has an annotation; the export lists the images only")
    unannotated = len(dataset.images) - len(annotated)
    if unannotated:
        report.warning(
            f"{unannotated} image(s) without any annotation are exported as images with no segments: most "
            "trainers take them for background-only examples (nothing to find in them); export the "
            "corrected images only to leave them out"
        )
    for record in dataset.images:
        path = dataset.image_path(record)
        if check_images and path is not None and not path.is_file():
            report.warning("the image file is missing; its annotation is exported anyway", record.file_name)
        if record.annotation is not None:
            _validate_annotation(dataset, record, report)
    return report


def _validate_annotation(dataset: Dataset, record, report: Report) -> None:
    """Size, stray ids, unknown categories, empty segments and crowd stuff of one annotation."""
    annotation, name = record.annotation, record.file_name
    if (annotation.height, annotation.width) != (record.height, record.width):
        report.error(f"the annotation is {annotation.width}×{annotation.height} but the image is "
                     f"{record.width}×{record.height}", name)
    stray = annotation.unknown_ids()
    if stray:
        report.error(f"pixels hold id(s) {sorted(stray)[:10]} that no segment describes", name)
    areas = annotation.areas()
    for sid, segment in sorted(annotation.segments.items()):
        item = f"segment {sid}"
        if segment.category_id not in dataset.categories:
            report.error(f"its category id {segment.category_id} is not a category of the project", name, item)
        elif segment.iscrowd and not dataset.categories.is_thing(segment.category_id):
            report.warning("a crowd region of a stuff category (crowd is meant for things)", name, item)
        if areas.get(sid, 0) == 0:
            report.warning("it has no pixels and is not exported", name, item)


# --- helpers --------------------------------------------------------------------------------------------


class _Step:
    """One step of an export's progress as a per-image callback: ``(done, of)`` is reported as
    ``start + size · done / of`` of ``total``, with the count after ``message``. A call goes through when
    it is the step's first or last, or when it advances by 1 % of ``of`` or 50 ms after the last one."""

    def __init__(self, progress: ProgressCallback, start: int, size: int, total: int, message: str) -> None:
        self._progress, self._start, self._size, self._total = progress, start, size, total
        self._message = message
        self._shown: int | None = None  # the last ``done`` reported
        self._time = 0.0

    def __call__(self, done: int, of: int) -> None:
        now = monotonic()
        if self._shown is not None and (
            done == self._shown
            or (done < of and done - self._shown < of / 100 and now - self._time < _THROTTLE_S)
        ):
            return
        self._shown, self._time = done, now
        position = self._start + self._size * min(done, of) // max(of, 1)
        self._progress(position, self._total, f"{self._message}… {done}/{of}")


def _step(
    progress: ProgressCallback | None, start: int, size: int, total: int, message: str
) -> ImageProgress | None:
    """Report the start of a step (``message…`` at ``start``) and return its per-image callback."""
    if progress is None:
        return None
    progress(start, total, f"{message}…")
    return _Step(progress, start, size, total, message)


def _within(
    progress: ProgressCallback | None, start: int, size: int, total: int, prefix: str
) -> ProgressCallback | None:
    """``progress`` for a part of the steps: ``(done, of, message)`` becomes ``start + size · done / of``
    of ``total``, the message prefixed."""
    if progress is None:
        return None
    return lambda done, of, message: progress(start + size * done // max(of, 1), total, prefix + message)


def _formats(formats: Iterable[DatasetFormat | str]) -> list[DatasetFormat]:
    chosen: list[DatasetFormat] = []
    for value in formats:
        try:
            fmt = DatasetFormat(value)
        except ValueError:
            raise ExportError(
                f"{value!r} is not an export format: use coco, coco-panoptic or semantic-png."
            ) from None
        if fmt not in LAYOUTS:
            raise ExportError(f"{fmt.value} is an import format only: use coco, coco-panoptic or semantic-png.")
        if fmt not in chosen:
            chosen.append(fmt)
    if not chosen:
        raise ExportError("Choose at least one export format (coco, coco-panoptic or semantic-png).")
    return chosen


def _make_folder(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise WriteError(f"{out_dir} is a file, not a folder: choose a folder to export into.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(
            f"Cannot create the export folder {out_dir}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc


def _files_at(folder: Path, names: Iterable[str]) -> list[str]:
    """Every file at ``folder/name`` (itself, or under it when a folder) for ``names``, relative to
    ``folder`` with ``/``, sorted."""
    found: list[str] = []
    for name in names:
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            for parent, _dirs, files in os.walk(target):
                rel = Path(parent).relative_to(folder)
                found.extend((rel / f).as_posix() for f in files)
        elif target.exists() or target.is_symlink():
            found.append(name)
    return sorted(found)


def _write_manifest(out_dir: Path, outputs: dict[str, list[str]], image_root: Path | None,
                    job: dict | None = None) -> None:
    manifest = {
        "written_by": "segview export",
        "version": 1,
        "image_root": None if image_root is None else str(Path(image_root).resolve()),
        "outputs": {fmt: sorted(files) for fmt, files in outputs.items() if files},
    }
    if job is not None:
        manifest["job"] = job
    atomic_write_text(out_dir / EXPORT_MANIFEST, json.dumps(manifest, indent=1))


def _staging_folder(out_dir: Path) -> Path:
    """A new staging folder in ``out_dir``, named after this process (see :func:`remove_stale_staging`)."""
    try:
        return Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}@{_host()}-", dir=out_dir))
    except OSError as exc:
        raise WriteError(
            f"Cannot write into {out_dir}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Remove the staging folders that interrupted exports (a crash, kill -9) left in ``out_dir``; returns
    them. A folder named after a process of this machine is stale when that process is gone; one of
    another machine, or of a segview that did not name its staging folders, when it is older than a day.
    A live export's folder is never touched."""
    removed = []
    for entry in out_dir.glob(f"{_STAGING_PREFIX}*"):
        if entry.is_dir() and not entry.is_symlink() and _stale(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


_STAGING_PREFIX = ".segview-export-"
_STAGING_OWNER = re.compile(r"(\d+)@(.+)-[a-z0-9_]+")
_STALE_AFTER_S = 24 * 3600


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"


def _stale(folder: Path) -> bool:
    owner = _STAGING_OWNER.fullmatch(folder.name[len(_STAGING_PREFIX):])
    if owner is not None and owner.group(2) == _host():
        return not _process_alive(int(owner.group(1)))
    try:
        return time.time() - folder.stat().st_mtime > _STALE_AFTER_S
    except OSError:
        return False


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, run by another user
        return True
    return True


def _move_into_place(source: Path, target: Path, trash: Path) -> None:
    """Replace ``target`` (file or folder) by ``source``; a folder is swapped with two renames, the old
    one moved into ``trash`` (the staging folder, removed afterwards or by the next export)."""
    try:
        if target.is_dir() and not target.is_symlink():
            old = trash / f".{target.name}.old-{secrets.token_hex(4)}"
            os.replace(target, old)
            os.replace(source, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(source, target)
    except OSError as exc:
        raise WriteError(
            f"Could not move the new {target.name} into {target.parent}: {exc.strerror or exc}. "
            "Check the folder's permissions and try again."
        ) from exc


def _prefixed(report: Report, label: str) -> Report:
    return Report([Issue(i.severity, f"{label}: {i.message}", i.image, i.item) for i in report.issues])


def _category_mapping(categories: CategorySet, base: int | None) -> dict[int, int]:
    if base is None:
        return {c.id: c.id for c in categories}
    return categories.renumbered(base)[1]


def _semantic_key(record: ImageRecord) -> str:
    return png_name(record)[: -len(".png")]


def _loaded_key(file_name: str, fmt: DatasetFormat) -> str:
    if fmt is DatasetFormat.SEMANTIC_PNG:
        return PurePosixPath(file_name).with_suffix("").as_posix()
    return file_name


def _class_map(annotation: Annotation, lut_of: Callable[[int], int]) -> np.ndarray:
    lut = np.zeros(max(annotation.segments, default=0) + 1, dtype=np.int64)
    for sid, segment in annotation.segments.items():
        lut[sid] = lut_of(segment.category_id)
    ids = annotation.segment_map
    return lut[np.where(ids < lut.size, ids, 0)]


def _difference(
    source: Annotation,
    loaded: Annotation | None,
    fmt: DatasetFormat,
    categories: CategorySet,
    mapping: dict[int, int],
) -> str | None:
    """What differs between a source annotation and its read-back (None: nothing)."""
    if loaded is None:
        loaded = Annotation(source.height, source.width)
    if loaded.segment_map.shape != source.segment_map.shape:
        return f"is {loaded.width}×{loaded.height} instead of {source.width}×{source.height}"
    things_only = fmt is DatasetFormat.COCO

    def expected_class(category_id: int) -> int:
        if things_only and not categories.is_thing(category_id):
            return 0
        return mapping.get(category_id, 0)

    expected = _class_map(source, expected_class)
    actual = _class_map(loaded, lambda c: c)
    differing = int(np.count_nonzero(expected != actual))
    if differing:
        return f"has {differing} pixel(s) of another class than the annotation"
    if fmt is DatasetFormat.SEMANTIC_PNG:
        return None
    kept = np.zeros(max(source.segments, default=0) + 1, dtype=bool)
    for sid, segment in source.segments.items():
        kept[sid] = expected_class(segment.category_id) != 0
    ids = source.segment_map
    src_ids = np.where((ids < kept.size) & kept[np.minimum(ids, kept.size - 1)], ids, 0).astype(np.int64)
    expected_count = len(np.unique(src_ids[src_ids > 0]))
    loaded_count = len(np.unique(loaded.segment_map[loaded.segment_map > 0]))
    if expected_count != loaded_count:
        return f"has {loaded_count} segment(s) where the annotation has {expected_count}"
    pairs = np.unique(src_ids * (1 << 32) + loaded.segment_map.astype(np.int64))
    if len(pairs) != len(np.unique(src_ids)) or len(np.unique(pairs & 0xFFFFFFFF)) != len(pairs):
        return "has segments whose outlines differ from the annotation's"
    return None
