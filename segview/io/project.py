"""Crash-safe projects: a folder of images plus a SQLite database ``<folder>/.segview/project.sqlite``.

Every committed edit is its own transaction, written as it happens, so a crash (or a kill) loses only
the stroke in progress. The database is in WAL mode with ``synchronous=FULL``: in WAL mode NORMAL
already survives a *process* crash, but FULL also fsyncs the log at every commit so that an edit a
person saw applied survives a power cut or an OS crash too; the cost is one fsync per edit, at human
editing speed.

API (what the editor UI calls)::

    project = Project.open(folder, create=True)      # ProjectLockedError when open elsewhere
    project = Project.open(root, store=dataset_store(path), images=[(name, w, h), ...])  # a dataset's
    project.recovered / project.recovered_edits       # previous session did not close cleanly: its steps
    project.last_edited()                             # the image edited last (any session), or None
    project.image_names() / project.image_size(name)  # images found in the folder (relative posix names)
    ann = project.load_annotation(name)               # snapshot + journal replay, or None
    history = EditHistory(ann or Annotation(h, w))
    project.attach(name, history)                     # journals every do / undo / redo step
    project.save_annotation(name, history.annotation) # checkpoint: new snapshot, journal cleared
    project.detach(name)
    project.categories() / project.set_categories(categories)
    project.save_prediction(name, model, prediction) / project.load_prediction(name, model)
    project.get_setting(key, default) / project.set_setting(key, value)   # JSON values
    project.dataset(scope="all" | "corrected", names=None)                # for export
    project.integrity_check()                         # "ok" or SQLite's complaint
    project.close()                                   # or use ``with Project.open(...) as project:``

The history given to ``attach`` must hold the annotation ``load_annotation`` returned (or a new empty
one when it returned None): the journal is replayed on the stored snapshot. An image's first journaled
step writes its first snapshot; after ``checkpoint_rows`` journal rows the listener checkpoints by
itself. An undo of a step from before a checkpoint carries the step's atoms in its own row. When a
journal write fails (disk full) the step listener raises ProjectError and the next step writes a full
snapshot, so the store never drifts from what the editor shows.

Two openers cannot corrupt a project: ``Project.open`` holds an exclusive lock on
``.segview/lock`` (``fcntl.flock`` / ``msvcrt.locking``) for its lifetime; the OS releases it when the
process dies. A "corrected" image is one with a stored annotation (someone edited or saved it), except
one whose every step was undone back to the empty start it was first edited from: its snapshot is that
empty start and its journal nets to no step (derived, the rows stay). When the empty start is no longer
the snapshot (a compaction: a big first step, ``checkpoint_rows``, a failed write), the undo that takes
the history back to it writes the empty snapshot again, so the rule holds there too.

A dataset (COCO, panoptic, labelme, semantic PNG) gets a project too, so that edits on it are kept:
``dataset_store(path)`` says where (``.segview/<file name>/`` beside a JSON file, ``.segview/`` inside a
dataset folder), the images are the dataset's (``images=``, named by their ``file_name``, no rescan),
and an image without a stored annotation keeps the dataset's own: that is its starting state.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import struct
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.history import Edit, EditAtom, EditHistory, PixelChange, apply_atom
from segview.core.masks import CroppedMask
from segview.core.palette import parse_color
from segview.core.prediction import InstancePrediction, Prediction
from segview.core.report import Report
from segview.core.segments import Annotation, Segment, Source
from segview.errors import ImageReadError, ProjectError, ProjectLockedError, ProjectReadOnlyError

DB_DIR = ".segview"
DB_NAME = "project.sqlite"
LOCK_NAME = "lock"
APPLICATION_ID = 0x53475657  # "SGVW"
SCHEMA_VERSION = 2
"""2: snapshot maps may be stored as runs (see encode_map), which schema-1 segview cannot read: it says
the project is newer instead of calling it damaged. A schema-1 project is marked 2 when opened to write."""
CHECKPOINT_ROWS = 500
LAST_EDITED = "last_edited_image"
_ZLEVEL = 3
_RLE = b"RLE1"  # a snapshot map stored as runs (row-major starts + ids), zlib level 1: see encode_map
_BIG_STEP = 4_000_000  # a step whose atoms cover more pixels is stored as a snapshot (see _journal)
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, width INTEGER NOT NULL, height INTEGER NOT NULL);
CREATE TABLE categories (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, isthing INTEGER NOT NULL, color TEXT NOT NULL,
    supercategory TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE annotations (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    height INTEGER NOT NULL, width INTEGER NOT NULL, dtype TEXT NOT NULL, map BLOB NOT NULL,
    segments TEXT NOT NULL, version INTEGER NOT NULL, saved_at REAL NOT NULL);
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    version INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('do', 'undo', 'redo')),
    name TEXT NOT NULL, ref INTEGER, atoms BLOB);
CREATE INDEX journal_by_image ON journal (image_id, version, seq);
CREATE TABLE predictions (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE, model TEXT NOT NULL,
    data BLOB NOT NULL, saved_at REAL NOT NULL, PRIMARY KEY (image_id, model));
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# --- errors ------------------------------------------------------------------------------------------------


def _category_from_row(category_id: object, name: object, isthing: object, color: object,
                       supercategory: object) -> Category:
    """A category from its database row; TypeError or ValueError when the row cannot be one. An
    unreadable colour is left out (the class then has its default colour): it is cosmetic."""
    if type(category_id) is not int:
        raise TypeError(f"id {category_id!a:.40} is not an integer")
    if not isinstance(name, str) or not isinstance(supercategory, str):
        raise TypeError("the name and the supercategory must be text")
    if isthing not in (0, 1):
        raise ValueError(f"isthing {isthing!a:.40} is not 0 or 1")
    try:
        rgb = None if color in (None, "null") else parse_color(json.loads(color))  # type: ignore[arg-type]
    except (TypeError, ValueError, RecursionError):
        rgb = None
    return Category(category_id, name, bool(isthing), rgb, supercategory)


def _db_error(exc: sqlite3.Error, path: Path) -> ProjectError:
    """An error whose message says what went wrong with the database and what to do."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text or "permission" in text:
        return ProjectReadOnlyError(
            f"The project {path} is read-only. Copy the folder somewhere you can write to and open the copy.")
    return ProjectError(_describe_db_error(text, exc, path))


