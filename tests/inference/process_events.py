"""A listener for ModelProcess tests: it keeps every event the process reports and lets a test wait."""

from __future__ import annotations

import threading


class ProcessEvents:
    """Callable listener: ``events(kind, *args)`` records an event and wakes the waiting test."""

    def __init__(self):
        self.lock = threading.Condition()
        self.items: list[tuple] = []

    def __call__(self, kind, *args):
        with self.lock:
            self.items.append((kind, *args))
            self.lock.notify_all()

    def of(self, kind):
        with self.lock:
            return [e for e in self.items if e[0] == kind]

    def wait_for(self, predicate, timeout=60.0):
        with self.lock:
            assert self.lock.wait_for(lambda: predicate(self), timeout), self.items

    def clear(self):
        with self.lock:
            self.items.clear()

    def answer(self, key, timeout=120.0):
        """The answer (kind, value) for request ``key``, removed from the list."""
        with self.lock:
            def found():
                return next((i for i in self.items if i[0] in ("result", "error") and i[1] == key), None)
            assert self.lock.wait_for(lambda: found() is not None, timeout), self.items
            item = found()
            self.items.remove(item)
            return item[0], item[3]
