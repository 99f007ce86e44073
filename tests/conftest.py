"""Shared pytest configuration."""

import os
import socket

import pytest
from hypothesis import HealthCheck, settings

# Tests never reach the internet: a name other than this machine's does not resolve in the test process
# (downloads are tested against tests/file_server.py on 127.0.0.1). A test that tries fails at once, with a
# message that says so, instead of depending on the network.
_resolve = socket.getaddrinfo
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", socket.gethostname()}


def _local_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and name not in _LOCAL:
        raise socket.gaierror(socket.EAI_NONAME, f"tests do not reach the internet (asked for {name})")
    return _resolve(host, *args, **kwargs)


socket.getaddrinfo = _local_only

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

