"""Paths of the files segview ships with the package (``resources/``): icons and the demo images.

A module of its own, below everything else in the ui, so that any part can find an icon without
importing the application that starts the window. Where ``resources/`` is: segview.bundled."""

from __future__ import annotations

from segview.bundled import bundled_path

RESOURCES = bundled_path("resources")
ICONS = RESOURCES / "icons"
TOOL_ICONS = ICONS / "tools"
DEMO_IMAGES = RESOURCES / "demo"
