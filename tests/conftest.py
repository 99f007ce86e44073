"""Shared pytest configuration."""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture
def max_pixels():
    """``max_pixels(n)`` sets segview's pixel budget (and Pillow's bomb limit) for one test."""
    from segview.io import pixel_budget

    before = pixel_budget.max_pixels()
    yield pixel_budget.set_max_pixels
    pixel_budget.set_max_pixels(before)
