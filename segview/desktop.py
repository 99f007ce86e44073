"""Desktop integration for the current user on Linux (freedesktop): the application-menu entry, the icon
and the "Open with" associations; ``segview desktop install`` / ``uninstall``.

``install`` writes, under ``$XDG_DATA_HOME`` (``~/.local/share``; no root needed):

- ``applications/segview.desktop``: the shipped ``resources/segview.desktop`` with ``Exec``/``TryExec``
  naming the segview that runs the command (a virtual environment's ``bin/segview`` is rarely on the
  desktop session's PATH);
- ``icons/hicolor/scalable/apps/segview.svg``: the shipped icon;
- ``mime/packages/segview.xml``: ``resources/segview-mime.xml``, the COCO dataset type;

and a manifest (``segview/desktop-install.json``: each file's SHA-256, each folder it created), so that
``uninstall`` removes exactly those: a file changed since is left, and said so. Both then run
update-desktop-database and update-mime-database when they are installed. Qt-free.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from segview.bundled import bundled_path
from segview.errors import SegviewError
from segview.io.atomic import atomic_write_bytes, atomic_write_text

APP_ID = "segview"
SUPPORTED_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd")
# Characters that make an Exec argument need quotes (Desktop Entry Specification, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


class DesktopError(SegviewError):
    """Desktop integration is not possible here (the platform) or its files cannot be written."""


@dataclass(frozen=True)
class DesktopPaths:
    """Where the integration's files go, under one XDG data folder."""

    data_home: Path

    @property
    def entry(self) -> Path:
        return self.data_home / "applications" / f"{APP_ID}.desktop"

    @property
    def icon(self) -> Path:
        return self.data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"

    @property
    def mime(self) -> Path:
        return self.data_home / "mime" / "packages" / f"{APP_ID}.xml"

    @property
    def manifest(self) -> Path:
        return self.data_home / APP_ID / "desktop-install.json"


def user_paths() -> DesktopPaths:
    """The current user's paths: ``$XDG_DATA_HOME``, else ``~/.local/share``."""
    return DesktopPaths(Path(platformdirs.user_data_dir()))


def check_supported(platform: str | None = None) -> None:
    """Refuse, saying what to do instead, where there is no freedesktop desktop (macOS, Windows);
    ``platform``: ``sys.platform`` by default."""
    platform = platform or sys.platform
    if platform.startswith(SUPPORTED_PLATFORMS):
        return
    if platform == "darwin":
        raise DesktopError("segview desktop supports Linux desktops only for now: on macOS there is no "
                           "application bundle or Finder association yet; start segview from a terminal.")
    if platform in ("win32", "cygwin"):
        raise DesktopError("segview desktop supports Linux desktops only for now: on Windows there is no "
                           "Start-menu shortcut or file association yet; start segview from a terminal.")
    raise DesktopError(f"segview desktop supports Linux desktops only, not {platform}: start segview from a terminal.")


def launch_command() -> list[str]:
    """The command that starts this segview: the frozen app, the ``segview`` script being run, the one
    beside this Python (a virtual environment, pipx, uv), the one on PATH, else ``python -m segview.cli``."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    candidates = [Path(sys.argv[0]) if sys.argv and Path(sys.argv[0]).name == APP_ID else None,
                  Path(sys.executable).parent / APP_ID]
    on_path = shutil.which(APP_ID)
    candidates.append(Path(on_path) if on_path else None)
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return [str(candidate.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "segview.cli"]


def exec_argument(arg: str) -> str:
    """One argument of an Exec key: ``%`` doubled, quoted when it holds a reserved character, and the
    backslashes of the quoting escaped once more as the key's string value requires."""
    arg = arg.replace("%", "%%")
    if any(c in _RESERVED for c in arg):
        arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
    return arg.replace("\\", "\\\\")


