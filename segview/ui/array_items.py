"""Graphics items that paint numpy arrays, rendering only the exposed region at screen resolution.

A 10000×10000 image or label map stays responsive: when zoomed out, labels are sampled with a stride
(nearest neighbour, exact for labels) and the image comes from a lazily built area-averaged pyramid;
when zoomed in, only the visible pixels are converted. The last rendering is cached, so toggling
another layer does not re-render this one.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from segview.core.render import OverlayMode, render_overlay


def _stride_for(level_of_detail: float) -> int:
    """Power-of-two sampling step for a view scale (1 when zoomed in or at 1:1)."""
    if level_of_detail >= 1.0 or level_of_detail <= 0:
        return 1
    return 2 ** int(math.floor(math.log2(1.0 / level_of_detail)))


def _visible_box(item: QGraphicsItem, option: QStyleOptionGraphicsItem, stride: int, height: int, width: int):
    rect = option.exposedRect.intersected(item.boundingRect())
    x0 = max(int(math.floor(rect.left() / stride)) * stride, 0)
    y0 = max(int(math.floor(rect.top() / stride)) * stride, 0)
    x1 = min(int(math.ceil(rect.right())), width)
    y1 = min(int(math.ceil(rect.bottom())), height)
    return x0, y0, x1, y1


class _ArrayItem(QGraphicsItem):
    """Shared painting: subclasses turn (box, stride) into an RGBA or RGB uint8 array."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._height = 0
        self._width = 0
        self._version = 0
        self._cache_key: tuple | None = None
        self._cache_image: QImage | None = None
        self._cache_pixels: np.ndarray | None = None

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return QRectF(0, 0, self._width, self._height)

    def _changed(self, height: int, width: int) -> None:
        if (height, width) != (self._height, self._width):
            self.prepareGeometryChange()
            self._height, self._width = height, width
        self._version += 1
        self._cache_key = None
        self.update()

    def _render(self, x0: int, y0: int, x1: int, y1: int, stride: int) -> np.ndarray | None:
        raise NotImplementedError

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._width == 0:
            return
        stride = _stride_for(option.levelOfDetailFromTransform(painter.worldTransform()))
        x0, y0, x1, y1 = _visible_box(self, option, stride, self._height, self._width)
        if x1 <= x0 or y1 <= y0:
            return
        key = (x0, y0, x1, y1, stride, self._version)
        if key != self._cache_key:
            pixels = self._render(x0, y0, x1, y1, stride)
            if pixels is None:
                return
            self._cache_pixels = np.ascontiguousarray(pixels)  # the QImage borrows this memory
            self._cache_image = _to_qimage(self._cache_pixels)
            self._cache_key = key
        image = self._cache_image
        target = QRectF(x0, y0, image.width() * stride, image.height() * stride)
        painter.drawImage(target, image)


