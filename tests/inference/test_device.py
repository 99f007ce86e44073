import pytest
import torch

from segview.inference.device import DeviceError, choose_device, is_out_of_memory


def test_cpu_and_auto_without_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device("cpu").device == "cpu"
    auto = choose_device("auto")
    assert auto.device == "cpu" and str(auto) == "CPU" and auto.autocast_dtype is None


def test_cuda_requested_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="No CUDA GPU"):
        choose_device("cuda")


def test_auto_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    choice = choose_device("auto")
    assert choice.device == "cuda:0" and "Fake GPU" in choice.name and choice.autocast_dtype == "bfloat16"
    with pytest.raises(DeviceError, match="cuda:3"):
        choose_device("cuda:3")


def test_unknown_device():
    with pytest.raises(DeviceError, match="Unknown device"):
        choose_device("tpu")


def test_out_of_memory_detection():
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory"))
    assert not is_out_of_memory(ValueError("bad"))
