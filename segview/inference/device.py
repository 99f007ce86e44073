"""Choosing the device (CUDA, then Apple MPS, then CPU) and naming it for the status bar."""

from __future__ import annotations

from dataclasses import dataclass

from segview.errors import SegviewError


class DeviceError(SegviewError):
    """The requested device cannot be used."""


@dataclass(frozen=True)
class DeviceChoice:
    """A torch device string, a human name, and the autocast dtype to use (None = full precision)."""

    device: str
    name: str
    autocast_dtype: str | None = None

    def __str__(self) -> str:
        return self.name


def choose_device(requested: str = "auto") -> DeviceChoice:
    """Resolve 'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps' into a usable device, or explain why not."""
    import torch

    requested = requested.strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return _cuda(0)
        if _mps_available():
            return DeviceChoice("mps", "Apple MPS")
        return DeviceChoice("cpu", "CPU")
    if requested == "cpu":
        return DeviceChoice("cpu", "CPU")
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError("No CUDA GPU is available (no driver or no device). Use --device cpu or auto.")
        index = int(requested.split(":", 1)[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"There is no GPU cuda:{index}; this machine has {torch.cuda.device_count()}.")
        return _cuda(index)
    if requested == "mps":
        if not _mps_available():
            raise DeviceError("Apple MPS is not available on this machine. Use --device cpu or auto.")
        return DeviceChoice("mps", "Apple MPS")
    raise DeviceError(f"Unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps.")


def _cuda(index: int) -> DeviceChoice:
    import torch

    name = torch.cuda.get_device_name(index)
    dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return DeviceChoice(f"cuda:{index}", f"cuda:{index} ({name})", dtype)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a GPU out-of-memory error (then the caller retries on the CPU and says so)."""
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()