def _describe_db_error(text: str, exc: sqlite3.Error, path: Path) -> str:
    if "full" in text:
        return f"The disk is full: could not write to the project {path}. Free some space; nothing committed was lost."
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"{path} is damaged or is not a segview project database. Move the .segview folder away "
            "(annotations in it are then not used) and open the folder again."
        )
    if "locked" in text or "busy" in text:
        return f"The project {path} is busy in another program. Close it there and try again."
    return f"Could not use the project database {path}: {exc}."


def _os_error(exc: OSError, path: Path) -> ProjectError:
    """An error for a file-system failure while opening a project."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ProjectReadOnlyError(
            f"The folder {path} is read-only. Copy it somewhere you can write to and open the copy.")
    return ProjectError(_describe_os_error(exc, path))


def _describe_os_error(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: could not create the project in {path}. Free some space and try again."
    return f"Could not open the project in {path}: {exc.strerror or exc}."


# --- where projects live ----------------------------------------------------------------------------


def dataset_store(path: str | os.PathLike) -> Path:
    """Where the project of a dataset lives: ``<folder>/.segview/`` inside a labelme folder (the same place
    as a plain folder's project), else ``<dir>/.segview/<name>/`` beside the dataset file or folder (COCO,
    panoptic JSON, semantic-PNG folder): several datasets of one folder keep their own, and an export
    that rewrites a semantic-PNG folder never meets a project inside it."""
    from segview.io.detect import DatasetFormat, detect_format

    path = Path(path).expanduser().resolve()
    if path.is_dir() and detect_format(path) is DatasetFormat.LABELME:
        return path / DB_DIR
    return path.parent / DB_DIR / path.name


def _store_owner(store: Path) -> Path:
    """The folder or dataset file a project store belongs to (for messages)."""
    return store.parent if store.name == DB_DIR else store.parent.parent / store.name


# --- the lock ----------------------------------------------------------------------------------------------


class _Lock:
    """An exclusive advisory lock on a file, held until ``release`` or the process's death."""

    def __init__(self, path: Path, of: Path) -> None:
        self.path = path
        self._handle = open(path, "a+b")  # noqa: SIM115 - kept open for the lock's lifetime
        try:
            self._acquire()
        except OSError:
            owner = self._owner()
            self._handle.close()
            raise ProjectLockedError(
                f"The project of {of} is open in another segview window"
                f"{f' (process {owner})' if owner else ''}. Switch to that window, or close it and "
                "open the project again."
            ) from None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(str(os.getpid()).encode())
        self._handle.flush()

    def _acquire(self) -> None:
        """Lock without waiting; OSError when someone else holds it."""
        if os.name == "nt":
            import msvcrt

            self._handle.seek(0)
            msvcrt.locking(self._handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _owner(self) -> str:
        """The pid the holder wrote into the lock file ('' when unreadable)."""
        with contextlib.suppress(OSError):
            return self.path.read_text().strip()[:12]
        return ""

    def release(self) -> None:
        """Unlock and close the file."""
        if self._handle.closed:
            return
        if os.name == "nt":
            import msvcrt

            with contextlib.suppress(OSError):
                self._handle.seek(0)
                msvcrt.locking(self._handle.fileno(), msvcrt.LK_UNLCK, 1)
        self._handle.close()  # closing the descriptor drops a flock


# --- serialisation ----------------------------------------------------------------------------------------


def _segment_json(segment: Segment | None) -> list | None:
    """A segment as a compact JSON list (None stays None)."""
    if segment is None:
        return None
    score = None if segment.score is None else float(segment.score)
    return [int(segment.category_id), bool(segment.iscrowd), score, Source(segment.source).value]


def _segment_from(data: list | None) -> Segment | None:
    """The inverse of ``_segment_json``."""
    if data is None:
        return None
    category_id, iscrowd, score, source = data
    return Segment(int(category_id), bool(iscrowd), score, Source(source))


def _table_json(table: dict[int, Segment | None]) -> list:
    """id → segment as a JSON list of [id, segment] pairs (keys stay ints, order kept)."""
    return [[int(sid), _segment_json(seg)] for sid, seg in table.items()]


def _table_from(data: list) -> dict[int, Segment | None]:
    """The inverse of ``_table_json``."""
    return {int(sid): _segment_from(seg) for sid, seg in data}


def _pack(header: Any, buffers: list[bytes]) -> bytes:
    """A JSON header plus binary buffers in one zlib blob (the header lists the buffers' sizes)."""
    head = json.dumps({"h": header, "n": [len(b) for b in buffers]}, separators=(",", ":")).encode()
    return zlib.compress(struct.pack("<I", len(head)) + head + b"".join(buffers), _ZLEVEL)


def _unpack(blob: bytes) -> tuple[Any, list[memoryview]]:
    """The inverse of ``_pack``."""
    raw = memoryview(zlib.decompress(blob))
    (size,) = struct.unpack_from("<I", raw)
    head = json.loads(bytes(raw[4 : 4 + size]))
    buffers, offset = [], 4 + size
    for n in head["n"]:
        buffers.append(raw[offset : offset + n])
        offset += n
    return head["h"], buffers


def encode_map(segment_map: np.ndarray) -> bytes:
    """A segment map for a snapshot: its runs (row-major start of each, then each run's id) when the map
    has few (a 48 MP map of 60 segments: ~25 ms, 0.2 MB), else the raw map zlib-compressed (level 3:
    0.1-0.3 s on 48 MP, which kept the window 0.29 s on an image's first edit)."""
    flat = np.ascontiguousarray(segment_map).reshape(-1)
    if flat.size == 0:
        return zlib.compress(b"", _ZLEVEL)
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    if starts.size * 8 < flat.size * flat.itemsize and flat.size < 2**32:
        starts = np.concatenate(([0], starts)).astype("<u4")
        return _RLE + zlib.compress(starts.tobytes() + flat[starts].tobytes(), 1)
    return zlib.compress(flat.tobytes(), _ZLEVEL)


def decode_map(blob: bytes, dtype: str, height: int, width: int) -> np.ndarray:
    """The inverse of ``encode_map`` (also reads the plain zlib maps of earlier versions)."""
    if not blob.startswith(_RLE):
        return np.frombuffer(zlib.decompress(blob), dtype).reshape(height, width).copy()
    raw = zlib.decompress(blob[len(_RLE):])
    itemsize = np.dtype(dtype).itemsize
    runs = len(raw) // (4 + itemsize)
    if runs * (4 + itemsize) != len(raw) or runs == 0:
        raise ValueError("the runs of the segment map are truncated")
    starts = np.frombuffer(raw, "<u4", runs).astype(np.int64)
    ids = np.frombuffer(raw, dtype, runs, offset=4 * runs)
    lengths = np.diff(np.append(starts, height * width))
    if starts[0] != 0 or (lengths <= 0).any():
        raise ValueError("the runs of the segment map do not cover it")
    return np.repeat(ids, lengths).reshape(height, width)


def encode_atoms(atoms: list[EditAtom]) -> bytes:
    """An edit's atoms: box, packed ``where`` bits, before/after values, segment-table changes."""
    header, buffers = [], []
    for atom in atoms:
        entry: dict[str, Any] = {"sb": _table_json(atom.segments_before), "sa": _table_json(atom.segments_after)}
        if atom.pixels is not None:
            p = atom.pixels
            entry["box"] = [int(v) for v in p.box]
            entry["dt"] = [p.before.dtype.str, p.after.dtype.str]
            buffers += [np.packbits(p.where, axis=None).tobytes(), p.before.tobytes(), p.after.tobytes()]
        header.append(entry)
    return _pack(header, buffers)


def decode_atoms(blob: bytes) -> list[EditAtom]:
    """The inverse of ``encode_atoms``."""
    header, buffers = _unpack(blob)
    atoms, queue = [], iter(buffers)
    for entry in header:
        pixels = None
        if "box" in entry:
            top, left, h, w = entry["box"]
            bits, before, after = next(queue), next(queue), next(queue)
            where = np.unpackbits(np.frombuffer(bits, np.uint8), count=h * w).reshape(h, w).astype(bool)
            pixels = PixelChange(
                top, left, where, np.frombuffer(before, entry["dt"][0]).copy(),
                np.frombuffer(after, entry["dt"][1]).copy(),
            )
        atoms.append(EditAtom(pixels, _table_from(entry["sb"]), _table_from(entry["sa"])))
    return atoms


def encode_prediction(prediction: Prediction) -> bytes:
    """A Prediction: semantic map, confidence and bbox-cropped instance masks, compressed."""
    header: dict[str, Any] = {
        "size": [prediction.height, prediction.width], "model": prediction.model, "device": prediction.device,
    }
    buffers: list[bytes] = []
    for key in ("semantic", "semantic_confidence"):
        array = getattr(prediction, key)
        header[key] = None if array is None else [array.dtype.str, list(array.shape)]
        if array is not None:
            buffers.append(np.ascontiguousarray(array).tobytes())
    header["instances"] = []
    for inst in prediction.instances:
        m = inst.mask
        header["instances"].append([int(inst.category_id), float(inst.score), m.x, m.y, m.height, m.width])
        buffers.append(np.packbits(m.mask, axis=None).tobytes())
    return _pack(header, buffers)


def decode_prediction(blob: bytes) -> Prediction:
    """The inverse of ``encode_prediction``."""
    header, buffers = _unpack(blob)
    queue = iter(buffers)
    arrays = {}
    for key in ("semantic", "semantic_confidence"):
        spec = header[key]
        arrays[key] = None if spec is None else np.frombuffer(next(queue), spec[0]).reshape(spec[1]).copy()
    instances = []
    for category_id, score, x, y, h, w in header["instances"]:
        bits = np.unpackbits(np.frombuffer(next(queue), np.uint8), count=h * w).reshape(h, w).astype(bool)
        instances.append(InstancePrediction(category_id, score, CroppedMask(x, y, bits)))
    height, width = header["size"]
    return Prediction(height, width, instances, arrays["semantic"], arrays["semantic_confidence"],
                      header["model"], header["device"])


# --- the project -----------------------------------------------------------------------------------------


@dataclass
class _Attachment:
    """One attached history: its listener and which journal row holds each live edit's atoms."""

    history: EditHistory
    listener: Any
    rows: dict[int, tuple[weakref.ref, int]] = field(default_factory=dict)
    count: int = 0
    needs_snapshot: bool = False
    empty_start: bool = False  # no snapshot yet and the history began on an empty annotation


class Project:
    """An open project: the folder, its database connection and the lock (see the module docstring)."""

    checkpoint_rows: int = CHECKPOINT_ROWS

    def __init__(self, folder: Path, db: sqlite3.Connection, lock: _Lock | None,
                 recovered_edits: int | None, store: Path | None = None) -> None:
        self.folder = folder
        self.store = store or folder / DB_DIR
        self.db_path = self.store / DB_NAME
        self._db: sqlite3.Connection | None = db
        self._lock = lock
        self._mutex = threading.RLock()
        self._attached: dict[str, _Attachment] = {}
        self.recovered = recovered_edits is not None
        self.recovered_edits = recovered_edits or 0
        self.scan_report = Report()

    # --- opening and closing -------------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | os.PathLike, *, create: bool = True, store: str | os.PathLike | None = None,
             images: list[tuple[str, int, int]] | None = None) -> Project:
        """Open (or, with ``create``, make) the project of a folder of images. A dataset's project gives
        its ``store`` (see ``dataset_store``) and its ``images`` as (file name relative to ``folder``,
        width, height): they are registered instead of scanning the folder."""
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise ProjectError(f"{folder} is not a folder. Give the folder that holds the project's images.")
        store = Path(store).expanduser().resolve() if store is not None else folder / DB_DIR
        db_path = store / DB_NAME
        if not db_path.exists() and not create:
            raise ProjectError(
                f"{folder} has no segview project ({DB_DIR}/{DB_NAME}). "
                "Open the folder in the segview window first to create one."
            )
        try:
            store.mkdir(parents=True, exist_ok=True)
            lock = _Lock(store / LOCK_NAME, _store_owner(store))
        except OSError as exc:
            raise _os_error(exc, store.parent) from None
        try:
            db, recovered = _connect(db_path)
        except BaseException:
            lock.release()
            raise
        project = cls(folder, db, lock, recovered, store)
        try:
            project.rescan() if images is None else project.add_images(images)
        except BaseException:
            project._abandon()
            raise
        return project

    @classmethod
    def open_read_only(cls, folder: str | os.PathLike, *, store: str | os.PathLike | None = None) -> Project:
        """Open the project of a folder (or a dataset's, in ``store``) to read it, without the lock and without
        writing anything: for a project another segview holds (WAL lets a reader see every edit it has
        journaled so far)."""
        folder = Path(folder).expanduser().resolve()
        store = Path(store).expanduser().resolve() if store is not None else folder / DB_DIR
        db_path = store / DB_NAME
        if not db_path.exists():
            raise ProjectError(f"{folder} has no segview project ({DB_DIR}/{DB_NAME}).")

        def check(db: sqlite3.Connection) -> None:
            if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                raise ProjectError(f"{db_path} is not a segview project database.")

        db, _ = _sqlite(db_path, check, read_only=True)
        return cls(folder, db, None, None, store)

    @property
    def read_only(self) -> bool:
        """Opened with ``open_read_only``: nothing can be written."""
        return self._lock is None

    def close(self) -> None:
        """Detach every history, mark a clean shutdown, checkpoint the WAL and release the lock (a
        read-only project just closes its connection)."""
        if self._db is None:
            return
        if self.read_only:
            self._abandon()
            return
        for name in list(self._attached):
            self.detach(name)
        try:
            with self._tx() as db:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('clean_shutdown', '1')")
            with self._errors():
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._abandon()

    def _abandon(self) -> None:
        """Close the connection and drop the lock without writing anything."""
        with contextlib.suppress(sqlite3.Error):
            if self._db is not None:
                self._db.close()
        self._db = None
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._db is None

    # --- transactions ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn SQLite and OS failures into ProjectError with a message that says what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            raise _db_error(exc, self.db_path) from None
        except OSError as exc:
            raise _os_error(exc, self.folder) from None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on any failure)."""
        with self._mutex, self._errors():
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Rows of a query."""
        with self._mutex, self._errors():
            return self._connection().execute(sql, args).fetchall()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise ProjectError("The project is closed. Open it again.")
        return self._db

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: 'ok' when the database is sound."""
        return "\n".join(str(r[0]) for r in self._read("PRAGMA integrity_check"))

    # --- images ------------------------------------------------------------------------------------------

    def rescan(self) -> int:
        """Add images that appeared in the folder (their sizes read from the headers); returns how many.

        Unreadable files are skipped and listed in ``scan_report``; rows of vanished files are kept.
        """
        from segview.io.folder_images import image_files
        from segview.io.images import read_image_size

        known = {r[0] for r in self._read("SELECT name FROM images")}
        found = []
        for path in sorted(image_files(self.folder)):
            name = path.relative_to(self.folder).as_posix()
            if name in known:
                continue
            try:
                width, height = read_image_size(path, name=name)
            except ImageReadError as exc:
                self.scan_report.warning(f"not added to the project: {exc}", name)
                continue
            found.append((name, width, height))
        if found:
            with self._tx() as db:
                db.executemany("INSERT INTO images (name, width, height) VALUES (?, ?, ?)", found)
        return len(found)

    def add_images(self, images: list[tuple[str, int, int]]) -> int:
        """Register images given as (name, width, height) (a dataset's, instead of a folder scan); names
        already known keep their row. Returns how many were new."""
        known = {r[0] for r in self._read("SELECT name FROM images")}
        found = [(str(n), int(w), int(h)) for n, w, h in images if n not in known]
        if found:
            with self._tx() as db:
                db.executemany("INSERT OR IGNORE INTO images (name, width, height) VALUES (?, ?, ?)", found)
        return len(found)

    def image_names(self) -> list[str]:
        """Every image of the project, by name relative to the folder (posix separators), sorted."""
        return [r[0] for r in self._read("SELECT name FROM images ORDER BY name")]

    def image_size(self, name: str) -> tuple[int, int]:
        """(width, height) of an image."""
        return self._image(name)[1:]

    def _image(self, name: str) -> tuple[int, int, int]:
        """(id, width, height) of an image; ProjectError when it is not in the project."""
        rows = self._read("SELECT id, width, height FROM images WHERE name = ?", (name,))
        if not rows:
            raise ProjectError(f"{name} is not an image of the project {self.folder}.")
        return rows[0]

    def corrected_names(self) -> list[str]:
        """Images with a stored annotation (edited or saved in segview), sorted; not those whose every step
        was undone back to the empty start (see ``_blank_ids``)."""
        blank = self._blank_ids()
        return [r[1] for r in self._read(
            "SELECT images.id, name FROM images JOIN annotations ON annotations.image_id = images.id ORDER BY name")
            if r[0] not in blank]

    def _blank_ids(self, image_id: int | None = None) -> set[int]:
        """Images (or the one given) whose snapshot is the empty start their first step was made on and whose
        journal nets to no step (do pushes, undo pops, redo re-pushes; a redo with nothing undone carries
        its atoms and counts as a step): every step was undone, so they are not corrected. Reads the journal's
        kinds only, no map and no atoms."""
        where = "" if image_id is None else " AND annotations.image_id = ?"
        join = ("FROM annotations LEFT JOIN journal ON journal.image_id = annotations.image_id AND journal.version "
                f"= annotations.version WHERE annotations.version = 1 AND annotations.segments = '[]'{where}")
        # each undo pops at most one step: only an image with no more steps pushed than undone can be blank
        candidates = (f"SELECT annotations.image_id {join} GROUP BY annotations.image_id HAVING "
                      "COALESCE(SUM(journal.kind != 'undo'), 0) <= COALESCE(SUM(journal.kind = 'undo'), 0)")
        rows = self._read(
            f"SELECT annotations.image_id, journal.kind {join} AND annotations.image_id IN ({candidates}) "
            "ORDER BY annotations.image_id, journal.seq", () if image_id is None else (image_id, image_id))
        depth: dict[int, list[int]] = {}
        for image, kind in rows:
            stack = depth.setdefault(image, [0, 0])  # steps done, steps undone
            if kind == "do":
                stack[:] = [stack[0] + 1, 0]
            elif kind == "undo" and stack[0]:
                stack[:] = [stack[0] - 1, stack[1] + 1]
            elif kind == "redo":
                stack[:] = [stack[0] + 1, max(stack[1] - 1, 0)]
        return {image for image, (done, _undone) in depth.items() if done == 0}

    # --- annotations ------------------------------------------------------------------------------------

    def save_annotation(self, name: str, annotation: Annotation) -> None:
        """Write a new snapshot of an image's annotation and clear its journal, in one transaction."""
        image_id = self._image(name)[0]
        with self._tx() as db:
            self._write_snapshot(db, image_id, annotation)
        attachment = self._attached.get(name)
        if attachment is not None:
            attachment.rows.clear()
            attachment.count = 0
            attachment.needs_snapshot = False

    def _write_snapshot(self, db: sqlite3.Connection, image_id: int, annotation: Annotation,
                        encoded: tuple[str, bytes] | None = None) -> int:
        """Inside a transaction: replace the snapshot (version + 1) and delete the image's journal; returns
        the new version. ``encoded``: the annotation's map as ``encode_map`` gives it, with its dtype,
        computed ahead (used when the dtype is the map's)."""
        row = db.execute("SELECT version FROM annotations WHERE image_id = ?", (image_id,)).fetchone()
        version = 1 if row is None else row[0] + 1
        if version == 1 and not annotation.segments:
            version = 2  # a saved empty state is not the empty start (version 1, see ``_blank_ids``)
        dtype = np.dtype(annotation.segment_map.dtype).str
        if encoded is not None and encoded[0] == dtype:
            blob = encoded[1]
        else:
            blob = encode_map(np.ascontiguousarray(annotation.segment_map))
        db.execute(
            "INSERT OR REPLACE INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (image_id, annotation.height, annotation.width, dtype, blob,
             json.dumps(_table_json(annotation.segments)), version, time.time()),
        )
        db.execute("DELETE FROM journal WHERE image_id = ?", (image_id,))
        return version

    def _write_empty_snapshot(self, db: sqlite3.Connection, image_id: int, annotation: Annotation) -> int:
        """Inside a transaction: the image's first snapshot, empty (what it was opened with); returns its
        version. The map is one run of void, so this costs nothing on any image size."""
        dtype = np.dtype(annotation.segment_map.dtype)
        blob = _RLE + zlib.compress(np.zeros(1, "<u4").tobytes() + np.zeros(1, dtype).tobytes(), 1)
        db.execute("INSERT OR REPLACE INTO annotations VALUES (?, ?, ?, ?, ?, '[]', 1, ?)",
                   (image_id, annotation.height, annotation.width, dtype.str, blob, time.time()))
        db.execute("DELETE FROM journal WHERE image_id = ?", (image_id,))
        return 1

    def starts_empty(self, name: str) -> bool:
        """The image's stored snapshot is the empty annotation its first step was made on (every stored step
        is journaled after it), not a state holding edits; False without a snapshot. Reads no map."""
        rows = self._read("SELECT version, segments FROM annotations WHERE image_id = ?", (self._image(name)[0],))
        return bool(rows) and rows[0][0] == 1 and rows[0][1] == "[]"

    def annotation_versions(self) -> dict[str, int]:
        """Each image with a stored annotation and its snapshot's version, without reading any map: what
        the image browser needs to mark the corrected images when a project opens."""
        blank = self._blank_ids()
        return {name: version for image_id, name, version in self._read(
            "SELECT images.id, name, version FROM images JOIN annotations ON annotations.image_id = images.id")
            if image_id not in blank}

    def load_annotation(self, name: str) -> Annotation | None:
        """The stored annotation of an image (last snapshot with the journal replayed), or None (also when
        every step was undone back to the empty start: the image is not corrected)."""
        image_id = self._image(name)[0]
        with self._mutex:
            rows = self._read("SELECT height, width, dtype, map, segments, version FROM annotations "
                              "WHERE image_id = ?", (image_id,))
            if not rows or self._blank_ids(image_id):
                return None
            height, width, dtype, blob, segments, version = rows[0]
            journal = self._read("SELECT seq, kind, ref, atoms FROM journal WHERE image_id = ? AND version = ? "
                                 "ORDER BY seq", (image_id, version))
        try:
            segment_map = decode_map(blob, dtype, height, width)
            annotation = Annotation(height, width, segment_map, _table_from(json.loads(segments)))
            _replay(annotation, journal)
        except (zlib.error, ValueError, KeyError, TypeError, StopIteration, struct.error) as exc:
            raise ProjectError(
                f"The stored annotation of {name} in {self.db_path} is damaged ({exc}). "
                "Restore the project from a backup, or delete the image's annotation and redo it."
            ) from None
        return annotation

    def undoable_edits(self, name: str) -> list[Edit]:
        """The steps journaled since the image's last snapshot that were done and not undone, oldest
        first, as they were: undoing them in a new session walks back to that snapshot. Empty for a
        damaged journal (``load_annotation`` says so)."""
        image_id = self._image(name)[0]
        rows = self._read("SELECT journal.seq, journal.kind, journal.name, journal.ref, journal.atoms FROM journal "
                          "JOIN annotations USING (image_id) WHERE image_id = ? AND journal.version = "
                          "annotations.version ORDER BY journal.seq", (image_id,))
        done: list[Edit] = []
        undone: list[Edit] = []
        by_row: dict[int, Edit] = {}
        try:
            for seq, kind, step_name, ref, blob in rows:
                edit = by_row[ref] if ref is not None else Edit(step_name, decode_atoms(blob))
                by_row.setdefault(seq, edit)
                if kind == "do":
                    done.append(edit)
                    undone.clear()
                elif kind == "undo" and done:
                    undone.append(done.pop())
                elif kind == "redo":  # with nothing undone: a redo journaled after a snapshot, its atoms
                    done.append(undone.pop() if undone else edit)
        except (zlib.error, ValueError, KeyError, TypeError, StopIteration, struct.error):
            return []
        return done

    def journal_length(self, name: str) -> int:
        """Journal rows of an image since its last snapshot."""
        return self._read("SELECT COUNT(*) FROM journal WHERE image_id = ?", (self._image(name)[0],))[0][0]

    # --- journaling ----------------------------------------------------------------------------------------

    def attach(self, image_name: str, history: EditHistory,
               on_error: Callable[[ProjectError], None] | None = None) -> None:
        """Journal every step of ``history`` (do / undo / redo) as its own committed transaction.

        A step that cannot be written (disk full, ...) raises ProjectError from the history's listener, or,
        with ``on_error``, is handed to it instead, so the edit itself and the other listeners (an undo
        stack) carry on; the next step writes a full snapshot, so nothing is lost once space is back."""
        image_id = self._image(image_name)[0]
        self.detach(image_name)

        def listener(kind: str, edit: Edit) -> None:
            try:
                self._journal(image_name, image_id, kind, edit)
            except ProjectError as exc:
                if on_error is None:
                    raise
                on_error(exc)

        history.step_listeners.append(listener)
        count = self._read("SELECT COUNT(*) FROM journal WHERE image_id = ?", (image_id,))[0][0]
        stored = self._read("SELECT 1 FROM annotations WHERE image_id = ?", (image_id,))
        stored = stored and not self._blank_ids(image_id)  # every step undone: it starts empty again
        start = history.annotation
        empty = not stored and not history.done and not start.segments and not start.segment_map.any()
        self._attached[image_name] = _Attachment(history, listener, count=count, empty_start=empty)

    def detach(self, image_name: str) -> None:
        """Stop journaling an image's history (nothing is written)."""
        attachment = self._attached.pop(image_name, None)
        if attachment is not None:
            with contextlib.suppress(ValueError):
                attachment.history.step_listeners.remove(attachment.listener)

    def _journal(self, name: str, image_id: int, kind: str, edit: Edit) -> None:
        """Write one step: a journal row, or a full snapshot when one is due (first edit, N rows, failure,
        a step changing much of the image).

        An image's first step made on an empty annotation (a folder's image) is journaled after an empty
        snapshot, so it stays undoable after a restart; a big step (accept all on 48 MP: its atoms take
        0.8 s to encode, the snapshot 25 ms) is stored as a snapshot instead, like a first step on an
        annotation the image was opened with (a dataset's)."""
        attachment = self._attached[name]
        annotation = attachment.history.annotation
        big = _changed_pixels(edit) > _BIG_STEP
        back_to_start = kind == "undo" and attachment.empty_start and not attachment.history.done
        try:
            with self._tx() as db:
                row = db.execute("SELECT version, segments FROM annotations WHERE image_id = ?",
                                 (image_id,)).fetchone()
                version = None if row is None else row[0]
                compacted = row is None or tuple(row) != (1, "[]")
                if back_to_start and (compacted or attachment.needs_snapshot or big
                                      or attachment.count >= self.checkpoint_rows):
                    # the empty start again, as the snapshot: the image is not corrected (see the docstring)
                    self._write_empty_snapshot(db, image_id, annotation)
                    attachment.rows.clear()
                    attachment.count = 0
                else:
                    self._step(db, attachment, image_id, version, kind, edit, big)
                _count_step(db, name)
        except ProjectError:
            attachment.needs_snapshot = True
            raise
        attachment.needs_snapshot = False

    def _step(self, db: sqlite3.Connection, attachment: _Attachment, image_id: int, version: int | None,
              kind: str, edit: Edit, big: bool) -> None:
        """Inside a transaction: the step as a journal row, or as a snapshot when one is due."""
        annotation = attachment.history.annotation
        if version is None and attachment.empty_start and not attachment.needs_snapshot and not big:
            version = self._write_empty_snapshot(db, image_id, annotation)
            attachment.rows.clear()
            attachment.count = 0
        if version is None or attachment.needs_snapshot or big or attachment.count >= self.checkpoint_rows:
            ahead = edit.encoded_after if kind == "do" else None  # the map after the step, not an undo's
            self._write_snapshot(db, image_id, annotation, ahead)
            attachment.rows.clear()
            attachment.count = 0
        else:
            self._append(db, attachment, image_id, version, kind, edit)

    def _append(self, db: sqlite3.Connection, attachment: _Attachment, image_id: int, version: int,
                kind: str, edit: Edit) -> None:
        """Inside a transaction: one journal row; undo/redo of a journaled edit refers to its row."""
        known = attachment.rows.get(id(edit))
        ref = known[1] if known is not None and known[0]() is edit else None
        blob = None if ref is not None else encode_atoms(edit.atoms)
        cursor = db.execute(
            "INSERT INTO journal (image_id, version, kind, name, ref, atoms) VALUES (?, ?, ?, ?, ?, ?)",
            (image_id, version, kind, edit.name, ref, blob),
        )
        if ref is None:
            attachment.rows[id(edit)] = (weakref.ref(edit), cursor.lastrowid)
        attachment.count += 1

    # --- categories, predictions, settings -------------------------------------------------------------

    def categories(self) -> CategorySet:
        """The project's categories in display order. A damaged colour gives the class its default colour;
        a row that cannot be a category (id, name, thing flag) is a ProjectError naming it."""
        rows = self._read("SELECT id, name, isthing, color, supercategory FROM categories ORDER BY position")
        categories = CategorySet()
        for row in rows:
            try:
                categories.add(_category_from_row(*row))
            except (TypeError, ValueError) as exc:
                raise ProjectError(
                    f"The project's categories in {self.db_path} are damaged: the row {row!a:.120} ({exc}). "
                    "Restore the project from a backup, or correct the row with an SQLite tool."
                ) from None
        return categories

    def set_categories(self, categories: CategorySet) -> None:
        """Replace the project's categories (order kept)."""
        rows = [
            (c.id, c.name, int(c.isthing), json.dumps(list(c.color) if c.color else None), c.supercategory, pos)
            for pos, c in enumerate(categories)
        ]
        with self._tx() as db:
            db.execute("DELETE FROM categories")
            db.executemany("INSERT INTO categories VALUES (?, ?, ?, ?, ?, ?)", rows)

    def save_prediction(self, name: str, model: str, prediction: Prediction) -> None:
        """Cache a model's prediction for an image (replacing an older one of the same model)."""
        image_id = self._image(name)[0]
        blob = encode_prediction(prediction)
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?)", (image_id, model, blob, time.time()))

    def load_prediction(self, name: str, model: str) -> Prediction | None:
        """The cached prediction of a model for an image, or None."""
        rows = self._read("SELECT data FROM predictions WHERE image_id = ? AND model = ?",
                          (self._image(name)[0], model))
        if not rows:
            return None
        try:
            return decode_prediction(rows[0][0])
        except (zlib.error, ValueError, KeyError, TypeError, StopIteration, struct.error):
            return None  # a damaged cache entry is simply recomputed

    def last_edited(self) -> str | None:
        """The name of the image edited last (in any session), or None."""
        name = self.get_setting(LAST_EDITED)
        return name if isinstance(name, str) else None

    def get_setting(self, key: str, default: Any = None) -> Any:
        """A setting's JSON value, or ``default``."""
        rows = self._read("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable setting."""
        text = json.dumps(value)
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, text))

    # --- export -----------------------------------------------------------------------------------------------

    def dataset(self, scope: str = "all", names: list[str] | None = None) -> Dataset:
        """The project as a Dataset (image_root = the folder): all images, or only the corrected ones."""
        if scope not in ("all", "corrected"):
            raise ProjectError(f"scope must be 'all' or 'corrected', not {scope!r}.")
        rows = self._read("SELECT id, name, width, height FROM images ORDER BY name")
        wanted = set(self.corrected_names()) if scope == "corrected" else None
        if names is not None:
            unknown = sorted(set(names) - {r[1] for r in rows})
            if unknown:
                raise ProjectError(f"{unknown[0]} is not an image of the project {self.folder}.")
            wanted = set(names) if wanted is None else wanted & set(names)
        records = [
            ImageRecord(image_id, name, width, height, self.load_annotation(name))
            for image_id, name, width, height in rows
            if wanted is None or name in wanted
        ]
        return Dataset(self.categories(), records, image_root=self.folder)


