"""Names taken from a dataset (COCO ``file_name``, labelme ``imagePath``, class names), checked before use.

The operating system refuses some file names with errors that say nothing about the dataset (an
embedded NUL, a lone surrogate, a name too long or nested too deep), and a lone surrogate cannot be
written to any UTF-8 file or terminal. Readers check names with these functions and report the entry.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from segview.errors import FormatError

MAX_NAME_BYTES = 255
"""The longest file or folder name Linux and macOS accept (NAME_MAX), in UTF-8 bytes."""
MAX_PATH_BYTES = 4095
"""The longest path Linux accepts (PATH_MAX, 4096 with the final NUL), in UTF-8 bytes."""
MAX_DEPTH = 64
"""The most folders a dataset's file name may go down (real datasets nest a few; pathlib recurses per level)."""


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, control characters and surrogates escaped, cut at ``limit``."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (a lone surrogate such as ``\\ud800``), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not valid Unicode text (it holds the lone surrogate {text[exc.start]!a})"
    return None


def is_file(path: Path) -> bool:
    """``path.is_file()``, False where the system refuses to look the path up: a dataset's name joined to
    its folder may be longer than :data:`MAX_PATH_BYTES` (pathlib raises ENAMETOOLONG for it)."""
    try:
        return path.is_file()
    except OSError:
        return False


def file_name_problem(name: str) -> str | None:
    """Why ``name`` (a relative or absolute path with ``/`` or ``\\``) cannot be a file's path, or None."""
    if "\x00" in name:
        return "contains a NUL character, which no file name can hold"
    problem = text_problem(name)
    if problem is not None:
        return problem
    size = len(name.encode("utf-8"))
    if size > MAX_PATH_BYTES:
        return f"is {size} bytes long, more than the {MAX_PATH_BYTES} a path can have"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    longest = max((len(part.encode("utf-8")) for part in parts), default=0)
    if longest > MAX_NAME_BYTES:
        return f"has a part of {longest} bytes, more than the {MAX_NAME_BYTES} a file or folder name can have"
    if len(parts) - 1 > MAX_DEPTH:
        return f"goes {len(parts) - 1} folders deep, more than the {MAX_DEPTH} segview accepts"
    return None


def check_path(path: Path) -> None:
    """Raise FormatError when the operating system refuses to look ``path`` up (a name too long, a
    symbolic link loop, a folder above it that cannot be entered); a path that does not exist passes."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise FormatError(f"Cannot open {path}: {exc.strerror or exc}. Check the path.") from exc