class ImageItem(_ArrayItem):
    """An (h, w, 3) uint8 RGB image with a lazily built pyramid for zoomed-out views."""

    def __init__(self) -> None:
        super().__init__()
        self._levels: dict[int, np.ndarray] = {}

    def set_image(self, rgb: np.ndarray | None) -> None:
        self._levels = {} if rgb is None else {1: np.ascontiguousarray(rgb)}
        h, w = (0, 0) if rgb is None else rgb.shape[:2]
        self._changed(h, w)

    def level(self, stride: int) -> np.ndarray:
        """The image downscaled by ``stride`` (area averaging), built once per stride."""
        if stride not in self._levels:
            base = self.level(stride // 2)
            size = (max(1, base.shape[1] // 2), max(1, base.shape[0] // 2))
            self._levels[stride] = cv2.resize(base, size, interpolation=cv2.INTER_AREA)
        return self._levels[stride]

    def _render(self, x0, y0, x1, y1, stride):
        level = self.level(stride)
        return level[y0 // stride : -(-y1 // stride), x0 // stride : -(-x1 // stride)]


class LabelItem(_ArrayItem):
    """A label map painted through an RGBA lookup table, filled, outlined or both."""

    def __init__(self) -> None:
        super().__init__()
        self._labels: np.ndarray | None = None
        self._lut = np.zeros((1, 4), np.uint8)
        self._mode = OverlayMode.FILL
        self._fill_alpha = 255
        self.hidden_ids: set[int] = set()

    @property
    def labels(self) -> np.ndarray | None:
        return self._labels

    def set_labels(self, labels: np.ndarray | None, lut: np.ndarray) -> None:
        self._labels = labels
        self._lut = lut
        h, w = (0, 0) if labels is None else labels.shape
        self._changed(h, w)

    def set_style(self, mode: OverlayMode, fill_alpha: int = 255) -> None:
        """Fill, outline or both; ``fill_alpha`` fades the fill under crisp outlines in 'both'."""
        self._mode, self._fill_alpha = OverlayMode(mode), int(fill_alpha)
        self._changed(self._height, self._width)

    def set_hidden(self, ids: set[int]) -> None:
        """Label values not to draw (e.g. classes unticked in the legend)."""
        self.hidden_ids = set(ids)
        self._changed(self._height, self._width)

    def set_lut(self, lut: np.ndarray, *, repaint_all: bool = True) -> None:
        """A new lookup table over the same labels (the segment table changed). ``repaint_all=False``
        when the entries that changed are only used inside a box that ``changed_region`` repaints next."""
        self._lut = lut
        if repaint_all:
            self._changed(self._height, self._width)

    def changed_region(self, top: int, left: int, height: int, width: int) -> None:
        """The labels changed inside this box (they were edited in place): re-render only that part of
        the cached rendering and repaint only that rectangle."""
        pad = 1  # outlines of the neighbouring pixels may change too
        key, pixels = self._cache_key, self._cache_pixels
        if key is not None and pixels is not None and self._labels is not None:
            cx0, cy0, cx1, cy1, stride, _version = key
            rows, cols = pixels.shape[:2]
            i0 = max(-(-(top - cy0) // stride) - pad, 0)
            i1 = min(-(-(top + height - cy0) // stride) + pad, rows)
            j0 = max(-(-(left - cx0) // stride) - pad, 0)
            j1 = min(-(-(left + width - cx0) // stride) + pad, cols)
            if i1 > i0 and j1 > j0:
                # One more sample on each side gives the outline its context, then it is cut off.
                a0, a1, b0, b1 = max(i0 - 1, 0), min(i1 + 1, rows), max(j0 - 1, 0), min(j1 + 1, cols)
                sub = self._labels[cy0 + a0 * stride : cy0 + a1 * stride : stride,
                                   cx0 + b0 * stride : cx0 + b1 * stride : stride]
                rgba = render_overlay(sub, self._lut_shown(), self._mode, self._fill_alpha)
                pixels[i0:i1, j0:j1] = rgba[i0 - a0 : i1 - a0, j0 - b0 : j1 - b0]
        self.update(QRectF(left - pad, top - pad, width + 2 * pad, height + 2 * pad))

    def _lut_shown(self) -> np.ndarray:
        if not self.hidden_ids:
            return self._lut
        lut = self._lut.copy()
        lut[[i for i in self.hidden_ids if i < len(lut)], 3] = 0
        return lut

    def _render(self, x0, y0, x1, y1, stride):
        if self._labels is None:
            return None
        sub = self._labels[y0:y1:stride, x0:x1:stride]
        return render_overlay(sub, self._lut_shown(), self._mode, self._fill_alpha)


def _to_qimage(pixels: np.ndarray) -> QImage:
    """A QImage over a C-contiguous array's memory (the caller keeps the array alive). RGBA8888 / RGB888
    are kept on purpose: Qt draws the 32-bit native formats filtered at some zooms (labels must stay
    exact), though they would draw faster."""
    h, w = pixels.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if pixels.shape[2] == 4 else QImage.Format.Format_RGB888
    return QImage(pixels.data, w, h, pixels.strides[0], fmt)
