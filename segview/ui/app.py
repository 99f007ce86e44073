"""Starting the GUI: the window appears first, torch loads later on the inference thread."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
DEMO_IMAGES = RESOURCES / "demo"
DEMO_MODEL = "demo_panoptic"


def available_models() -> list[tuple[str, str]]:
    """(name, title) of every model card; an unreadable user card is skipped, not fatal."""
    from segview.errors import SegviewError
    from segview.inference.cards import list_cards

    try:
        return [(c.name, c.title) for c in list_cards()]
    except SegviewError:
        return []


def run(path: str | None = None, device: str = "auto", model: str | None = None) -> int:
    """Open the main window on ``path`` (default: the bundled demo images) and run the event loop."""
    from segview.ui.main_window import MainWindow
    from segview.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("segview")
    app.setOrganizationName("segview")
    app.setWindowIcon(QIcon(str(RESOURCES / "icons" / "segview.svg")))
    settings = QSettings("segview", "segview")
    apply_theme(app, str(settings.value("theme", "system")))
    window = MainWindow(settings, device=device)
    window.show()
    models = available_models()
    names = [n for n, _ in models]
    chosen = model or str(settings.value("model", DEMO_MODEL))
    chosen = chosen if chosen in names else (DEMO_MODEL if DEMO_MODEL in names else None)
    window.model_panel.set_models(models, chosen)

    def start() -> None:
        window.open_path(path or DEMO_IMAGES)
        if chosen is not None:
            window.set_model(chosen)

    QTimer.singleShot(0, start)
    code = app.exec()
    window.bridge.shutdown()  # the window is gone: the model's running request may finish now
    return code
