"""What a process that runs models needs of torch's optional packages: not Triton.

torchvision.ops imports ``torch._dynamo`` (for ``is_compile_supported``), and that imports Triton when it
is installed (the CUDA wheels bring it along): about 75 MB of resident memory, a tenth of
``segview predict``'s peak, in processes that run models eagerly and never compile one.
"""

from __future__ import annotations

import sys


def without_triton() -> None:
    """Make Triton look absent to torch (``import triton`` raises ImportError, which torch takes for "not
    installed"), before torchvision is imported. Does nothing where Triton is imported already."""
    sys.modules.setdefault("triton", None)
