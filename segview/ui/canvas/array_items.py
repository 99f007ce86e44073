"""Graphics items that paint numpy arrays, rendering only the exposed region.

Zoomed out (and at 1:1) an item renders exactly the screen pixels it covers and blits them unscaled:
labels are sampled nearest-neighbour (exact labels, see segview.core.sampling), the image is resampled
from a lazily built area-averaged pyramid. A 10000×10000 image or label map stays responsive.
Zoomed in, only the visible source pixels are converted and Qt scales them up (no smoothing). The last
rendering is cached, so toggling another layer does not re-render this one.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from segview.core.render import OverlayMode, PixelFormat, colour_table, render_sampled
from segview.core.sampling import SampleGrid


def _stride_for(scale: float) -> int:
    """Power-of-two pyramid step for a view scale (1 when zoomed in or at 1:1)."""
    if scale >= 1.0 or scale <= 0:
        return 1
    return 2 ** int(math.floor(math.log2(1.0 / scale)))


@dataclass(frozen=True)
class _View:
    """Where a rendering goes: output pixel (i, j) lies at screen (or item) position
    (origin + (j, i)), and a source point p at ``p * scale + offset`` there."""

    on_screen: bool  # device pixels, blitted unscaled; else source pixels drawn in item coordinates
    grid: SampleGrid
    origin: tuple[int, int]
    scale: tuple[float, float] = (1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)

    def item_rect(self, i0: int, i1: int, j0: int, j1: int) -> QRectF:
        """The item-coordinate rectangle of output rows [i0, i1) and columns [j0, j1)."""
        (u0, v0), (sx, sy), (tx, ty) = self.origin, self.scale, self.offset
        left, top = (u0 + j0 - tx) / sx, (v0 + i0 - ty) / sy
        return QRectF(left, top, (j1 - j0) / sx, (i1 - i0) / sy)


def _view_key(item: QGraphicsItem, painter: QPainter, option: QStyleOptionGraphicsItem) -> tuple:
    """What decides the view of the exposed part of ``item``: on screen, the device box and the
    transform; else the visible source box."""
    exposed = option.exposedRect.intersected(item.boundingRect())
    # The widget's own device pixels: the world transform scaled by the pixel ratio. (deviceTransform()
    # would add where the widget sits in its window, which the blit adds again.)
    ratio = painter.device().devicePixelRatioF()
    transform = painter.worldTransform() * QTransform.fromScale(ratio, ratio)
    sx, sy = transform.m11(), transform.m22()
    if transform.type().value <= QTransform.TransformationType.TxScale.value and 0 < sx <= 1 and 0 < sy <= 1:
        rect = transform.mapRect(exposed)
        box = (math.floor(rect.left()), math.floor(rect.top()), math.ceil(rect.right()), math.ceil(rect.bottom()))
        return "screen", box, (sx, sy), (transform.dx(), transform.dy())
    return "source", (math.floor(exposed.left()), math.floor(exposed.top()),
                      math.ceil(exposed.right()), math.ceil(exposed.bottom()))


def _view_for(key: tuple, height: int, width: int) -> _View | None:
    """The view a ``_view_key`` describes over (height, width) source pixels; None when empty."""
    if key[0] == "screen":
        _, box, scale, offset = key
        grid, origin = SampleGrid.for_screen(box, scale, offset, (height, width))
        return _View(True, grid, origin, scale, offset) if min(grid.shape) > 0 else None
    x0, y0, x1, y1 = key[1]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    return _View(False, SampleGrid.regular(y0, y1, x0, x1), (x0, y0)) if x1 > x0 and y1 > y0 else None


class _ArrayItem(QGraphicsItem):
    """Shared painting: subclasses turn a view into pixels (uint8 channels or packed uint32 words) and
    their QImage format."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._height = 0
        self._width = 0
        self._version = 0
        self._cache_key: tuple | None = None
        self._view_key: tuple | None = None  # the view is kept while the geometry stays
        self._cache_view: _View | None = None
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

    def _render(self, view: _View) -> tuple[np.ndarray, QImage.Format] | None:
        raise NotImplementedError

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._width == 0:
            return
        view_key = _view_key(self, painter, option)
        if (view_key, self._height, self._width) != self._view_key:
            self._view_key = (view_key, self._height, self._width)
            self._cache_view, self._cache_key = _view_for(view_key, self._height, self._width), None
        view = self._cache_view
        if view is None:
            return
        key = (self._view_key, self._version)
        if key != self._cache_key:
            rendered = self._render(view)
            if rendered is None:
                return
            pixels, image_format = rendered
            self._cache_pixels = np.ascontiguousarray(pixels)  # the QImage borrows this memory
            self._cache_image = _to_qimage(self._cache_pixels, image_format)
            self._cache_key = key
        image = self._cache_image
        if view.on_screen:
            # One screen pixel per array pixel: a plain blit, with no scaling and no filtering.
            ratio = painter.device().devicePixelRatioF()
            image.setDevicePixelRatio(ratio)
            painter.save()
            painter.resetTransform()
            painter.drawImage(QPointF(view.origin[0] / ratio, view.origin[1] / ratio), image)
            painter.restore()
        else:
            painter.drawImage(QRectF(view.origin[0], view.origin[1], image.width(), image.height()), image)


