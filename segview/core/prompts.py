"""Prompts for the Segment Anything family, and the transforms between an image and the model's input frame.

A prompt model sees an image resized so that its longer side is ``long_side`` (1024 for SAM) and padded
at the right and bottom to a ``long_side`` square (the *model frame*), or, for the SAM 2 family
(``stretch``), resized to fill that square whatever its aspect ratio; its mask decoder answers with
low-resolution logits covering that whole square. Points and boxes are given in *image coordinates*:
continuous pixel coordinates in which pixel (column c, row r) covers [c, c+1) × [r, r+1), as the canvas
reports them. Everything here is pure numpy/OpenCV (no torch, no Qt), so it is property-tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from segview.core.masks import CroppedMask

LONG_SIDE = 1024

PromptPoint = tuple[float, float, bool]  # x, y, positive
PromptBox = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class PromptSet:
    """Points (x, y, positive) and an optional box (x0, y0, x1, y1), in image coordinates."""

    points: tuple[PromptPoint, ...] = field(default_factory=tuple)
    box: PromptBox | None = None

    def __bool__(self) -> bool:
        return bool(self.points) or self.box is not None

    def with_point(self, x: float, y: float, positive: bool = True) -> PromptSet:
        """This prompt with one more point."""
        return PromptSet(self.points + ((float(x), float(y), bool(positive)),), self.box)

    def with_box(self, x0: float, y0: float, x1: float, y1: float) -> PromptSet:
        """This prompt with its box replaced (corners in any order)."""
        box = (float(min(x0, x1)), float(min(y0, y1)), float(max(x0, x1)), float(max(y0, y1)))
        return PromptSet(self.points, box)


@dataclass(frozen=True)
class ImageEmbedding:
    """A prompt model's image encoder output for one image (picklable numpy): ``features`` (C × g × g
    float32), the image's size, the model frame's size and the model that made it; for the SAM 2 family
    also its higher-resolution feature maps (finest first), which its mask decoder takes too, and
    ``stretch`` (the image filled the frame instead of being padded)."""

    features: np.ndarray
    height: int
    width: int
    long_side: int
    model: str
    high_res: tuple[np.ndarray, ...] = ()
    stretch: bool = False


def resized_shape(height: int, width: int, long_side: int = LONG_SIDE, stretch: bool = False) -> tuple[int, int]:
    """The (height, width) an image takes in the model frame: its longer side becomes ``long_side``,
    rounded as SAM rounds (``int(side * scale + 0.5)``), never below one pixel; with ``stretch`` the
    whole frame."""
    if height <= 0 or width <= 0:
        raise ValueError(f"an image of {width}×{height} pixels has no content")
    if stretch:
        return long_side, long_side
    scale = long_side / max(height, width)
    return max(1, int(height * scale + 0.5)), max(1, int(width * scale + 0.5))


def to_model_frame(xy: np.ndarray, height: int, width: int, long_side: int = LONG_SIDE,
                   stretch: bool = False) -> np.ndarray:
    """Image coordinates (``[..., 2]`` as x, y) → model-frame coordinates (same convention: continuous)."""
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    scale = np.array([new_w / width, new_h / height], dtype=np.float64)
    return np.asarray(xy, dtype=np.float64) * scale


def from_model_frame(xy: np.ndarray, height: int, width: int, long_side: int = LONG_SIDE,
                     stretch: bool = False) -> np.ndarray:
    """Model-frame coordinates → image coordinates (the inverse of :func:`to_model_frame`)."""
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    scale = np.array([width / new_w, height / new_h], dtype=np.float64)
    return np.asarray(xy, dtype=np.float64) * scale


def prompt_arrays(prompts: PromptSet, height: int, width: int, long_side: int = LONG_SIDE,
                  stretch: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The prompt in the model frame: points ``(n, 2)`` float32, labels ``(n,)`` int64 (1 positive, 0
    negative) and the box ``(4,)`` float32 or None. Points outside the image are clipped to its edge."""
    points = np.array([(x, y) for x, y, _ in prompts.points], dtype=np.float64).reshape(-1, 2)
    points = np.clip(points, 0.0, [width, height])
    labels = np.array([1 if positive else 0 for _, _, positive in prompts.points], dtype=np.int64)
    box = None
    if prompts.box is not None:
        corners = np.clip(np.array(prompts.box, dtype=np.float64).reshape(2, 2), 0.0, [width, height])
        box = to_model_frame(corners, height, width, long_side, stretch).reshape(4).astype(np.float32)
    return to_model_frame(points, height, width, long_side, stretch).astype(np.float32), labels, box


