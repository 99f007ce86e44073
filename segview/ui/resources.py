"""Paths of the files segview ships with the package (``resources/``): icons and the demo images.

A module of its own, below everything else in the ui, so that any part can find an icon without
importing the application that starts the window. Where ``resources/`` is: segview.bundled."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from segview.bundled import bundled_path, is_installed

RESOURCES = bundled_path("resources")
ICONS = RESOURCES / "icons"
TOOL_ICONS = ICONS / "tools"
DEMO_IMAGES = RESOURCES / "demo"


def demo_folder() -> Path:
    """The demo images the window opens when given nothing. In a checkout, ``resources/demo`` itself.
    Installed, a copy in the user's data folder (``$SEGVIEW_DATA_DIR/demo``), made on first use: opening
    a folder writes its project (``.segview/``) into it, and an installed package's folder is read-only
    or not the place for it. If the copy cannot be made, the package's own folder (opened read-only)."""
    if not is_installed():
        return DEMO_IMAGES
    from segview.inference.cards import user_data_dir

    target = user_data_dir() / "demo"
    if target.is_dir():
        return target
    staging = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".demo.", dir=target.parent))
        shutil.copytree(DEMO_IMAGES, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*"))
        os.replace(staging, target)  # whole or not at all (another window's copy, made meanwhile, stays)
    except OSError:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return target if target.is_dir() else DEMO_IMAGES
