"""What the screenshot scripts of docs/ share: waiting in the event loop, and saving what the screen shows."""

from __future__ import annotations

from pathlib import Path


def wait_until(condition, seconds: float) -> None:
    """Run the event loop until ``condition()`` holds or ``seconds`` pass (``lambda: False``: just wait)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, timer = QEventLoop(), QTimer()
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start(50)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    timer.stop()


def save_grab(widget, path: Path) -> None:
    """Save the screen's pixels of ``widget``'s window (what a user sees, window manager aside) as ``path``."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    pixmap = widget.screen().grabWindow(widget.winId())
    pixmap.save(str(path))
    print(f"wrote {path} ({pixmap.width()}×{pixmap.height()})")
