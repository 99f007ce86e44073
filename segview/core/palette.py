"""Deterministic colours: a colour is a function of a category id or a segment id, never random.

Class colours come from a fixed table of well-separated colours (Detectron2/COCO-style) and, past
its end, from golden-ratio hue steps. An object's colour is its class colour shaded by a key (its segment
id, or a prediction's detection rank): instances of one class stay distinguishable, the class stays
recognisable, and the same object has the same colour in the instance and panoptic views
(docs/adr/0008-overlay-colours.md).
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


def instance_color(key: int, base: RGB) -> RGB:
    """One object's shade of its class colour, as Detectron2's visualizer jitters it, but a function of
    ``key`` (a segment id, or a detection's rank): never random, the same on every redraw and in every
    pane. The lightness moves by 0.12–0.3 (golden-ratio steps, so consecutive keys differ by at least
    0.07) and the hue by up to ±0.05, so an object reads as its class yet differs from the class's pure
    colour (the semantic view) and from its neighbours."""
    r, g, b = (c / 255.0 for c in base)
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    step = int(key)
    offset = ((step * _GOLDEN) % 1.0 - 0.5) * 0.36  # -0.18 .. 0.18
    offset += 0.12 if offset >= 0 else -0.12  # never close to the class colour itself
    if not 0.18 <= light + offset <= 0.88:
        offset = -offset  # darker instead of white, lighter instead of black
    light = min(max(light + offset, 0.1), 0.92)
    hue = (hue + ((step * _GOLDEN * _GOLDEN) % 1.0 - 0.5) * 0.1) % 1.0
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
