"""Deterministic colours: a colour is a function of a category id or a segment id, never random.

Class colours come from a fixed table of well-separated colours (Detectron2/COCO-style) and, past
its end, from golden-ratio hue steps. Instance colours are jittered around their class colour so that
neighbouring instances of one class stay distinguishable while keeping the class recognisable.
"""

from __future__ import annotations

import colorsys

import numpy as np

RGB = tuple[int, int, int]

# A hand-picked table of distinct, saturated colours (the first entries matter most: small datasets).
_BASE_COLORS: tuple[RGB, ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
    (0, 128, 128),
    (220, 190, 255),
    (170, 110, 40),
    (255, 250, 200),
    (128, 0, 0),
    (170, 255, 195),
    (128, 128, 0),
    (255, 215, 180),
    (0, 0, 128),
    (128, 128, 128),
)
_GOLDEN = 0.618033988749895


def class_color(category_id: int) -> RGB:
    """The default colour of a category id (1-based ids start at the table's first colour)."""
    index = max(int(category_id) - 1, 0)
    if index < len(_BASE_COLORS):
        return _BASE_COLORS[index]
    hue = (index * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65 + 0.3 * ((index * 7) % 3) / 2, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def instance_color(segment_id: int, base: RGB) -> RGB:
    """A colour for one instance: its class colour shifted in hue and lightness by the segment id."""
    r, g, b = (c / 255.0 for c in base)
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    step = int(segment_id)
    hue = (hue + ((step * _GOLDEN) % 1.0 - 0.5) * 0.22) % 1.0
    light = min(max(light + (((step * 37) % 11) / 10.0 - 0.5) * 0.35, 0.25), 0.8)
    sat = min(max(sat, 0.55), 1.0)
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def parse_color(value: object) -> RGB:
    """Accept [r, g, b] or '#rrggbb' and return an RGB tuple; raise ValueError otherwise."""
    if isinstance(value, str):
        text = value.lstrip("#")
        if len(text) != 6:
            raise ValueError(f"colour {value!r} is not of the form #rrggbb")
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    if isinstance(value, (list, tuple)) and len(value) == 3:
        rgb = tuple(int(c) for c in value)
        if all(0 <= c <= 255 for c in rgb) and all(float(c) == int(c) for c in value):
            return rgb  # type: ignore[return-value]
    raise ValueError(f"colour {value!r} is not [r, g, b] with 0..255 integers")


def lut_from_colors(colors: dict[int, RGB], alpha: int = 255) -> np.ndarray:
    """An RGBA lookup table (max_id + 1, 4) uint8; index 0 and unknown ids are transparent."""
    size = max(colors, default=0) + 1
    lut = np.zeros((size, 4), dtype=np.uint8)
    for key, rgb in colors.items():
        lut[key, :3] = rgb
        lut[key, 3] = alpha
    return lut
