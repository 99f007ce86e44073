"""Per-image progress for the readers and writers of every format."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

ImageProgress = Callable[[int, int], None]
"""``progress(done, total)``: ``done`` of ``total`` images (or items) handled."""

_T = TypeVar("_T")


def counted(items: Sequence[_T], progress: ImageProgress | None) -> Iterator[_T]:
    """The items one by one, calling ``progress(done, len(items))`` once each is done (when the loop
    asks for the next), so every item is reported once, in order, the last as ``(n, n)``."""
    for done, item in enumerate(items, 1):
        yield item
        if progress is not None:
            progress(done, len(items))
