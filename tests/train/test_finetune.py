import math

import numpy as np
import pytest
import torch
from PIL import Image

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.segments import Annotation, Segment
from segview.inference.architectures import maskrcnn_mobilenet_v3_lite_fpn
from segview.inference.weights import check_fits, load_checkpoint
from segview.train.finetune import (
    IGNORE_INDEX,
    Augment,
    SegmentationSamples,
    TrainingError,
    TrainOptions,
    augment,
    train_instance_model,
    train_semantic_model,
    warmup_cosine,
)
from segview.train.scenes import DEMO_CATEGORIES, generate_scene

CATS = CategorySet([Category(1, "ball", True), Category(3, "crate", True), Category(7, "sky", False)])


def _hand_made() -> tuple[np.ndarray, Annotation]:
    """12 × 16: sky, a ball, a crate, a crowd of balls, and a void corner."""
    labels = np.full((12, 16), 1)
    labels[2:5, 3:7] = 2  # ball
    labels[6:10, 8:15] = 3  # crate
    labels[0:2, 12:16] = 4  # crowd of balls
    labels[11, 0:2] = 0  # void
    segments = {1: Segment(7), 2: Segment(1), 3: Segment(3), 4: Segment(1, iscrowd=True)}
    image = np.zeros((12, 16, 3), np.uint8)
    return image, Annotation(12, 16, labels.astype(np.uint16), segments)


def test_targets_boxes_labels_masks_and_semantic():
    image, annotation = _hand_made()
    samples = SegmentationSamples([(image, annotation)], CATS)
    tensor, target = samples[0]
    assert tensor.shape == (3, 12, 16) and tensor.dtype == torch.float32
    assert target["boxes"].tolist() == [[3, 2, 7, 5], [8, 6, 15, 10]]  # XYXY, the crowd skipped
    assert target["labels"].tolist() == [1, 3]  # thing labels are the category ids
    assert target["masks"].shape == (2, 12, 16) and target["masks"].dtype == torch.uint8
    assert target["masks"][0].sum() == 12 and target["masks"][1][6:10, 8:15].all()
    semantic = target["semantic"]
    assert semantic[0, 0] == 2 and semantic[3, 4] == 0 and semantic[7, 9] == 1  # 0, 1, 2 in category order
    assert semantic[0, 13] == 0  # crowd pixels keep their class for the semantic model
    assert semantic[11, 0] == IGNORE_INDEX
    assert samples.instance_categories() == [{"id": 1, "name": "ball", "isthing": True},
                                             {"id": 3, "name": "crate", "isthing": True}]
    assert [c["id"] for c in samples.semantic_categories()] == [0, 1, 2]


def test_label_maps_can_be_chosen():
    image, annotation = _hand_made()
    samples = SegmentationSamples([(image, annotation)], CATS, thing_labels={3: 1}, semantic_labels={7: 5})
    _, target = samples[0]
    assert target["labels"].tolist() == [1]
    assert set(target["semantic"].unique().tolist()) == {5, IGNORE_INDEX}
    assert samples.semantic_categories() == [{"id": 5, "name": "sky", "isthing": False}]


def test_augment_keeps_image_and_labels_aligned():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    segment_map = rng.integers(1, 6, (4, 5)).repeat(40, 0).repeat(40, 1).astype(np.uint16)  # 160 × 200, 40 px blocks
    image = np.stack([segment_map * 40] * 3, axis=-1).astype(np.uint8)  # colour encodes the label
    for params in (Augment(scale=(1.0, 1.0), flip=1.0, size=None), Augment(scale=(0.5, 0.5), size=96),
                   Augment(scale=(1.5, 1.5), flip=0.0, size=64)):
        out_image, out_map = augment(image, segment_map, params)
        side = params.size
        assert out_map.shape == ((side, side) if side else segment_map.shape) and out_image.shape[:2] == out_map.shape
        inside = out_map > 0
        exact = out_image[..., 0][inside].astype(int) == out_map[inside].astype(int) * 40
        assert exact.mean() > 0.95  # only pixels on block edges may blend; misaligned maps give 0.2-0.6
    padded_image, padded_map = augment(image, segment_map, Augment(scale=(0.25, 0.25), flip=0.0, size=None))
    assert padded_map.shape == (160, 200) and (padded_map[40:] == 0).all() and (padded_image[40:] == 0).all()


def test_samples_from_a_dataset_read_images(tmp_path):
    image, annotation = generate_scene(5, 48, 64)
    Image.fromarray(image).save(tmp_path / "a.png")
    dataset = Dataset(DEMO_CATEGORIES, [ImageRecord(1, "a.png", 64, 48, annotation), ImageRecord(2, "b.png", 64, 48)],
                      image_root=tmp_path)
    samples = SegmentationSamples.from_dataset(dataset)
    assert len(samples) == 1  # the image without annotation is not a sample
    tensor, _ = samples[0]
    assert torch.equal((tensor * 255).round().to(torch.uint8).permute(1, 2, 0), torch.from_numpy(image))
    with pytest.raises(TrainingError, match="image folder"):
        SegmentationSamples.from_dataset(Dataset(DEMO_CATEGORIES, dataset.images))
    with pytest.raises(TrainingError, match="no annotated images"):
        SegmentationSamples([], DEMO_CATEGORIES)


def test_warmup_then_cosine():
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.001)
    assert warmup_cosine(10, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10) == pytest.approx(0.01 + 0.99 * 0.5)
    assert warmup_cosine(100, 100, 10) == pytest.approx(0.01)