def image_to_frame(image: np.ndarray, long_side: int = LONG_SIDE, stretch: bool = False) -> np.ndarray:
    """An RGB image resized into the model frame (``long_side`` square, padded with zeros at the right
    and bottom unless ``stretch``), as float32 RGB in 0–255. Area averaging when shrinking either side
    (no aliasing), bilinear when growing both."""
    height, width = image.shape[:2]
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    interpolation = cv2.INTER_AREA if new_h < height or new_w < width else cv2.INTER_LINEAR
    resized = cv2.resize(np.ascontiguousarray(image[..., :3]), (new_w, new_h), interpolation=interpolation)
    frame = np.zeros((long_side, long_side, 3), dtype=np.float32)
    frame[:new_h, :new_w] = resized
    return frame


def frame_region(height: int, width: int, size: int, long_side: int = LONG_SIDE,
                 stretch: bool = False) -> tuple[float, float]:
    """How much of a ``size`` × ``size`` logits grid over the model frame the image covers: (rows, cols)."""
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    return new_h * size / long_side, new_w * size / long_side


def logits_to_image(logits: np.ndarray, height: int, width: int, long_side: int = LONG_SIDE,
                    stretch: bool = False) -> np.ndarray:
    """Low-resolution mask logits over the model frame (``S × S``) → float32 logits at the image's size.

    As SAM does: upsampled to the frame (bilinear), cropped to the image's part, resized to the image."""
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    frame = cv2.resize(logits, (long_side, long_side), interpolation=cv2.INTER_LINEAR)
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    return cv2.resize(frame[:new_h, :new_w], (width, height), interpolation=cv2.INTER_LINEAR)


def logits_to_mask(logits: np.ndarray, height: int, width: int, long_side: int = LONG_SIDE,
                   stretch: bool = False) -> CroppedMask:
    """The mask (logits > 0) at the image's size, cropped to its box: what :func:`logits_to_image` gives,
    thresholded, but only the image pixels whose bilinear sources touch a positive frame pixel are resampled
    (a bilinear value is positive only if one of its sources is), so a 48-megapixel photo costs what the
    object covers. Separable bilinear interpolation with the same sample positions and border replication."""
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    new_h, new_w = resized_shape(height, width, long_side, stretch)
    frame = cv2.resize(logits, (long_side, long_side), interpolation=cv2.INTER_LINEAR)[:new_h, :new_w]
    positive = frame > 0
    rows, cols = np.flatnonzero(positive.any(axis=1)), np.flatnonzero(positive.any(axis=0))
    if not rows.size:
        return CroppedMask(0, 0, np.zeros((0, 0), bool))
    y_lo, y_hi, y_w = _samples(height, new_h)
    x_lo, x_hi, x_w = _samples(width, new_w)
    ys = np.flatnonzero((y_hi >= rows[0]) & (y_lo <= rows[-1]))
    xs = np.flatnonzero((x_hi >= cols[0]) & (x_lo <= cols[-1]))
    if not ys.size or not xs.size:  # no image pixel samples the positive part (a tiny image): no mask
        return CroppedMask(0, 0, np.zeros((0, 0), bool))
    y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
    y_lo, y_hi, y_w = y_lo[y0:y1], y_hi[y0:y1], y_w[y0:y1, None]
    top = int(y_lo.min())
    band = frame[top:int(y_hi.max()) + 1]
    # The needed frame rows at the image's columns: OpenCV's resize along x alone (rows unchanged) samples
    # where the full resize does, several times faster than gathering columns in numpy.
    across = cv2.resize(band, (width, band.shape[0]), interpolation=cv2.INTER_LINEAR)[:, x0:x1]
    values = across[y_lo - top] * (1 - y_w) + across[y_hi - top] * y_w
    crop = CroppedMask.from_full(values > 0)
    return CroppedMask(int(x0) + crop.x, int(y0) + crop.y, crop.mask)


def _samples(size: int, source: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``size`` output pixels resampled from ``source`` pixels (bilinear, pixel centres aligned,
    borders replicated): the two source indices and the weight of the second."""
    position = np.clip((np.arange(size) + 0.5) * (source / size) - 0.5, 0, source - 1)
    low = np.floor(position).astype(np.intp)
    return low, np.minimum(low + 1, source - 1), (position - low).astype(np.float32)
