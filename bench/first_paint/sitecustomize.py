"""A probe for bench/ui.py's cold starts, put on PYTHONPATH so that Python imports it at start-up.

When the app imports its Qt binding's widgets (PySide6 or PyQt5, whichever it uses), the module's
QApplication is replaced by a subclass that watches for the first paint of any widget; once that paint is
over (the next turn of the event loop), it writes ``time.monotonic()`` (shared by every process) and the
process's CPU time so far (``time.process_time()``, which other processes on the machine do not inflate) to
the file named by ``SEGVIEW_BENCH_PAINTED`` and ends the process at once (quitting is not what is timed), or
lets it go on when ``SEGVIEW_BENCH_EXIT`` is 0. Nothing is imported ahead of the app, so the app pays for
its imports as it would.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import time

BINDINGS = ("PySide6.QtWidgets", "PyQt5.QtWidgets")
PAINT = 12  # QEvent::Paint


def _painted() -> None:
    with open(os.environ["SEGVIEW_BENCH_PAINTED"], "w") as out:
        out.write(f"{time.monotonic()!r} {time.process_time()!r}")
    if os.environ.get("SEGVIEW_BENCH_EXIT", "1") != "0":
        os._exit(0)


def _patch(widgets) -> None:
    core = sys.modules[widgets.__name__.split(".")[0] + ".QtCore"]

    class FirstPaint(core.QObject):
        seen = False

        def eventFilter(self, _obj, event):  # noqa: N802 - Qt API
            if not self.seen and int(event.type()) == PAINT:
                self.seen = True
                core.QTimer.singleShot(0, _painted)
            return False

    class Application(widgets.QApplication):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._first_paint = FirstPaint()
            self.installEventFilter(self._first_paint)

    widgets.QApplication = Application


class _Loader:  # a loader that patches the module once it is executed (no importlib.abc: it costs 15 ms)
    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        _patch(module)


class _Finder:
    def find_spec(self, name, path, target=None):
        if name not in BINDINGS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None:
            spec.loader = _Loader(spec.loader)
        return spec


if os.environ.get("SEGVIEW_BENCH_PAINTED"):
    sys.meta_path.insert(0, _Finder())
