"""Batch prediction into an output folder: the job behind ``segview predict``, on one machine or on Ray.

The images are listed, the work folder opened (or the interrupted run's, with ``resume``), the images
not done yet predicted by an engine (:mod:`segview.inference.engine_local` or
:mod:`segview.inference.engine_ray`), each one's record streamed to disk, and the final files assembled
from the records (:func:`segview.inference.records.assemble`). Both engines share the per-image code:
the model's ``predict`` (:mod:`segview.inference.pipeline`, as the GUI's model process) and
:func:`segview.inference.records.image_record`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from segview.core.dataset import ImageRecord
from segview.core.fusion import FusionParams
from segview.inference.engine_local import run_local
from segview.inference.image_sources import ImageList, is_url
from segview.inference.records import (
    Outcome,
    OutputSpec,
    RecordWriter,
    assemble,
    done_names,
    has_finished_run,
    job_fingerprint,
    open_work_dir,
    skipped_record,
)
from segview.io.detect import DatasetFormat
from segview.io.mask_png import png_name


@dataclass(frozen=True)
class BatchOptions:
    """Where and how a batch prediction runs. ``model``/``weights`` name the model (a resumed run must use
    the same); ``workers``: writer processes (local) or model actors (Ray), None for the default."""

    out_dir: Path
    formats: tuple[DatasetFormat, ...]
    params: FusionParams
    model: str
    weights: str | None = None
    resume: bool = False
    engine: str = "local"
    workers: int | None = None
    address: str | None = None
    gpus_per_worker: float = 0.0


def predict_folder(
    model,
    images: ImageList,
    options: BatchOptions,
    *,
    loader: Callable[[], object] | None = None,
    progress: Callable[[int, int], Callable[[int], None]] | None = None,
) -> Outcome:
    """Predict ``images`` with ``model`` (anything with ``categories`` and ``predict(image)``) into
    ``options.out_dir``. The Ray engine loads a model in each actor with ``loader`` (picklable).
    ``progress(total, done_before)`` is called once and returns the callback each finished image calls."""
    work = open_work_dir(options.out_dir, _fingerprint(model, images, options), options.resume)
    spec = OutputSpec(work, model.categories, options.formats, options.params)
    done = done_names(work) if options.resume else set()
    todo = [index for index, name in enumerate(images.names) if name not in done]
    if {DatasetFormat.COCO_PANOPTIC, DatasetFormat.SEMANTIC_PNG} & set(options.formats):
        todo = _without_mask_clashes(images, todo, RecordWriter(work, "clashes"))
    tick = progress(len(images.names), len(images.names) - len(todo)) if progress is not None else None
    if options.engine == "ray":
        from segview.inference.engine_ray import run_ray

        if loader is None:
            raise ValueError("the Ray engine needs a loader to build the model in its actors")
        run_ray(loader, images, todo, spec, address=options.address, workers=options.workers,
                gpus_per_worker=options.gpus_per_worker, progress=tick)
    else:
        run_local(model, images, todo, spec, workers=options.workers, progress=tick)
    return assemble(spec, options.out_dir, None if is_url(images.root) else Path(images.root))


def finished_before(model, images: ImageList, options: BatchOptions) -> bool:
    """Whether ``options.out_dir`` holds this job's outputs, finished (what ``--resume`` has nothing to add to)."""
    return has_finished_run(options.out_dir, _fingerprint(model, images, options))


def _fingerprint(model, images: ImageList, options: BatchOptions) -> dict:
    return job_fingerprint(options.model, options.weights, options.formats, options.params, images.names,
                           model.categories)


def _without_mask_clashes(images: ImageList, todo: list[int], writer: RecordWriter) -> list[int]:
    """``todo`` less the images whose mask file name an earlier image has (``a.jpg`` and ``a.png`` both give
    ``a.png``): those are recorded as skipped, saying so."""
    wanted = set(todo)
    first: dict[str, str] = {}
    kept = []
    try:
        for index, name in enumerate(images.names):
            target = png_name(ImageRecord(index + 1, name, 1, 1))
            clash = first.setdefault(target, name)
            if index not in wanted:
                continue
            if clash == name:
                kept.append(index)
            else:
                writer.write(skipped_record(index + 1, name, f"its mask name {target} is already used by {clash}; "
                                            "rename one of them to predict both"))
    finally:
        writer.close()
    return kept
