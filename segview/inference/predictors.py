"""Run torchvision models on one image and return core Prediction parts.

Instance masks are thresholded at the model's mask resolution (28×28 for Mask R-CNN) and resized only
to each detection's box: memory grows with the boxes, not with detections × image size (torchvision's
own postprocess would paste N full-image float masks: 3.3 GB at 4K with 100 detections).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.detection.transform import resize_boxes

from segview.core.masks import CroppedMask
from segview.core.prediction import InstancePrediction
from segview.errors import SegviewError
from segview.inference.device import DeviceChoice

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Semantic logits are upsampled at most to this many pixels on the long side; beyond it the label map
# is resized with nearest neighbour, so a 10k image does not need a C × 10k × 10k float tensor.
MAX_SEMANTIC_UPSAMPLE = 2048
# The semantic model's input: the short side scaled to the card's size, but the long side never beyond
# this (a 1×500 image scaled to a short side of 256 would be 256×128000: 6.7 GB and 90 s).
MAX_SEMANTIC_INPUT_SIDE = 2048


class ImageShapeError(SegviewError):
    """An image the model cannot take (so thin that the model's resize leaves no pixel across)."""


def _autocast(device: DeviceChoice):
    if device.autocast_dtype and device.device.startswith("cuda"):
        return torch.autocast("cuda", dtype=getattr(torch, device.autocast_dtype))
    return torch.autocast("cpu", enabled=False)


def _to_tensor(image: np.ndarray, device: str) -> torch.Tensor:
    """(h, w, 3) uint8 RGB → (3, h, w) float in [0, 1] on ``device``. A read-only array (an image in
    shared memory) is copied first: torch warns on every non-writable array it wraps, though nothing here
    writes to it (``float()`` copies)."""
    if not image.flags.writeable:
        image = image.copy()
    return torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1).float().div_(255.0)


def crop_mask_from_probs(
    probs: np.ndarray, box: np.ndarray, height: int, width: int, threshold: float = 0.5
) -> CroppedMask:
    """Resize one low-resolution mask probability map to its box and threshold it into a crop."""
    x0, y0 = int(np.floor(max(box[0], 0))), int(np.floor(max(box[1], 0)))
    x1, y1 = int(np.ceil(min(box[2], width))), int(np.ceil(min(box[3], height)))
    w, h = max(x1 - x0, 1), max(y1 - y0, 1)
    resized = cv2.resize(probs.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return CroppedMask(x0, y0, resized >= threshold).tight()


class InstancePredictor:
    """A torchvision Mask R-CNN as a function image → detections with bbox-cropped masks."""

    def __init__(
        self,
        model: torch.nn.Module,
        label_to_category: Mapping[int, int],
        device: DeviceChoice,
        mask_threshold: float = 0.5,
    ) -> None:
        self.model = model.eval().to(device.device)
        self.label_to_category = dict(label_to_category)
        self.device = device
        self.mask_threshold = mask_threshold

    @torch.inference_mode()
    def __call__(self, image: np.ndarray) -> list[InstancePrediction]:
        height, width = image.shape[:2]
        model = self.model
        scale = min(min(model.transform.min_size) / min(height, width), model.transform.max_size / max(height, width))
        if min(height, width) * scale < 1:
            raise ImageShapeError(
                f"the image is {width}×{height}: too thin for {type(model).__name__}, which scales its long side "
                f"to {model.transform.max_size} pixels and so leaves no pixel across. Crop or pad it to an aspect "
                f"ratio under {model.transform.max_size}:1."
            )
        with _autocast(self.device):
            images, _ = model.transform([_to_tensor(image, self.device.device)])
            features = model.backbone(images.tensors)
            if isinstance(features, torch.Tensor):
                features = OrderedDict([("0", features)])
            proposals, _ = model.rpn(images, features)
            detections, _ = model.roi_heads(features, proposals, images.image_sizes)
        det = detections[0]
        boxes = resize_boxes(det["boxes"].float(), images.image_sizes[0], [height, width]).cpu().numpy()
        scores = det["scores"].float().cpu().numpy()
        labels = det["labels"].cpu().numpy()
        probs = det["masks"][:, 0].float().cpu().numpy()
        out: list[InstancePrediction] = []
        for box, score, label, prob in zip(boxes, scores, labels, probs, strict=True):
            category_id = self.label_to_category.get(int(label))
            if category_id is None:
                continue
            crop = crop_mask_from_probs(prob, box, height, width, self.mask_threshold)
            if crop.mask.size and crop.mask.any():
                out.append(InstancePrediction(category_id, float(score), crop))
        return out


class SemanticPredictor:
    """A torchvision semantic model (DeepLabV3, FCN, LR-ASPP) as image → (category map, confidence)."""

    def __init__(
        self,
        model: torch.nn.Module,
        label_to_category: Mapping[int, int],
        device: DeviceChoice,
        resize_short_side: int | None = 520,
    ) -> None:
        self.model = model.eval().to(device.device)
        size = max(label_to_category, default=0) + 1
        self.lut = np.zeros(size, dtype=np.uint16)
        for label, category_id in label_to_category.items():
            self.lut[label] = category_id
        self.device = device
        self.resize_short_side = resize_short_side

    @torch.inference_mode()
    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height, width = image.shape[:2]
        x = _to_tensor(image, self.device.device)
        if self.resize_short_side:
            scale = min(self.resize_short_side / min(height, width), MAX_SEMANTIC_INPUT_SIDE / max(height, width))
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
            x = F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]
        mean = torch.tensor(IMAGENET_MEAN, device=x.device)[:, None, None]
        std = torch.tensor(IMAGENET_STD, device=x.device)[:, None, None]
        with _autocast(self.device):
            logits = self.model(((x - mean) / std)[None])["out"].float()
        scale = min(1.0, MAX_SEMANTIC_UPSAMPLE / max(height, width))
        up = (max(1, round(height * scale)), max(1, round(width * scale)))
        probs = F.interpolate(logits, size=up, mode="bilinear", align_corners=False).softmax(1)[0]
        confidence, labels = probs.max(0)
        labels_np = labels.cpu().numpy().astype(np.int32)
        confidence_np = confidence.cpu().numpy().astype(np.float16)
        if up != (height, width):
            labels_np = cv2.resize(labels_np, (width, height), interpolation=cv2.INTER_NEAREST)
            confidence_np = cv2.resize(
                confidence_np.astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST
            ).astype(np.float16)
        labels_np = np.clip(labels_np, 0, len(self.lut) - 1)
        return self.lut[labels_np], confidence_np
