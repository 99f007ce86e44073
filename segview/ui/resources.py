"""Paths of the files segview ships beside the package (``resources/``): icons and the demo images.

A module of its own, below everything else in the ui, so that any part can find an icon without
importing the application that starts the window."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
ICONS = RESOURCES / "icons"
TOOL_ICONS = ICONS / "tools"
DEMO_IMAGES = RESOURCES / "demo"
