"""Training as a sliced job of the model process (``segview.inference.jobs``): the window's training panel
submits ``("train", NAME)`` with a ``TrainingPlan`` at ``Priority.TRAINING``; each turn runs one slice of
the ``TrainingSession`` (prepare, then about ``SLICE_SECONDS`` of steps at a time, then the evaluation),
so the image on screen, its neighbours and prompts run in between. ``("train_stop", NAME)`` (a short job,
sent at a higher priority) asks the run to stop: its next turn saves a checkpoint (Resume continues from it)
and ends the job.

Events (``("job_event", key, name, payload)`` at the parent): ``("prepared", TrainingSetup)``,
``("progress", TrainingProgress)``, ``("evaluating", None)``. The result: ``("finished", TrainingOutcome)``
or ``("stopped", TrainingProgress, checkpoint_kept)``. Out of memory is a ``TrainingError`` saying what to
change (after a checkpoint, when one can still be written: the session does so on the GPU, this job when the
CPU's allocator gives up)."""

from __future__ import annotations

from typing import Any

from segview.inference.jobs import JobContext
from segview.train.plan import TrainingError, TrainingPlan

_RUNS: dict[str, TrainingJob] = {}  # the runs of this process by name, for "train_stop"


class TrainingJob:
    """One training run, a slice at a time (a :class:`segview.inference.jobs.SlicedJob`)."""

    def __init__(self, plan: TrainingPlan) -> None:
        from segview.train.session import TrainingSession

        self.plan = plan
        self.session = TrainingSession(plan)
        self.stop_asked = False
        self._prepared = False
        self._evaluating = False
        self._result: Any = None
        self._events: list[tuple[str, Any]] = []

    def step(self, budget_s: float) -> bool:
        try:
            return self._step(budget_s)
        except BaseException:
            _RUNS.pop(self.plan.name, None)
            raise

    def _step(self, budget_s: float) -> bool:
        if not self._prepared:
            self._events.append(("prepared", self.session.prepare()))
            self._prepared = True
            return False
        if self.stop_asked:
            progress = self.session.progress
            kept = progress.step > 0
            if kept:
                self.session.save_checkpoint()
            return self._end(("stopped", progress, kept))
        if self._evaluating:
            return self._end(("finished", self.session.finish()))
        try:
            progress = self.session.run(seconds=budget_s)  # a GPU out of memory is a TrainingError there
        except MemoryError as exc:  # the CPU's allocator gave up (the OOM killer kills without a word)
            raise self._out_of_memory(exc) from None
        self._events.append(("progress", progress))
        if progress.done:
            self._evaluating = True
            self._events.append(("evaluating", None))
        return False

    def _out_of_memory(self, exc: BaseException) -> TrainingError:
        kept = ""
        try:
            if self.session.progress.step > 0:
                self.session.save_checkpoint()
                kept = f" Its checkpoint at step {self.session.progress.step} is kept: Resume continues from it."
        except Exception:  # noqa: BLE001 - out of memory already: the message matters more than the checkpoint
            pass
        return TrainingError(f"Training ran out of memory on {self.session.device} ({type(exc).__name__}): "
                             f"train with a smaller batch size or on fewer images.{kept}")

    def _end(self, result: Any) -> bool:
        self._result = result
        _RUNS.pop(self.plan.name, None)
        return True

    def events(self) -> list[tuple[str, Any]]:
        events, self._events = self._events, []
        return events

    def result(self) -> Any:
        return self._result


def start_training(context: JobContext) -> TrainingJob:
    """Handler of ``("train", NAME)``: payload a TrainingPlan."""
    plan = context.payload
    if not isinstance(plan, TrainingPlan):
        raise TrainingError("A training request needs a TrainingPlan.")
    job = TrainingJob(plan)
    _RUNS.clear()  # one run at a time: a run dropped without stopping (a cancelled key) is let go here
    _RUNS[plan.name] = job
    return job


def stop_training(context: JobContext) -> bool:
    """Handler of ``("train_stop", NAME)``: the run NAME stops at its next turn, keeping a checkpoint.
    True when such a run was going."""
    job = _RUNS.get(context.key[1])
    if job is not None:
        job.stop_asked = True
    return job is not None
