"""The parent's side of the model process: one spawned child owns torch, the models and the device.

:class:`ModelProcess` offers what the in-process worker offered (submit with a priority, generations,
cancel, downloads and installs of weights, shutdown) but runs it in a child (``multiprocessing``, spawn
context; see ``segview.inference.model_server``), so that the GUI process never imports torch and its
event loop is never held by the model's Python work (the GIL). Requests and events are small messages on a
Pipe; images and predictions cross through shared memory (``segview.inference.shared_arrays``).

Events go to ``listener(kind, *args)`` on the parent's reader thread (a GUI marshals them to its main
thread):

- ``("state", "starting" | "idle" | "loading", detail)``: the child was spawned / has torch / loads a model
- ``("model_loaded", name, device)``, ``("model_failed", name, message)``,
  ``("needs_download", name, message, missing)``, ``("progress", done, total)``
- ``("result", key, generation, value)`` and ``("error", key, generation, message)`` for each request
  of the current generation (a predict's value is ``(Prediction, CategorySet)``; a job's ``SharedResult`` arrives
  as ``(meta, arrays)``)
- ``("job_event", key, name, payload)``: an event of a live job of a registered kind (training's progress:
  ``segview.inference.jobs``; submit such jobs with ``Priority.TRAINING`` when they are long)
- ``("died", message, restarting)``: the child died (kill -9, segfault, CUDA error, the OOM killer).
  It is restarted and every request not answered yet is queued again, until ``MAX_FAILURES`` deaths
  within ``FAILURE_WINDOW`` seconds: then it stays down and those requests fail with the message.

The child gets the parent's environment (SEGVIEW_DATA_DIR, SEGVIEW_CACHE_DIR, ...) as it was at spawn;
:meth:`ModelProcess.set_env` updates it later (a process taken over by a new window in tests). No Qt, no
torch in this module.
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segview.inference.jobs import lasting
from segview.inference.worker import Priority

if TYPE_CHECKING:  # numpy and the shared arrays are imported with the first request: the window spawns the
    import numpy as np  # child before it imports numpy, so that torch's import in it starts at once

MAX_FAILURES = 3  # deaths within FAILURE_WINDOW seconds after which the process is not restarted
FAILURE_WINDOW = 60.0
SERVER_MODULE = "segview.inference.model_server"  # imported by name: the parent never imports it

Listener = Callable[..., None]


@dataclass
class Pending:
    """A request sent to the child and not answered yet (queued again if the child dies)."""

    key: Hashable
    payload: Any
    priority: Priority
    generation: int
    serial: int
    image: np.ndarray | None = None


def _child(conn, parent_pid: int) -> None:
    """The spawned child's target: runs the server (imported here, by name, never in the parent)."""
    importlib.import_module(SERVER_MODULE).serve(conn, parent_pid)


def describe_exit(code: int | None) -> str:
    """Why a child ended, in words, from its exit code (negative: the signal that ended it)."""
    if code is None:
        return "stopped answering"
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        why = {signal.SIGKILL: "killed (SIGKILL: the system's out-of-memory killer, or kill -9)",
               signal.SIGSEGV: "crashed (segmentation fault in native code)",
               signal.SIGABRT: "aborted (SIGABRT: a native library gave up, e.g. a CUDA error)",
               signal.SIGBUS: "crashed (bus error)"}.get(number, f"ended by {name}")
        return why
    return f"exited with status {code}"


