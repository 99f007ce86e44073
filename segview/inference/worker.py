"""A Qt-free background executor: one long-lived thread that owns the model and the device.

Requests carry a priority (a prompt, the image on screen, its neighbours, a batch, training last) and a
generation number; bumping the generation (e.g. the user picked another model) makes every older
request stale: it is dropped when it reaches the front, and a result computed for it is not delivered.
Callbacks run on the worker thread; a GUI marshals them to its main thread (the Qt bridge uses signals).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    INTERACTIVE = -1  # a prompt the user is waiting on (and the model process's start-up)
    VISIBLE = 0
    NEIGHBOUR = 1
    BATCH = 2
    TRAINING = 3  # long jobs run in slices (segview.inference.jobs): anything else goes first


@dataclass(frozen=True)
class Request:
    """An immutable snapshot of one job: what (key, payload), how urgent, and for which generation."""

    key: Hashable
    payload: Any
    priority: Priority
    generation: int
    serial: int


Handler = Callable[[Request], Any]
ResultCallback = Callable[[Request, Any], None]
ErrorCallback = Callable[[Request, BaseException], None]


class InferenceWorker:
    """Runs ``handler(request)`` on one background thread, most urgent request first."""

    def __init__(
        self,
        handler: Handler,
        on_result: ResultCallback,
        on_error: ErrorCallback,
        name: str = "segview-inference",
    ) -> None:
        self._handler = handler
        self._on_result = on_result
        self._on_error = on_error
        self._lock = threading.Condition()
        self._heap: list[tuple[int, int, Request]] = []
        self._latest: dict[Hashable, Request] = {}
        self._serials = itertools.count()
        self._generation = 0
        self._running: Request | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, key: Hashable, payload: Any, priority: Priority = Priority.VISIBLE) -> Request:
        """Queue a job; a newer submit for the same key replaces the queued one (its priority too)."""
        with self._lock:
            if self._stopping:
                raise RuntimeError("the inference worker is shut down")
            request = Request(key, payload, Priority(priority), self._generation, next(self._serials))
            self._latest[key] = request
            heapq.heappush(self._heap, (int(request.priority), request.serial, request))
            self._lock.notify()
            return request

    def requeue(self, request: Request, payload: Any) -> Request | None:
        """Queue ``request``'s next slice (same key, priority and generation, a new ``payload``) unless it
        is stale; atomic, so a cancel never slips between the check and the queueing. Returns the new
        request, or None when it was stale."""
        with self._lock:
            if self._stopping or self._latest.get(request.key) is not request:
                return None
            follow = Request(request.key, payload, request.priority, request.generation, next(self._serials))
            self._latest[request.key] = follow
            heapq.heappush(self._heap, (int(follow.priority), follow.serial, follow))
            self._lock.notify()
            return follow

    def new_generation(self, keep: Callable[[Hashable], bool] | None = None) -> int:
        """Make every queued and running request stale, but those whose key ``keep`` accepts (they go on);
        returns the new generation number."""
        with self._lock:
            self._generation += 1
            self._latest = {k: r for k, r in self._latest.items() if keep is not None and keep(k)}
            self._heap = [item for item in self._heap if self._latest.get(item[2].key) is item[2]]
            heapq.heapify(self._heap)
            return self._generation

    def cancel(self, key: Hashable) -> None:
        """Forget the queued request for ``key`` (a running one finishes but is not delivered)."""
        with self._lock:
            self._latest.pop(key, None)

    def is_stale(self, request: Request) -> bool:
        """True when a request was replaced, cancelled or belongs to an older generation.

        Long handlers can call this between stages to stop early.
        """
        with self._lock:
            return self._stopping or self._latest.get(request.key) is not request

    def pending(self) -> int:
        """Number of live queued requests (the running one excluded)."""
        with self._lock:
            return sum(1 for _, _, r in self._heap if self._latest.get(r.key) is r and r is not self._running)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running (for batch jobs and tests)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._running is None and not self._live_queued(), timeout)

    def shutdown(self, wait: bool = True, timeout: float | None = 10.0) -> None:
        """Drop queued work and stop the thread after the running request."""
        with self._lock:
            self._stopping = True
            self._heap.clear()
            self._latest.clear()
            self._lock.notify_all()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _live_queued(self) -> bool:
        return any(self._latest.get(r.key) is r for _, _, r in self._heap)

    def _next(self) -> Request | None:
        with self._lock:
            while True:
                while self._heap:
                    _, _, request = heapq.heappop(self._heap)
                    if self._latest.get(request.key) is request:
                        self._running = request
                        return request
                self._lock.notify_all()  # idle
                if self._stopping:
                    return None
                self._lock.wait()

    def _loop(self) -> None:
        while (request := self._next()) is not None:
            try:
                callback, value = self._on_result, self._handler(request)
            except BaseException as exc:  # noqa: BLE001 - every failure goes to the error callback
                callback, value = self._on_error, exc
            try:
                if not self.is_stale(request):
                    callback(request, value)
            finally:
                self._finish(request)

    def _finish(self, request: Request) -> None:
        with self._lock:
            if self._latest.get(request.key) is request:
                del self._latest[request.key]
            self._running = None
            self._lock.notify_all()
