"""Heavy work off the GUI thread: one worker thread per kind of job, the newest job's result marshalled
back to the GUI thread by a signal (as napari's slicer does: jobs superseded before they start are
skipped, results of superseded jobs are dropped by the receiver through ``is_current``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal


class BackgroundJobs(QObject):
    """Runs jobs one at a time on a worker thread; ``finished(ticket, result, error)`` arrives on the
    thread this object lives in (the GUI thread). ``error`` is the exception the job raised, or None."""

    finished = Signal(int, object, object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.ticket = 0

    def submit(self, job: Callable[..., Any], *args: Any) -> int:
        """Queue ``job(*args)``; returns its ticket. A newer submit makes this one stale: if it has not
        started yet, it never runs."""
        self.ticket += 1
        ticket = self.ticket

        def run() -> None:
            if ticket != self.ticket:
                return
            try:
                result, error = job(*args), None
            except Exception as exc:  # noqa: BLE001 - handed to the receiver, which decides
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                self.finished.emit(ticket, result, error)

        self._pool.submit(run)
        return ticket

    def is_current(self, ticket: int) -> bool:
        """Whether ``ticket`` is the newest job (its result is still wanted)."""
        return ticket == self.ticket

    def cancel(self) -> None:
        """Make every queued or running job stale."""
        self.ticket += 1