class ModelProcess:
    """Runs model requests in a child process, most urgent first; restarts the child when it dies."""

    def __init__(self, listener: Listener | None = None, *, start: bool = True) -> None:
        self._listener = listener
        self._lock = threading.Condition()
        self._serials = itertools.count(1)
        self._generation = 0
        self._pending: dict[Hashable, Pending] = {}
        self._running: tuple[Hashable, int] | None = None
        self._failures: list[float] = []
        self._stopping = False
        self._gave_up: str | None = None
        self._conn = None
        self._process = None
        self._env: dict[str, str] = {}
        self.state = "stopped"
        self.restarts = 0
        if start:
            self.start()

    # --- the child -------------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the child (returns at once: torch's import and the model load happen in it)."""
        with self._lock:
            if self._stopping:
                return
        context = multiprocessing.get_context("spawn")
        parent_conn, child_conn = context.Pipe(duplex=True)
        process = context.Process(target=_child, args=(child_conn, os.getpid()), name="segview-model",
                                  daemon=True)
        process.start()
        child_conn.close()  # the child's end lives in the child only: its death is our pipe's end
        with self._lock:
            stopped = self._stopping  # shut down while it was spawned (a restart racing a shutdown)
            if not stopped:
                self._conn, self._process = parent_conn, process
                self._running = None
                self.state = "starting"
        if stopped:
            process.kill()
            process.join(5)
            parent_conn.close()
            return
        if self._env:
            self._send("env", self._env)
        threading.Thread(target=self._read, args=(parent_conn, process), name="segview-model-reader",
                         daemon=True).start()
        self._emit("state", "starting", "")

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    @property
    def alive(self) -> bool:
        process = self._process
        return process is not None and not _ended(process)

    def set_listener(self, listener: Listener | None) -> None:
        self._listener = listener

    def set_env(self, env: dict[str, str]) -> None:
        """Environment variables for the child (now and after a restart)."""
        self._env.update(env)
        self._send("env", dict(env))

    def reset(self) -> None:
        """Forget everything asked so far, the loaded model and failed loads too (a model chosen again, a
        new window taking this process over); starts a process that was given up on."""
        self.retry()
        self.new_generation()
        self._send("reset")

    # --- requests --------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, key: Hashable, payload: Any, priority: Priority = Priority.VISIBLE,
               image: np.ndarray | None = None) -> Pending:
        """Queue a request (``key`` is ``(kind, subject)``: predict, load, download, install, or a kind in
        ``model_server.JOB_HANDLERS``); a newer submit for the same key replaces the queued one. ``image``
        (an RGB array) goes to the child through shared memory; without it a predict reads its path in
        the child."""
        with self._lock:
            if self._stopping:
                raise RuntimeError("the model process is shut down")
            pending = Pending(key, payload, Priority(priority), self._generation, next(self._serials), image)
            self._pending[key] = pending
            gave_up = self._gave_up
        if gave_up is not None:  # the child is down for good: answered at once
            self._answer(pending, "error", gave_up)
        else:
            self._send_request(pending)
        return pending

    def new_generation(self) -> int:
        """Make every queued and running request stale, but a training run's (``jobs.LASTING_KINDS``: only
        ``cancel`` stops it); returns the new generation number."""
        with self._lock:
            self._generation += 1
            self._pending = {key: p for key, p in self._pending.items() if lasting(key)}
            self._lock.notify_all()
        self._send("new_generation")
        return self._generation

    def cancel(self, key: Hashable) -> None:
        """Forget the request for ``key`` (a running one finishes in the child but is not delivered)."""
        with self._lock:
            self._pending.pop(key, None)
            self._lock.notify_all()
        self._send("cancel", key)

    def cancel_download(self) -> None:
        self._send("cancel_download")

    def pending(self) -> int:
        """Requests not answered yet, the running one excluded."""
        with self._lock:
            running = self._running[0] if self._running is not None else None
            return sum(1 for key in self._pending if key != running)

    def running_kind(self) -> str | None:
        """The kind of the request the child is running (``"download"``, ``"predict"``, ...), or None."""
        with self._lock:
            if self._running is None or self._running[0] not in self._pending:
                return None
            return self._running[0][0]

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every request is answered (tests, batch jobs)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._pending, timeout)

    def wait_running(self, key: Hashable, timeout: float | None = None) -> bool:
        """Block until the child runs the request for ``key`` (tests)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._running is not None and self._running[0] == key, timeout)

    def wait_state(self, state: str, timeout: float | None = None) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self.state == state, timeout)

    def shutdown(self, wait: bool = True, timeout: float = 30.0) -> None:
        """Stop the child: at once, unless it is writing weights (a download or install stops at its cancel
        and removes its partial file first). ``wait`` joins it (then kills it after ``timeout``)."""
        with self._lock:
            self._stopping = True
            self._pending.clear()
            self._lock.notify_all()
            process = self._process
        self._send("shutdown")
        if wait and process is not None and not _ended(process, timeout):
            process.kill()
            _ended(process, 5)
        # the pipe is closed by its reader thread when it ends (one owner: a second close could close a
        # file descriptor number already reused)

    # --- internals -------------------------------------------------------------------------------

    def _send(self, *message: Any) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            with self._lock:
                conn.send(message)
        except (OSError, ValueError):
            pass  # the child is gone: the reader thread restarts it and sends what is pending again

    def _send_request(self, pending: Pending) -> None:
        from segview.inference.shared_arrays import discard, pack_arrays

        packed = pack_arrays([pending.image]) if pending.image is not None else None
        try:
            conn = self._conn
            if conn is None:
                raise OSError
            with self._lock:
                conn.send(("submit", pending.key, pending.serial, pending.payload, int(pending.priority), packed))
        except (OSError, ValueError):
            if packed is not None:
                discard(packed)

    def _emit(self, kind: str, *args: Any) -> None:
        listener = self._listener
        if listener is not None:
            listener(kind, *args)

    def _answer(self, pending: Pending, kind: str, value: Any) -> None:
        with self._lock:
            if self._pending.get(pending.key) is pending:
                del self._pending[pending.key]
            self._lock.notify_all()
        self._emit(kind, pending.key, pending.generation, value)

    def _read(self, conn, process) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            try:
                self._dispatch(message)
            except Exception as exc:  # noqa: BLE001 - a listener's bug must not stop the reader
                import traceback

                traceback.print_exception(exc)
        self._died(conn, process)

    def _dispatch(self, message: tuple) -> None:
        kind, *args = message
        if kind in ("result", "error"):
            from segview.inference.shared_arrays import (
                SharedResult,
                discard,
                unpack_arrays,
                unpack_prediction,
            )

            key, serial, value = args
            with self._lock:
                pending = self._pending.get(key)
                live = pending is not None and pending.serial == serial
                if self._running == (key, serial):
                    self._running = None
            if kind == "result" and isinstance(value, tuple) and len(value) == 3 and key[0] == "predict":
                meta, packed, categories = value
                if not live:
                    discard(packed)
                    return
                value = (unpack_prediction(meta, packed), categories)
            elif kind == "result" and isinstance(value, SharedResult):  # a job's arrays (prompt masks)
                if not live:
                    discard(value.packed)
                    return
                value = (value.meta, unpack_arrays(value.packed))
            if live:
                self._answer(pending, kind, value)
        elif kind == "job_event":  # a registered job's progress (segview.inference.jobs), while it is live
            key, serial, name, payload = args
            with self._lock:
                pending = self._pending.get(key)
                live = pending is not None and pending.serial == serial
            if live:
                self._emit("job_event", key, name, payload)
        elif kind == "started":
            with self._lock:
                self._running = (args[0], args[1])
                self._lock.notify_all()
        elif kind == "state":
            with self._lock:
                self.state = args[0]
                self._lock.notify_all()
            self._emit("state", *args)
        else:
            self._emit(kind, *args)

    def _died(self, conn, process) -> None:
        process.join(5)
        code = process.exitcode
        conn.close()
        with self._lock:
            if self._stopping or process is not self._process:
                return
            now = time.monotonic()
            self._failures = [t for t in self._failures if now - t < FAILURE_WINDOW] + [now]
            running = self._running
            self._running = None
            self._conn = None
            self.state = "stopped"
            give_up = len(self._failures) >= MAX_FAILURES
            what = describe_exit(code)
            doing = ""
            if running is not None and running[0] in self._pending:
                doing = f" while running {running[0][0]} of {getattr(running[0][1], 'name', running[0][1])}"
            message = f"The model process {what}{doing}."
            if give_up:
                message += (f" It failed {len(self._failures)} times within a minute, so it is not restarted: "
                            "choose the model again to retry.")
                self._gave_up = message
            else:
                message += " It was restarted."
            self._lock.notify_all()
        self._emit("died", message, not give_up)
        if give_up:
            with self._lock:
                queued = list(self._pending.values())
            for pending in queued:
                self._answer(pending, "error", message)
            return
        self.restarts += 1
        self.start()
        with self._lock:  # what was asked before and while it restarted: the same request twice is harmless
            queued = sorted(self._pending.values(), key=lambda p: (int(p.priority), p.serial))
        for pending in queued:
            self._send_request(pending)

    def retry(self) -> None:
        """Start again after giving up (the user chose a model again)."""
        with self._lock:
            if self._gave_up is None or self._stopping:
                return
            self._gave_up = None
            self._failures.clear()
        self.start()


def _ended(process: multiprocessing.process.BaseProcess, timeout: float = 0.0) -> bool:
    """Whether ``process`` has ended, waiting up to ``timeout`` s, read from its sentinel, which does not reap
    it: its reader thread reaps it (``join``). Two threads reaping one child race, and the one that loses
    (``waitpid`` fails with ECHILD) takes it for alive: a shutdown then reported a dead child as running."""
    return bool(multiprocessing.connection.wait([process.sentinel], timeout))
