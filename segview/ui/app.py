"""Starting the GUI: the model process is spawned first (torch's import in it overlaps all that follows),
then the window's frame is painted, before the modules of the rest are imported; right after that paint the
rest of the window is built, the models are listed and the folder opens."""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from segview.ui.resources import ICONS, demo_folder

DEMO_MODEL = "demo_panoptic"
# Set to 1, `segview` quits once the first image's prediction is shown (or the model failed), printing one
# line that says what opened: the smoke test of an installed or frozen segview (tests/packaging,
# packaging/smoke.sh). Exit status 0 when a prediction was shown, 1 otherwise.
SMOKE_ENV = "SEGVIEW_SMOKE_QUIT"
# The libraries Qt's xcb platform plugin loads (Qt 6.5+; "Qt for X11 Requirements"): the name that
# ctypes.util.find_library looks up, then the package holding it on Debian/Ubuntu and on Fedora/RHEL.
XCB_LIBRARIES = (
    ("xcb-cursor", "libxcb-cursor0", "xcb-util-cursor"),
    ("xcb-icccm", "libxcb-icccm4", "xcb-util-wm"),
    ("xcb-image", "libxcb-image0", "xcb-util-image"),
    ("xcb-keysyms", "libxcb-keysyms1", "xcb-util-keysyms"),
    ("xcb-randr", "libxcb-randr0", "libxcb"),
    ("xcb-render-util", "libxcb-render-util0", "xcb-util-renderutil"),
    ("xcb-shape", "libxcb-shape0", "libxcb"),
    ("xcb-xkb", "libxcb-xkb1", "libxcb"),
    ("xkbcommon-x11", "libxkbcommon-x11-0", "libxkbcommon-x11"),
)


