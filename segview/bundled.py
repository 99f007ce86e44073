"""Where the files segview ships beside its code are: the model cards and demo weights (``models/``) and
the icons, demo images and desktop entry (``resources/``).

The repository keeps them at its top level. A wheel, an sdist's build and the frozen app carry them as
package data, in ``segview/_data/models`` and ``segview/_data/resources`` (``setup.py`` maps them there
at build time; nothing is copied into the source tree). A source checkout (``pip install -e .``) has no
``_data``: there the top-level folders beside the package are used.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

Shipped = Literal["models", "resources"]
DATA_PACKAGE_DIR = "_data"


def bundled_path(name: Shipped) -> Path:
    """The folder ``models`` or ``resources`` of this installation, as a real directory."""
    installed = _package_data(name)
    return installed if installed is not None else Path(__file__).resolve().parent.parent / name


def is_installed() -> bool:
    """Whether the shipped files are package data (a wheel, the frozen app), not a checkout's folders."""
    return _package_data("resources") is not None


def _package_data(name: Shipped) -> Path | None:
    installed = files("segview").joinpath(DATA_PACKAGE_DIR, name)
    return installed if isinstance(installed, Path) and installed.is_dir() else None