def render_entry(template: str, command: list[str]) -> str:
    """The shipped entry with its program replaced by ``command`` in Exec (its field codes kept) and TryExec."""
    lines = []
    for line in template.splitlines():
        key, _, value = line.partition("=")
        if key == "Exec":
            codes = [part for part in value.split()[1:] if part.startswith("%")]
            line = "Exec=" + " ".join([*(exec_argument(a) for a in command), *codes])
        elif key == "TryExec":
            line = "TryExec=" + command[0].replace("\\", "\\\\")
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(paths: DesktopPaths | None = None, command: list[str] | None = None) -> list[str]:
    """Write the entry, the icon and the MIME type for the current user; lines saying what was done.
    A previous install's files are replaced (and its manifest's folders kept)."""
    check_supported()
    paths = paths or user_paths()
    resources = bundled_path("resources")
    entry = render_entry((resources / f"{APP_ID}.desktop").read_text(encoding="utf-8"), command or launch_command())
    contents = {paths.entry: entry.encode(), paths.icon: (resources / "icons" / f"{APP_ID}.svg").read_bytes(),
                paths.mime: (resources / f"{APP_ID}-mime.xml").read_bytes()}
    created = _read_manifest(paths).get("folders", [])
    for target in [*contents, paths.manifest]:
        created += [str(folder) for folder in _make_parents(target)]
    for target, data in contents.items():
        atomic_write_bytes(target, data)
    manifest = {"files": {str(t): hashlib.sha256(d).hexdigest() for t, d in contents.items()},
                "folders": list(dict.fromkeys(created))}
    atomic_write_text(paths.manifest, json.dumps(manifest, indent=2) + "\n")
    lines = [f"Wrote {target}" for target in contents]
    return lines + _update_databases(paths)


def uninstall(paths: DesktopPaths | None = None) -> list[str]:
    """Remove what ``install`` wrote (files unchanged since, then the folders it made, when empty)."""
    check_supported()
    paths = paths or user_paths()
    manifest = _read_manifest(paths)
    if not manifest:
        return [f"Nothing to remove: segview's desktop entry is not installed for this user ({paths.manifest} is missing)."]
    lines = []
    for name, digest in manifest.get("files", {}).items():
        target = Path(name)
        try:
            if hashlib.sha256(target.read_bytes()).hexdigest() != digest:
                lines.append(f"Left {target}: it changed after segview wrote it; remove it yourself if you wish.")
                continue
            target.unlink()
            lines.append(f"Removed {target}")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DesktopError(f"Cannot remove {target}: {exc.strerror or exc}. Check its permissions and run "
                               "`segview desktop uninstall` again.") from exc
    paths.manifest.unlink()
    _drop_generated(paths, set(manifest.get("folders", [])))
    for folder in sorted(manifest.get("folders", []), key=lambda f: -len(Path(f).parts)):
        try:
            Path(folder).rmdir()  # only when empty: something else put there stays
        except OSError:
            pass
    return lines + _update_databases(paths)


def _drop_generated(paths: DesktopPaths, created: set[str]) -> None:
    """Remove the caches the update tools generated in folders ``install`` created, once nothing of
    anyone else's is left there: ``applications/mimeinfo.cache``, and the whole MIME database when
    ``mime/packages`` holds no other package."""
    applications, mime = paths.entry.parent, paths.mime.parent.parent
    if str(applications) in created and applications.is_dir():
        if {p.name for p in applications.iterdir()} <= {"mimeinfo.cache"}:
            (applications / "mimeinfo.cache").unlink(missing_ok=True)
    if str(mime) in created and mime.is_dir() and not any(paths.mime.parent.glob("*")):
        shutil.rmtree(mime)


def _read_manifest(paths: DesktopPaths) -> dict:
    try:
        return json.loads(paths.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DesktopError(f"Cannot read {paths.manifest} ({exc}): remove segview's desktop files by hand "
                           f"({paths.entry}, {paths.icon}, {paths.mime}) and that file.") from exc


def _make_parents(target: Path) -> list[Path]:
    """Create ``target``'s missing parent folders; those created, outermost first."""
    missing = [p for p in reversed(target.parents) if not p.exists()]
    for folder in missing:
        try:
            folder.mkdir()
        except OSError as exc:
            raise DesktopError(f"Cannot create {folder}: {exc.strerror or exc}. Check the permissions of "
                               f"its parent, or set XDG_DATA_HOME to a folder you can write.") from exc
    return missing


def _update_databases(paths: DesktopPaths) -> list[str]:
    """Run update-desktop-database and update-mime-database on the user's folders, when installed."""
    lines = []
    for tool, folder in (("update-desktop-database", paths.entry.parent), ("update-mime-database", paths.mime.parent.parent)):
        program = shutil.which(tool)
        if program is None or not folder.is_dir():
            continue
        done = subprocess.run([program, str(folder)], capture_output=True, text=True, check=False)
        problem = (done.stderr.strip().splitlines() or [""])[-1]
        lines.append(f"Ran {tool} {folder}" + (f" (it failed: {problem})" if done.returncode else ""))
    return lines
