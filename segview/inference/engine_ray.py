"""The Ray engine of ``segview predict``: the same job spread over a Ray cluster with Ray Data.

The image list becomes a dataset; ``map_batches`` runs a pool of actors that each hold the model (one per
GPU with ``gpus_per_worker=1``, or CPU actors) and read and predict their images; a second ``map_batches``
stage of CPU tasks fuses, encodes and writes the masks and the records (one shard per batch) into the
work folder, exactly as the local engine's writer processes do
(:func:`segview.inference.records.image_record`). The work folder must therefore be one every node
can write to (a shared file system); the final files are assembled by the driver as for the local engine.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable

import numpy as np

from segview.errors import SegviewError
from segview.inference.image_sources import ImageList, read_source
from segview.inference.records import OutputSpec, image_record, skipped_record, write_shard
from segview.io.pixel_budget import max_pixels, set_max_pixels

_BATCH = 8  # images per model call batch and per record shard


def run_ray(
    loader: Callable[[], object],
    images: ImageList,
    todo: list[int],
    spec: OutputSpec,
    *,
    address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Predict the images at positions ``todo`` on Ray: ``workers`` model actors (default 1), each built
    by ``loader()`` with ``gpus_per_worker`` GPUs; connects to ``address`` (None: the running Ray instance
    of this process, else ``RAY_ADDRESS`` or a new local one) and leaves an instance it did not start."""
    try:
        import ray
    except ImportError:
        raise SegviewError("--engine ray needs Ray: pip install 'segview[cluster]'.") from None
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise SegviewError(f"Cannot reach the Ray cluster at {address or 'RAY_ADDRESS'}: {exc}. Start it with "
                               "`ray start --head`, or leave --address out to run on this machine.") from exc
    try:
        if not todo:
            return
        items = [{"index": i, "name": images.names[i], "source": images.sources[i]} for i in todo]
        dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items) // _BATCH, 1000)))
        predicted = dataset.map_batches(
            _Predictor,
            fn_constructor_args=(loader, max_pixels()),
            batch_size=_BATCH,
            concurrency=workers or 1,
            num_gpus=gpus_per_worker or None,
            batch_format="numpy",
        )
        written = predicted.map_batches(_write_batch, fn_kwargs={"spec": spec}, batch_size=_BATCH,
                                        batch_format="numpy")
        for batch in written.iter_batches(batch_size=None, batch_format="numpy"):
            fatal = [str(message) for message in batch["fatal"] if message]
            if fatal:  # a user error in an actor or a task (Ray passes on only the text of its exceptions)
                raise SegviewError(fatal[0])
            if progress is not None:
                progress(int(np.sum(batch["done"])))
    finally:
        if started:
            ray.shutdown()


class _Predictor:
    """A Ray actor holding the model: decodes and predicts a batch of images. A user error (no weights on
    this node) is passed on as data, in the ``fatal`` column, for the driver to raise."""

    def __init__(self, loader: Callable[[], object], pixels: int) -> None:
        set_max_pixels(pixels)  # the driver's --max-pixels, in this worker process too
        self.model, self.error = None, None
        try:
            self.model = loader()
        except SegviewError as exc:
            self.error = str(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        fatal = np.array([self.error or ""] * len(batch["index"]), dtype=object)
        if self.error is not None:
            empty = np.array([b""] * len(batch["index"]), dtype=object)
            return {"index": batch["index"], "name": batch["name"], "prediction": empty, "skipped": fatal,
                    "fatal": fatal}
        payloads, reasons = [], []
        for name, source in zip(batch["name"], batch["source"], strict=True):
            try:
                prediction = self.model.predict(read_source(str(source), str(name)))
            except SegviewError as exc:  # unreadable, over the pixel budget, a shape the model cannot take
                payloads.append(b"")
                reasons.append(str(exc))
            else:
                payloads.append(pickle.dumps(prediction, protocol=pickle.HIGHEST_PROTOCOL))
                reasons.append("")
        return {"index": batch["index"], "name": batch["name"], "prediction": np.array(payloads, dtype=object),
                "skipped": np.array(reasons, dtype=object), "fatal": fatal}


def _write_batch(batch: dict[str, np.ndarray], spec: OutputSpec) -> dict[str, np.ndarray]:
    """Fuse, encode and write a batch of predictions; their records go to a shard of their own. A user
    error (the model's, or a full disk here) comes back in ``fatal`` instead."""
    fatal = next((str(message) for message in batch["fatal"] if message), "")
    records = []
    try:
        for index, name, payload, reason in zip(batch["index"], batch["name"], batch["prediction"],
                                                batch["skipped"], strict=True):
            if fatal:
                break
            if reason:
                records.append(skipped_record(int(index) + 1, str(name), str(reason)))
            else:
                records.append(image_record(spec, int(index) + 1, str(name), pickle.loads(payload)))
        if records:
            first = int(batch["index"][0])
            write_shard(spec.work_dir, f"ray-{first:012d}-{uuid.uuid4().hex[:8]}", records)  # read in image order
    except SegviewError as exc:
        fatal, records = str(exc), []
    return {"done": np.array([len(records)]), "fatal": np.array([fatal], dtype=object)}
