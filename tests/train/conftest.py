"""Fixtures of the training tests: tiny random-weight base cards in a temporary user folder, and a small
generated-scene dataset on disk (see helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.helpers import use_tiny_bases, write_scenes_panoptic


@pytest.fixture
def tiny_bases(monkeypatch, tmp_path) -> Path:
    """The user models folder (in tmp_path) holding tiny_inst (ball, crate), tiny_sem (sky, ball, grass) and
    their pair tiny_pair, all with random weights."""
    return use_tiny_bases(monkeypatch, tmp_path)


@pytest.fixture
def scenes_panoptic(tmp_path) -> Path:
    """Six 64-pixel scenes as a COCO panoptic dataset; returns its JSON file."""
    return write_scenes_panoptic(tmp_path / "scenes")
