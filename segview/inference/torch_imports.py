"""How a process that runs models sets torch up before importing it: no Triton, one core left free.

torchvision.ops imports ``torch._dynamo`` (for ``is_compile_supported``), and that imports Triton when it
is installed (the CUDA wheels bring it along): about 75 MB of resident memory, a tenth of
``segview predict``'s peak, in processes that run models eagerly and never compile one.

torch runs a CPU model on as many threads as there are cores, and its threads wait for each other at every
layer: when any other program (the window, a browser, predict's own writers) takes one core, every layer
waits for the thread that lost it. Measured on 2 cores with one core busy: the demo model took 335 ms per
image on 2 threads and 119 ms on 1 (83 ms on 2 threads when nothing else runs).
"""

from __future__ import annotations

import os
import sys


def without_triton() -> None:
    """Make Triton look absent to torch (``import triton`` raises ImportError, which torch takes for "not
    installed"), before torchvision is imported. Does nothing where Triton is imported already."""
    sys.modules.setdefault("triton", None)


def leave_a_core() -> None:
    """Unless the user set ``OMP_NUM_THREADS``, torch's CPU threads (and the child processes', which inherit
    it) are one fewer than the cores this process may run on, at least one. Call before torch is imported."""
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, usable_cores() - 1))


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1