def _changed_pixels(edit: Edit) -> int:
    """The pixels an edit's atoms cover (their boxes), an upper bound of what encoding them costs."""
    return sum(a.pixels.where.size for a in edit.atoms if a.pixels is not None)


def _count_step(db: sqlite3.Connection, name: str) -> None:
    """Inside a step's transaction: one more user step in this session; ``name`` was edited last."""
    db.execute("INSERT INTO meta VALUES ('session_steps', '1') "
               "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
    db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (LAST_EDITED, json.dumps(name)))


def _replay(annotation: Annotation, journal: list[tuple]) -> None:
    """Apply journal rows in order: do/redo forwards, undo backwards; a ``ref`` row reuses atoms."""
    atoms_of: dict[int, list[EditAtom]] = {}
    for seq, kind, ref, blob in journal:
        atoms = atoms_of[ref] if ref is not None else decode_atoms(blob)
        if ref is None:
            atoms_of[seq] = atoms
        if kind == "undo":
            for atom in reversed(atoms):
                apply_atom(annotation, atom, reverse=True)
        else:
            for atom in atoms:
                apply_atom(annotation, atom)


def _connect(db_path: Path) -> tuple[sqlite3.Connection, int | None]:
    """Open (creating when missing) and check the database; returns it and the journal rows to recover
    (None after a clean shutdown)."""
    fresh = not db_path.exists()

    def prepare(db: sqlite3.Connection) -> int | None:
        _configure(db, db_path, fresh)
        return _mark_open(db)

    return _sqlite(db_path, prepare)


