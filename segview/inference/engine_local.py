"""The local engine of ``segview predict``: decoding, the model and the writing overlap on one machine.

Three stages joined by bounded queues, so memory stays flat whatever the number of images:
a thread pool decodes images ahead of the model; this thread feeds them to the model one after the other
(the model never waits for a decode); a pool of worker processes fuses each prediction, encodes it in
every format and writes its masks (:func:`segview.inference.records.image_record`) while the model runs
on the next images. Each finished image's record is appended to the work folder as it arrives.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

from segview.core.prediction import Prediction
from segview.errors import SegviewError
from segview.inference.image_sources import ImageList, read_source
from segview.inference.pipeline import LoadedModel
from segview.inference.records import OutputSpec, RecordWriter, image_record, skipped_record
from segview.inference.torch_imports import usable_cores

Progress = Callable[[int], None]
"""``progress(images)``: that many more images are done."""


def default_workers() -> int:
    """Writer processes: the cores the model's threads leave (``torch_imports.leave_a_core``), 1 to 8."""
    return max(1, min(8, usable_cores() - 1))


def start_writer_processes() -> None:
    """Start the process the writers are forked from, with their modules imported (~0.2 s), now: a command
    calls this before it loads its model, so the writers later start in milliseconds. Where there is no
    fork server (Windows) the writers are spawned when needed."""
    context = _writer_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _writer_context() -> multiprocessing.context.BaseContext:
    """Fork from a clean server process (no torch, no threads), never from this process (torch's threads
    make a fork unsafe); spawn where there is no fork server, and in the frozen app (its executable starts
    spawned children through ``multiprocessing.freeze_support``, not a fork server's command line)."""
    if getattr(sys, "frozen", False) or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["segview.inference.records"])
    return context


def run_local(
    model: LoadedModel,
    images: ImageList,
    todo: list[int],
    spec: OutputSpec,
    *,
    workers: int | None = None,
    decode_threads: int = 2,
    progress: Progress | None = None,
) -> None:
    """Predict the images at positions ``todo`` of ``images`` (image id: position + 1) and append their
    records to the work folder; an image that cannot be read or predicted gets a skipped record."""
    workers = workers or default_workers()
    writer = RecordWriter(spec.work_dir, f"local-{time.time_ns()}-{os.getpid()}")
    try:
        with (
            ThreadPoolExecutor(decode_threads, thread_name_prefix="segview-decode") as decoders,
            _writer_pool(spec, workers, len(todo)) as pool,
        ):
            writing: deque[Future] = deque()
            for index, decoded in _decoded(decoders, images, todo, ahead=decode_threads + 2):
                name = images.names[index]
                try:
                    prediction = model.predict(decoded.result())
                except SegviewError as exc:  # unreadable, over the pixel budget, a shape the model cannot take
                    writer.write(skipped_record(index + 1, name, str(exc)))
                    _tick(progress)
                    continue
                in_process = isinstance(pool, ThreadPoolExecutor)
                writing.append(pool.submit(_write_image, spec if in_process else None, index + 1, name, prediction))
                while writing and (writing[0].done() or len(writing) > 2 * workers):
                    writer.write(writing.popleft().result())
                    _tick(progress)
            while writing:
                writer.write(writing.popleft().result())
                _tick(progress)
    finally:
        writer.close()


def _decoded(pool: ThreadPoolExecutor, images: ImageList, todo: list[int], ahead: int) -> Iterator[tuple[int, Future]]:
    """``(index, future of the decoded image)`` in order, at most ``ahead`` decodes in flight."""
    queue: deque[tuple[int, Future]] = deque()
    for index in todo:
        queue.append((index, pool.submit(read_source, images.sources[index], images.names[index])))
        if len(queue) > ahead:
            yield queue.popleft()
    while queue:
        yield queue.popleft()


def _tick(progress: Progress | None) -> None:
    if progress is not None:
        progress(1)


def _writer_pool(spec: OutputSpec, workers: int, images: int) -> Executor:
    """Worker processes (:func:`_writer_context`) that get ``spec`` once; for a few images a thread here,
    which costs no process start-up."""
    if images < _POOL_MIN_IMAGES:
        return ThreadPoolExecutor(1, thread_name_prefix="segview-write")
    return ProcessPoolExecutor(workers, mp_context=_writer_context(), initializer=_start_worker, initargs=(spec,))


_POOL_MIN_IMAGES = 8
_SPEC: OutputSpec | None = None  # a worker process's


def _start_worker(spec: OutputSpec) -> None:
    global _SPEC
    _SPEC = spec


def _write_image(spec: OutputSpec | None, image_id: int, name: str, prediction: Prediction) -> dict:
    """Fuse, encode and write one image; in a worker process ``spec`` is None (sent once, at its start)."""
    return image_record(spec or _SPEC, image_id, name, prediction)
