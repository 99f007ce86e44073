"""Build hook: the top-level ``models/`` and ``resources/`` become package data in ``segview/_data/``.

They stay where the repository keeps them (one source of truth); each build copies them into its build
folder, so the wheel (and an sdist's wheel) carries them and segview.bundled finds them through
importlib.resources. An editable install copies nothing: segview.bundled reads the checkout's folders.
Everything else about the package is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("models", "resources")  # segview.bundled.Shipped
TARGET = Path("segview", "_data")  # segview.bundled.DATA_PACKAGE_DIR


def shipped_files(folder: str) -> list[Path]:
    """Every file under ``folder``, relative to the root, leaving out hidden ones (a ``.segview``
    project the demo folder gets when it is opened from the checkout) and caches."""
    found = []
    for path in sorted((ROOT / folder).rglob("*")):
        parts = path.relative_to(ROOT).parts
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts):
            found.append(path.relative_to(ROOT))
    return found


class BuildPyWithData(build_py):
    """build_py that also copies ``models/`` and ``resources/`` into ``segview/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder in SHIPPED:
            files = shipped_files(folder)
            if not files:
                raise SystemExit(f"setup.py: {folder}/ is missing or empty: build from a checkout or an sdist")
            for relative in files:
                target = Path(self.build_lib) / TARGET / relative
                self.mkpath(str(target.parent))
                self.copy_file(str(ROOT / relative), str(target))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / TARGET / f) for folder in SHIPPED for f in shipped_files(folder)]


setup(cmdclass={"build_py": BuildPyWithData})