def _sqlite(db_path: Path, prepare: Callable[[sqlite3.Connection], _T], *,
            read_only: bool = False) -> tuple[sqlite3.Connection, _T]:
    """A connection to the database and what ``prepare`` returns for it; when either fails, the
    connection is closed and the error says what to do."""
    target = f"{db_path.as_uri()}?mode=ro" if read_only else db_path
    try:
        db = sqlite3.connect(target, uri=read_only, isolation_level=None, check_same_thread=False, timeout=2.0)
    except sqlite3.Error as exc:
        raise _db_error(exc, db_path) from None
    try:
        return db, prepare(db)
    except sqlite3.Error as exc:
        db.close()
        raise _db_error(exc, db_path) from None
    except BaseException:
        db.close()
        raise


def _configure(db: sqlite3.Connection, db_path: Path, fresh: bool) -> None:
    """WAL + synchronous FULL; create the schema in a new file, check the identity of an old one."""
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    tables = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    if app_id != APPLICATION_ID and not (fresh or (app_id == 0 and tables == 0)):
        raise ProjectError(
            f"{db_path} is an SQLite database but not a segview project. Move it away and open the folder again."
        )
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if app_id == APPLICATION_ID and version > SCHEMA_VERSION:
        raise ProjectError(f"{db_path} was written by a newer segview (schema {version}). Update segview.")
    if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
        raise ProjectError(f"{db_path} cannot use write-ahead logging here (a network drive?). Copy it locally.")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    if app_id != APPLICATION_ID:
        db.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} INSERT INTO meta VALUES ('clean_shutdown', '1');"
            f" PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        )
    elif version < SCHEMA_VERSION:  # same tables; what it may now store needs this segview or a newer one
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _mark_open(db: sqlite3.Connection) -> int | None:
    """Clear the clean-shutdown flag and start counting this session's steps; returns the steps (do, undo,
    redo: a brush stroke is one) the last session journaled when it crashed, None after a clean close."""
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'clean_shutdown'").fetchone()
        crashed = row is not None and row[0] == "0"
        steps = db.execute("SELECT value FROM meta WHERE key = 'session_steps'").fetchone()
        if crashed and steps is None:  # written by a segview that did not count steps: its journal rows
            steps = db.execute("SELECT COUNT(*) FROM journal").fetchone()
        pending = int(steps[0]) if crashed else None
        problem = db.execute("PRAGMA quick_check").fetchone()[0] if crashed else "ok"
        if problem != "ok":
            raise ProjectError(f"The project database is damaged ({problem}). Restore it from a backup.")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('clean_shutdown', '0')")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('session_steps', '0')")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return pending