def test_lite_mask_rcnn_needs_one_anchor_size_per_level():
    with pytest.raises(ValueError, match="one anchor size per FPN level"):
        maskrcnn_mobilenet_v3_lite_fpn(num_classes=3, returned_layers=(2, 3), anchor_sizes=(16, 32))


@pytest.fixture(scope="module")
def tiny_samples():
    scenes = [generate_scene(seed, 64, 64) for seed in (11, 12)]
    return SegmentationSamples(scenes, DEMO_CATEGORIES, semantic_labels={c.id: c.id - 1 for c in DEMO_CATEGORIES},
                               augment=Augment(size=64))


def test_train_instance_model_two_steps_and_reload(tmp_path, tiny_samples):
    torch.manual_seed(0)
    kwargs = dict(num_classes=5, min_size=64, max_size=64, fpn_channels=16)
    model = maskrcnn_mobilenet_v3_lite_fpn(**kwargs)
    seen = []
    path = tmp_path / "inst.pt"
    options = TrainOptions(steps=2, batch_size=2, checkpoint=path, bn_batches=1, threads=None)
    result = train_instance_model(model, tiny_samples, options, log=seen.append)
    assert result.steps == 2 and len(result.losses) == 2 and all(math.isfinite(v) for v in result.losses)
    assert [p.step for p in seen] == [1, 2] and "loss_mask" in seen[0].losses
    assert not model.training
    checkpoint = load_checkpoint(path)
    assert [c.name for c in checkpoint.categories] == ["ball", "crate", "tree", "star"]
    assert [c.id for c in checkpoint.categories] == [1, 2, 3, 4]
    check_fits(maskrcnn_mobilenet_v3_lite_fpn(**kwargs), checkpoint.state_dict, path)


def test_train_semantic_model_two_steps_and_reload(tmp_path, tiny_samples):
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    torch.manual_seed(0)
    model = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=8)
    path = tmp_path / "sem.pt"
    result = train_semantic_model(model, tiny_samples, TrainOptions(steps=2, batch_size=2, checkpoint=path,
                                                                    bn_batches=1, threads=None))
    assert all(math.isfinite(v) for v in result.losses)
    checkpoint = load_checkpoint(path)
    assert [(c.id, c.name) for c in checkpoint.categories][:2] == [(0, "ball"), (1, "crate")]
    fresh = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=8)
    check_fits(fresh, checkpoint.state_dict, path)
    # Batch-norm statistics were recomputed from the training batch, not left at their initial values.
    means = [m.running_mean for m in fresh.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert any(m.abs().sum() > 0 for m in means)


def test_train_demo_writes_three_cards_that_load(tmp_path):
    from segview.inference.cards import load_card
    from segview.inference.pipeline import category_space, load_model
    from segview.train.demo import train_demo

    lines = []
    result = train_demo(tmp_path, semantic_steps=2, instance_steps=2, size=64, train_scenes=2, eval_images=2,
                        semantic_batch_size=2, instance_batch_size=2, bn_batches=1, threads=None, log=lines.append)
    assert [p.name for p in result.cards] == ["demo_semantic.toml", "demo_instance.toml", "demo_panoptic.toml"]
    pair = load_card(tmp_path / "demo_panoptic.toml")
    assert category_space(pair).categories.ids == DEMO_CATEGORIES.ids
    assert "2 steps" in pair.description and "mask AP" in pair.description and "| ball | thing |" in pair.description
    assert result.evaluation.images == 2 and any("held-out evaluation" in line for line in lines)
    prediction = load_model(pair, device="cpu").predict(generate_scene(3, 64, 64)[0])
    assert prediction.semantic is not None and set(np.unique(prediction.semantic)) <= set(DEMO_CATEGORIES.ids)


def test_largest_batch_size_halves_on_out_of_memory_only():
    from segview.train.finetune import largest_batch_size

    tried = []

    def try_batch(size):
        tried.append(size)
        if size > 5:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    freed = []
    assert largest_batch_size(try_batch, 16, lambda exc: "out of memory" in str(exc), lambda: freed.append(1)) == 4
    assert tried == [16, 8, 4] and len(freed) == 2

    def broken(size):
        raise ValueError("not memory")

    with pytest.raises(ValueError):
        largest_batch_size(broken, 16, lambda exc: "out of memory" in str(exc))
    with pytest.raises(RuntimeError):  # out of memory with a batch of one: nothing smaller to try
        largest_batch_size(lambda size: try_batch(size * 10), 4, lambda exc: "out of memory" in str(exc))


def test_trainer_steps_a_model_and_keeps_batch_norm_statistics_when_frozen():
    from segview.train.finetune import Trainer

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    samples = [(torch.randn(1, 4, 4), {}) for _ in range(3)]

    def loss_of(batch):
        return {"loss": model(torch.stack([image for image, _ in batch])).pow(2).mean()}

    before = model[1].running_mean.clone()
    trainer = Trainer(model, samples, loss_of, batch_size=2, lr=0.1, frozen_norm=True)
    weight = model[0].weight.detach().clone()
    losses = [trainer.step()[0] for _ in range(4)]  # passes over the 3 samples repeat
    assert trainer.steps == 4 and all(loss > 0 for loss in losses)
    assert not torch.equal(model[0].weight, weight) and torch.equal(model[1].running_mean, before)
    restored = Trainer(model, samples, loss_of, batch_size=2, lr=0.1)
    restored.load_state_dict(trainer.state_dict())
    assert restored.steps == 4 and restored.optimizer.state_dict()["state"]
