"""Job kinds the model process runs besides predictions: prompt models, training, anything long.

A *job handler* is registered under a kind in ``segview.inference.model_server.JOB_HANDLERS`` and called
in the model process, on its worker thread, as ``handler(context)`` for each request whose key is
``(kind, subject)``. It either returns the request's result at once (a short job: a prompt's masks), or
returns a :class:`SlicedJob` for a long one (training). The server then calls ``job.step(SLICE_SECONDS)``
once per turn: after each step it sends the job's ``events()`` to the parent (``("job_event", key, name,
payload)`` at the listener) and, unless the step said it is done, queues the job again at its own priority,
so that anything more urgent submitted meanwhile (the image on screen, a prompt) runs before its next
step. Cancelling the key (or a new generation, or a newer submit for the same key) drops the job between
two steps. When ``step`` returns True, ``result()`` is the request's result. Results and event payloads
cross a pipe: keep them picklable and small (arrays through ``segview.inference.shared_arrays``).

If the model process dies, the parent submits the request again and the handler starts the job afresh
from its payload (a job that can resume says so in its payload, e.g. a checkpoint to start from).

Usage (in model_server.py; import the job's module inside the handler so the child starts fast)::

    def _train(context: JobContext) -> SlicedJob:
        from segview.train.job import TrainingJob
        return TrainingJob(**context.payload)

    JOB_HANDLERS["train"] = _train
    # parent: process.submit(("train", run_id), {...}, Priority.TRAINING)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

SLICE_SECONDS = 0.5  # the longest a sliced job holds the model process before more urgent work may run
LASTING_KINDS = frozenset({"train"})
"""Job kinds a new generation does not drop: a training run goes on while the window switches models, opens
another folder or cancels a batch (each a new generation); only a cancel of its key stops it."""


def lasting(key: Hashable) -> bool:
    """Whether a request of this key outlives new generations (its kind is in LASTING_KINDS)."""
    return isinstance(key, tuple) and bool(key) and key[0] in LASTING_KINDS


@runtime_checkable
class SlicedJob(Protocol):
    """A long job run a bounded step at a time."""

    def step(self, budget_s: float) -> bool:
        """Work for about ``budget_s`` seconds (never much longer); True once the job is done."""

    def events(self) -> list[tuple[str, Any]]:
        """The ``(name, payload)`` events since the last call (progress, metrics, a checkpoint written)."""

    def result(self) -> Any:
        """The request's result, asked once ``step`` has returned True."""


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the request's key and payload, the image sent with it (or None), and whether
    the request is stale already (cancelled, replaced, an older generation): a handler that runs long in one
    go polls it to stop early."""

    key: Hashable
    payload: Any
    image: np.ndarray | None
    is_stale: Callable[[], bool]


JobHandler = Callable[[JobContext], Any]


@dataclass
class CountingJob:
    """A debug job for tests and benchmarks: ``units`` units of ``unit_s`` seconds of work each (a sleep, as
    a GIL-releasing kernel would), one ``("progress", done)`` event per step."""

    units: int
    unit_s: float = 0.01
    done: int = 0
    _events: list[tuple[str, Any]] = field(default_factory=list)

    def step(self, budget_s: float) -> bool:
        end = time.monotonic() + budget_s
        while self.done < self.units and time.monotonic() < end:
            time.sleep(self.unit_s)
            self.done += 1
        self._events.append(("progress", self.done))
        return self.done >= self.units

    def events(self) -> list[tuple[str, Any]]:
        events, self._events = self._events, []
        return events

    def result(self) -> int:
        return self.done


def counting_job(context: JobContext) -> CountingJob:
    """Handler of the ``"debug_slices"`` kind: payload ``(units, unit_s)``."""
    units, unit_s = context.payload
    return CountingJob(int(units), float(unit_s))
