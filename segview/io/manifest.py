"""The manifest a segview export writes into its folder: the files it wrote, so that later exports replace
only those, and openers know them for segview's own files (see :mod:`segview.io.export`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

EXPORT_MANIFEST = ".segview-export.json"
"""The file list segview's export writes into its folder."""


def read_export_manifest(folder: str | os.PathLike) -> dict | None:
    """The manifest of a segview export in ``folder`` (:data:`EXPORT_MANIFEST`), or None when there is
    none or it is not one (unreadable, not JSON, not written by segview)."""
    try:
        with open(Path(folder) / EXPORT_MANIFEST, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("written_by") != "segview export":
        return None
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict) or not all(
        isinstance(files, list) and all(isinstance(f, str) for f in files) for files in outputs.values()
    ):
        return None
    return manifest


def manifest_job(folder: str | os.PathLike) -> dict | None:
    """What made the files of the export in ``folder`` (a ``segview predict`` run's fingerprint), or None."""
    job = (read_export_manifest(folder) or {}).get("job")
    return job if isinstance(job, dict) else None


def manifest_files(manifest: dict | None) -> set[str]:
    """Every file (path relative to the export folder, with ``/``) a manifest says segview wrote."""
    if manifest is None:
        return set()
    return {name for files in manifest["outputs"].values() for name in files}