def uses_xcb() -> bool:
    """Whether Qt will start on X11 (xcb): Linux, unless QT_QPA_PLATFORM or a Wayland session says
    otherwise."""
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(";")[0].startswith("xcb")
    return not (os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland")


def missing_platform_library() -> str | None:
    """Qt (6.5 and later) cannot load its xcb plugin without these libraries and then aborts with a
    generic message: say which packages to install instead. None when nothing is missing."""
    if not uses_xcb():
        return None
    missing = [row for row in XCB_LIBRARIES if ctypes.util.find_library(row[0]) is None]
    if not missing:
        return None
    names = ", ".join(f"lib{name}" for name, _apt, _dnf in missing)
    apt = " ".join(dict.fromkeys(row[1] for row in missing))
    dnf = " ".join(dict.fromkeys(row[2] for row in missing))
    return (f"segview: error: the window cannot open: Qt's X11 (xcb) platform needs {names}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install "
            f"{'it' if len(missing) == 1 else 'them'} (Debian/Ubuntu: sudo apt install {apt}; Fedora/RHEL: "
            f"sudo dnf install {dnf}) and start segview again.")


def run(path: str | None = None, device: str = "auto", model: str | None = None, *,
        exit_process: bool = False) -> int:
    """Open the main window on ``path`` (default: the bundled demo images) and run the event loop.
    ``exit_process`` (the ``segview`` command): end the process as soon as the window is closed and its
    project closed cleanly (see ``_leave``), instead of returning."""
    from segview.ui.main_window import MainWindow
    from segview.ui.theme import apply_theme

    if QApplication.instance() is None and (problem := missing_platform_library()) is not None:
        print(problem, file=sys.stderr)
        return 1
    from segview.inference.model_process import ModelProcess

    process = ModelProcess()  # before anything else: the model's wait starts with the window's
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("segview")
    app.setOrganizationName("segview")
    app.setWindowIcon(QIcon(str(ICONS / "segview.svg")))
    settings = QSettings("segview", "segview")
    apply_theme(app, str(settings.value("theme", "system")))
    window = MainWindow(settings, device=device, build=False)  # the frame: painted before the rest is imported
    window.show()

    def start() -> None:
        from segview.ui.model_control import available_models

        window.build(process)
        if os.environ.get(SMOKE_ENV) == "1":
            _quit_after_first_prediction(window)
        models = available_models()
        names = [entry.name for entry in models]
        chosen = model or str(settings.value("model", DEMO_MODEL))
        chosen = chosen if chosen in names else (DEMO_MODEL if DEMO_MODEL in names else None)
        window.model_panel.set_models(models, chosen)
        open_start_path(window, path or demo_folder())
        if chosen is not None:
            window.set_model(chosen)

    after_first_paint(window, start)
    code = app.exec()
    if exit_process:
        _leave(window, settings, code)
    if window.built:
        window.bridge.shutdown()  # the window is gone: the model's running request may finish now
    else:
        process.shutdown()
    return code


class _FirstPaint(QObject):
    """Calls back once, two turns of the event loop after ``window`` (or one of its widgets) was first painted
    (the paint is flushed to the screen, and what was queued with it runs, before the callback holds the
    loop), or after ``fallback_ms`` if it is not painted by then (a window opened minimised)."""

    def __init__(self, window: QWidget, callback: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(window)
        self._window = window
        self._callback: Callable[[], None] | None = callback
        self._painted = False
        QApplication.instance().installEventFilter(self)
        QTimer.singleShot(fallback_ms, self._fire)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if (not self._painted and event.type() == QEvent.Type.Paint and isinstance(obj, QWidget)
                and obj.window() is self._window):
            self._painted = True
            QTimer.singleShot(0, lambda: QTimer.singleShot(0, self._fire))
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            QApplication.instance().removeEventFilter(self)
            callback()


def after_first_paint(window: QWidget, callback: Callable[[], None], fallback_ms: int = 500) -> None:
    """Run ``callback`` as soon as ``window`` has been painted for the first time (at the latest after
    ``fallback_ms``): what the user sees first is not held up by what is built after it."""
    _FirstPaint(window, callback, fallback_ms)


def open_start_path(window, path: str | Path) -> None:
    """Open what segview was started on; an image (the desktop's "Open with segview") opens its folder
    at that image."""
    from segview.io.images import is_image_file

    path = Path(path)
    if not (path.is_file() and is_image_file(path)):
        window.open_path(path)
        return
    window.open_path(path.parent)
    shown = [entry.path.resolve() for entry in window.workspace.entries]
    if path.resolve() in shown:
        window.browser.select(shown.index(path.resolve()))


def _quit_after_first_prediction(window) -> None:
    """The SMOKE_ENV hook: once a prediction has been painted (or the model failed), print what opened
    and close the window as a user would."""
    loaded: list[str] = []
    window.bridge.model_loaded.connect(lambda name, device: loaded.append(f"{name} on {device}"))

    def finish(outcome: str, code: int) -> None:
        if not window.isVisible():  # finished already
            return
        window.repaint()
        icon = "icon" if not QApplication.windowIcon().isNull() else "no icon"
        print(f"segview smoke: {window.windowTitle()}; {len(window.workspace.entries)} images; {icon}; "
              f"model {', '.join(loaded) or 'not loaded'}; {outcome}", flush=True)
        window.close()
        QApplication.exit(code)

    window.bridge.prediction_ready.connect(
        lambda path, *_: QTimer.singleShot(0, lambda: finish(f"prediction shown for {path.name}", 0)))
    window.bridge.model_failed.connect(lambda name, why: finish(f"model {name} failed: {why}", 1))
    window.bridge.failed.connect(lambda path, why: finish(f"prediction failed: {why}", 1))


def _leave(window, settings: QSettings, code: int) -> None:
    """End the process now that the window is closed: quitting took 1.6-5 s after the window had gone,
    waiting for the model's running request (a prediction seconds into an image; up to 30 s) and then for
    the interpreter to tear torch down (0.3 s). Nothing of that is wanted: the project was closed cleanly
    by the window (clean-shutdown flag, WAL checkpointed, lock released: its integrity after such an
    exit is tested) and predictions are not stored by the model thread. The settings are written first; a
    weights download or install is left to stop at its cancel and remove its partial file. Does not
    return when the project is closed; returns (to the ordinary path) when it is not."""
    if window.built:  # (closed while starting: nothing was opened)
        if window.project_link.project is not None:
            return
        window.bridge.shutdown(wait=window.bridge.writing_files())
    settings.sync()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(code)
