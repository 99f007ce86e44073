"""Atomic writes: write to a temporary file beside the target, fsync, then rename into place.

A crash or a full disk leaves either the old file or the new one, never a half-written file. The file
gets the permissions a plain ``open`` would give it (0666 less the umask, or the replaced file's mode),
not the owner-only 0600 of a temporary file: datasets are read by other users and containers.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from segview.errors import WriteError


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on a clean exit it replaces ``path``, else it is removed."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise WriteError(_describe(exc, target)) from exc
    except (ValueError, RecursionError) as exc:  # a NUL byte, a lone surrogate, thousands of folders deep
        problem = "too many nested folders" if isinstance(exc, RecursionError) else str(exc)
        raise WriteError(f"{str(target)[:200]!a} cannot be a file's path ({problem}). Nothing was written.") from exc
    tmp = Path(tmp_name)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.chmod(tmp, _mode_for(target))
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(_describe(exc, target)) from exc
    except UnicodeEncodeError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"Could not write {str(target)!a}: its text holds {exc.object[exc.start:exc.end]!a}, "
                         "which UTF-8 cannot encode. Nothing was changed.") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any writer thread runs.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _mode_for(target: Path) -> int:
    """The replaced file's permission bits, or those a new file gets (0666 less the umask)."""
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o7777
    return 0o666 & ~_UMASK


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_with(path: str | os.PathLike, writer: Callable[[IO], None]) -> None:
    """Let ``writer`` fill a binary handle (e.g. ``Image.save``), then rename into place."""
    with atomic_open(path, "wb") as handle:
        writer(handle)


def _describe(exc: OSError, target: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: could not write {target}. Free some space and try again; nothing was changed."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Permission denied writing {target}. Choose a folder you can write to."
    return f"Could not write {target}: {exc.strerror or exc}. Nothing was changed."
