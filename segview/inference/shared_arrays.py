"""Arrays across the model process's boundary through shared memory, not pickles.

The sender copies its arrays into one new ``multiprocessing.shared_memory`` block and sends only its name
and layout (offset, dtype, shape per array) through the pipe; the receiver copies them out and unlinks the
block. A Prediction crosses as small metadata plus its semantic map, its confidence and its bbox-cropped
instance masks. No Qt, no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction, Prediction

ALIGN = 64
Layout = list[tuple[int, str, tuple[int, ...]]]  # offset, dtype, shape
Packed = tuple[str | None, Layout]  # the block's name (None when every array is empty), the layout


def pack_arrays(arrays: Sequence[np.ndarray]) -> Packed:
    """Copy arrays into one new shared-memory block; the receiver must :func:`unpack_arrays` it (which
    unlinks it) or :func:`discard` it."""
    layout: Layout = []
    offset = 0
    for array in arrays:
        layout.append((offset, array.dtype.str, tuple(array.shape)))
        offset += -(-array.nbytes // ALIGN) * ALIGN
    if offset == 0:
        return None, layout
    block = shared_memory.SharedMemory(create=True, size=offset)
    try:
        for array, (start, dtype, shape) in zip(arrays, layout, strict=True):
            np.ndarray(shape, dtype, buffer=block.buf, offset=start)[...] = array
    except BaseException:
        block.close()
        block.unlink()
        raise
    name = block.name
    block.close()
    return name, layout


def unpack_arrays(packed: Packed) -> list[np.ndarray]:
    """The arrays of a block made by :func:`pack_arrays`, copied out; the block is unlinked."""
    name, layout = packed
    if name is None:
        return [np.zeros(shape, dtype) for _offset, dtype, shape in layout]
    block = shared_memory.SharedMemory(name=name)
    try:
        return [np.ndarray(shape, dtype, buffer=block.buf, offset=offset).copy() for offset, dtype, shape in layout]
    finally:
        block.close()
        block.unlink()


def discard(packed: Packed) -> None:
    """Unlink a block that will not be unpacked (its request became stale)."""
    name = packed[0]
    if name is None:
        return
    try:
        block = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return
    block.close()
    block.unlink()


def pack_prediction(prediction: Prediction) -> tuple[dict, Packed]:
    """Small metadata (picklable) and the shared-memory block holding the prediction's arrays."""
    arrays: list[np.ndarray] = []
    meta = {
        "height": prediction.height, "width": prediction.width, "model": prediction.model,
        "device": prediction.device, "semantic": prediction.semantic is not None,
        "confidence": prediction.semantic_confidence is not None,
        "instances": [(i.category_id, float(i.score), i.mask.x, i.mask.y) for i in prediction.instances],
    }
    if prediction.semantic is not None:
        arrays.append(prediction.semantic)
    if prediction.semantic_confidence is not None:
        arrays.append(prediction.semantic_confidence)
    arrays.extend(np.ascontiguousarray(i.mask.mask) for i in prediction.instances)
    return meta, pack_arrays(arrays)


def unpack_prediction(meta: dict, packed: Packed) -> Prediction:
    arrays = iter(unpack_arrays(packed))
    prediction = Prediction(meta["height"], meta["width"], model=meta["model"], device=meta["device"])
    if meta["semantic"]:
        prediction.semantic = next(arrays)
    if meta["confidence"]:
        prediction.semantic_confidence = next(arrays)
    prediction.instances = [InstancePrediction(category_id, score, CroppedMask(x, y, next(arrays)))
                            for category_id, score, x, y in meta["instances"]]
    return prediction


@dataclass(frozen=True)
class SharedResult:
    """A job's result whose arrays cross through shared memory: small picklable ``meta`` and the block.
    The parent's reader unpacks it into ``(meta, arrays)`` (or unlinks it unread when it is stale)."""

    meta: Any
    packed: Packed


def share_result(meta: Any, arrays: Sequence[np.ndarray]) -> SharedResult:
    """Pack ``arrays`` into shared memory for a job's result (see :class:`SharedResult`)."""
    return SharedResult(meta, pack_arrays(arrays))
