"""Cards → weights → model → Prediction, with tiny random-weight models saved as local files."""

import numpy as np
import pytest
import torch

from segview.core.fusion import fuse
from segview.inference.pipeline import category_space, load_model
from segview.inference.weights import WeightsError
from tests.inference.tiny_models import write_tiny_cards


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    return write_tiny_cards(tmp_path_factory.mktemp("cards"))


def test_semantic_label_zero_is_shifted_off_void(cards):
    _, sem = cards
    space = category_space(sem)
    assert space.semantic_labels == {0: 1, 1: 2, 2: 3}
    assert [(c.id, c.name, c.isthing) for c in space.categories] == [
        (1, "sky", False),
        (2, "ball", True),
        (3, "grass", False),
    ]


def test_instance_model_predicts_cropped_instances(cards):
    inst, _ = cards
    loaded = load_model(inst, device="cpu")
    image = np.random.default_rng(0).integers(0, 255, (80, 100, 3), dtype=np.uint8)
    prediction = loaded.predict(image)
    assert prediction.device == "CPU" and prediction.model == "tiny_inst"
    assert prediction.instances and prediction.semantic is None
    assert {i.category_id for i in prediction.instances} <= {1, 2}
    fused = fuse(prediction, loaded.categories)
    assert fused.segment_map.shape == (80, 100)


def test_semantic_model_predicts_label_map(cards):
    _, sem = cards
    loaded = load_model(sem, device="cpu")
    prediction = loaded.predict(np.zeros((40, 60, 3), np.uint8))
    assert prediction.semantic.shape == (40, 60)
    assert set(np.unique(prediction.semantic)) <= {1, 2, 3}


def test_checkpoint_for_another_model_is_refused(cards, tmp_path):
    inst, _ = cards
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    wrong = tmp_path / "wrong.pt"
    torch.save(
        lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3).state_dict(), wrong
    )
    with pytest.raises(WeightsError, match="does not fit"):
        load_model(inst, device="cpu", weights_path=wrong)


def test_gpu_out_of_memory_retries_on_cpu(cards, monkeypatch):
    from segview.inference.device import DeviceChoice

    _, sem = cards
    loaded = load_model(sem, device="cpu")
    loaded.device = DeviceChoice("cuda:0", "cuda:0 (Fake)")
    calls = []
    original = loaded._predict

    def flaky(image, device_name):
        calls.append(device_name)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return original(image, device_name)

    monkeypatch.setattr(loaded, "_predict", flaky)
    prediction = loaded.predict(np.zeros((20, 20, 3), np.uint8))
    assert prediction.device == "CPU (the GPU ran out of memory)"
    assert loaded.device.device == "cpu"
