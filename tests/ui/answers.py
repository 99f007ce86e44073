"""Answering segview's own question boxes in GUI tests: QMessageBox.exec clicks a named button."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox


def answer(monkeypatch, *texts: str) -> list[str]:
    """Make each QMessageBox.exec click the button with the next of ``texts`` (through the box's own
    button handling, so clickedButton() is set); returns the titles of the boxes asked, in order."""
    asked: list[str] = []
    queue = list(texts)

    def click(box: QMessageBox) -> int:
        asked.append(box.windowTitle())
        text = queue.pop(0)
        button = next(b for b in box.buttons() if b.text() == text)
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", click)
    return asked
