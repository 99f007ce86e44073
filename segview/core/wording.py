"""Counted nouns in messages: "1 image", "2 images"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, plural (``plural``, else ``noun + "s"``) unless ``number`` is 1."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