class ImagePyramid:
    """An (h, w, 3) uint8 RGB image and its area-averaged power-of-two reductions, built on demand.

    Every item given the same array shares one pyramid (the compare panes and the main canvas build the
    reductions of a 48-megapixel photo once, not four times). A *preview* pyramid holds only a reduced
    decode of an image of ``shape``: it draws as that image, coarser, until the full one replaces it.
    """

    _shared: weakref.WeakValueDictionary[int, ImagePyramid] = weakref.WeakValueDictionary()

    def __init__(self, finest: np.ndarray, shape: tuple[int, int], stride: int = 1) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.source = finest
        self._finest = stride
        self._levels: dict[int, np.ndarray] = {stride: np.ascontiguousarray(finest)}

    @classmethod
    def of(cls, rgb: np.ndarray) -> ImagePyramid:
        """The pyramid of a full-resolution image (the one already built for this array, if any)."""
        shared = cls._shared.get(id(rgb))
        if shared is not None and shared.source is rgb:
            return shared
        pyramid = cls(rgb, rgb.shape[:2])
        cls._shared[id(rgb)] = pyramid
        return pyramid

    @classmethod
    def preview(cls, reduced: np.ndarray, shape: tuple[int, int]) -> ImagePyramid:
        """A stand-in for an image of ``shape`` (h, w) from a reduced decode of it."""
        factor = max(shape[0] / reduced.shape[0], shape[1] / reduced.shape[1], 1.0)
        return cls(reduced, shape, 2 ** int(math.floor(math.log2(factor))))

    @property
    def complete(self) -> bool:
        """Whether the full-resolution image is there (not only a preview)."""
        return self._finest == 1

    def level(self, stride: int) -> np.ndarray:
        """The image downscaled by about ``stride`` (area averaging), built once per stride; a preview's
        strides finer than its own give the preview itself."""
        if stride <= self._finest:
            return self._levels[self._finest]
        if stride not in self._levels:
            base = self.level(stride // 2)
            size = (max(1, base.shape[1] // 2), max(1, base.shape[0] // 2))
            self._levels[stride] = cv2.resize(base, size, interpolation=cv2.INTER_AREA)
        return self._levels[stride]


class ImageItem(_ArrayItem):
    """An RGB image (an array, or a possibly preview ``ImagePyramid``) drawn from its pyramid."""

    def __init__(self) -> None:
        super().__init__()
        self.pyramid: ImagePyramid | None = None

    def set_image(self, image: np.ndarray | ImagePyramid | None) -> None:
        if isinstance(image, np.ndarray):
            image = ImagePyramid.of(image)
        self.pyramid = image
        h, w = (0, 0) if image is None else image.shape
        self._changed(h, w)

    def level(self, stride: int) -> np.ndarray:
        """The image downscaled by ``stride`` (see ``ImagePyramid.level``)."""
        return self.pyramid.level(stride)

    def _render(self, view):
        complete = self.pyramid.complete
        if not view.on_screen:
            if complete:
                return view.grid.sample(self.level(1)), QImage.Format.Format_RGB888
            rows, cols = view.grid.rows, view.grid.cols  # a regular box of source pixels
            return self._resampled(self.level(1), (1.0, 1.0), (-float(cols[0]), -float(rows[0])), (0, 0),
                                   (len(rows), len(cols)), cv2.COLOR_RGB2RGBA), QImage.Format.Format_RGBA8888
        (sx, sy), (tx, ty), (u0, v0) = view.scale, view.offset, view.origin
        if (sx, sy) == (1.0, 1.0) and complete:  # 1:1, maybe half a pixel off: pixel for pixel, like labels
            return cv2.cvtColor(view.grid.sample(self.level(1)), cv2.COLOR_RGB2BGRA), QImage.Format.Format_RGB32
        level = self.level(_stride_for(max(sx, sy)))
        # B, G, R, 255 bytes are the 0xffRRGGBB words of Format_RGB32 on little-endian machines (all the
        # platforms segview ships for); Qt blits them without a conversion.
        return self._resampled(level, (sx, sy), (tx, ty), (u0, v0), view.grid.shape,
                               cv2.COLOR_RGB2BGRA), QImage.Format.Format_RGB32

    def _resampled(self, level: np.ndarray, scale, offset, origin, shape, conversion: int) -> np.ndarray:
        """Output pixel (j, i) shows the source point under its centre (source p lies at p * scale +
        offset, output pixel (0, 0) at ``origin``), read bilinearly from ``level``."""
        (sx, sy), (tx, ty), (u0, v0) = scale, offset, origin
        kx, ky = level.shape[1] / self._width, level.shape[0] / self._height  # level pixels per source pixel
        to_level = np.array([[kx / sx, 0, (u0 + 0.5 - tx) * kx / sx - 0.5],
                             [0, ky / sy, (v0 + 0.5 - ty) * ky / sy - 0.5]])
        rows, cols = shape
        rgb = cv2.warpAffine(level, to_level, (cols, rows), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REPLICATE)
        return cv2.cvtColor(rgb, conversion)


class LabelItem(_ArrayItem):
    """A label map painted through an RGBA lookup table, filled, outlined or both."""

    def __init__(self) -> None:
        super().__init__()
        self._labels: np.ndarray | None = None
        self._lut = np.zeros((1, 4), np.uint8)
        self._mode = OverlayMode.FILL
        self._fill_alpha = 255
        self._opacity = 1.0
        self.hidden_ids: set[int] = set()

    @property
    def labels(self) -> np.ndarray | None:
        return self._labels

    @property
    def opacity(self) -> float:
        """The layer's opacity (folded into its colours: Qt blends an opaque-painter blit fastest)."""
        return self._opacity

    def set_labels(self, labels: np.ndarray | None, lut: np.ndarray) -> None:
        self._labels = labels
        self._lut = lut
        h, w = (0, 0) if labels is None else labels.shape
        self._changed(h, w)

    def set_style(self, mode: OverlayMode, fill_alpha: int = 255, opacity: float = 1.0) -> None:
        """Fill, outline or both; ``fill_alpha`` fades the fill under crisp outlines in 'both';
        ``opacity`` fades the whole layer."""
        self._mode, self._fill_alpha, self._opacity = OverlayMode(mode), int(fill_alpha), float(opacity)
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
        """The labels changed inside this box (they were edited in place): re-render only the pixels of
        the cached rendering that show it and repaint only those."""
        view, pixels = self._cache_view, self._cache_pixels
        if self._cache_key is None or view is None or pixels is None or self._labels is None:
            self.update(QRectF(left - 1, top - 1, width + 2, height + 2))
            return
        reach = 1  # the outline of a pixel depends on its neighbours, one sample away
        rows, cols = view.grid.shape
        i0, i1 = view.grid.span(0, top, top + height)
        j0, j1 = view.grid.span(1, left, left + width)
        i0, i1, j0, j1 = max(i0 - reach, 0), min(i1 + reach, rows), max(j0 - reach, 0), min(j1 + reach, cols)
        if i1 <= i0 or j1 <= j0:
            return
        # One more sample on each side gives the outline its context, then it is cut off.
        a0, a1, b0, b1 = max(i0 - reach, 0), min(i1 + reach, rows), max(j0 - reach, 0), min(j1 + reach, cols)
        packed = self._packed(view.grid.sub(a0, a1, b0, b1), view.on_screen)
        pixels[i0:i1, j0:j1] = packed[i0 - a0 : i1 - a0, j0 - b0 : j1 - b0]
        self.update(view.item_rect(i0, i1, j0, j1).adjusted(-1, -1, 1, 1))

    def _lut_shown(self) -> np.ndarray:
        if not self.hidden_ids:
            return self._lut
        lut = self._lut.copy()
        lut[[i for i in self.hidden_ids if i < len(lut)], 3] = 0
        return lut

    def _packed(self, grid: SampleGrid, on_screen: bool) -> np.ndarray:
        pixel_format = PixelFormat.ARGB32_PREMULTIPLIED if on_screen else PixelFormat.RGBA8888
        table = colour_table(self._lut_shown(), self._mode, self._fill_alpha, self._opacity, pixel_format)
        return render_sampled(self._labels, grid, table, self._mode)

    def _render(self, view):
        if self._labels is None:
            return None
        packed = self._packed(view.grid, view.on_screen)
        # Blitted screen pixels are premultiplied ARGB32, which Qt blends without a conversion; scaled
        # drawing keeps RGBA8888, which Qt scales without filtering at every zoom (labels stay exact).
        image_format = QImage.Format.Format_ARGB32_Premultiplied if view.on_screen else QImage.Format.Format_RGBA8888
        return packed, image_format


def _to_qimage(pixels: np.ndarray, image_format: QImage.Format) -> QImage:
    """A QImage over a C-contiguous (h, w) uint32 or (h, w, c) uint8 array's memory (the caller keeps
    the array alive)."""
    h, w = pixels.shape[:2]
    return QImage(pixels.data, w, h, pixels.strides[0], image_format)
