"""Shared pytest configuration."""

import os

import pytest
from hypothesis import HealthCheck, settings

# Locally hypothesis explores new inputs on every run (and remembers failures); under CI (CI=true) the
# examples are derived from each test's name, so a submission's CI run cannot fail on an input that no run
# before it tried. Explore longer with SEGVIEW_FUZZ_EXAMPLES=N (tests/cli/test_fuzz.py).
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def max_pixels():
    """``max_pixels(n)`` sets segview's pixel budget (and Pillow's bomb limit) for one test."""
    from segview.io import pixel_budget

    before = pixel_budget.max_pixels()
    yield pixel_budget.set_max_pixels
    pixel_budget.set_max_pixels(before)

