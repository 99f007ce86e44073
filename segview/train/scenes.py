"""Procedural demo scenes with exact panoptic ground truth, to train and show the bundled demo model.

A scene is a sky over ground (grass, water and road areas split by smooth random curves, or a road running
to the horizon) with 2–8 things (balls, crates, trees, stars) drawn back to front. Every shape is
rasterised to a binary mask first and its pixels are coloured only from that mask, so image edges and
label edges coincide exactly: nothing is anti-aliased or blurred across a label boundary.

Category ids: things first (1 ball, 2 crate, 3 tree, 4 star), then stuff (5 sky, 6 grass, 7 water,
8 road), so that a detector's contiguous thing labels 1..4 are the category ids themselves. Each stuff
class visible in a scene is one segment (as in COCO panoptic); each visible thing is its own segment.
Numpy and OpenCV only; deterministic per seed.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from segview.core.categories import Category, CategorySet
from segview.core.segments import Annotation, Segment, Source

BALL, CRATE, TREE, STAR, SKY, GRASS, WATER, ROAD = range(1, 9)
THING_IDS = (BALL, CRATE, TREE, STAR)
STUFF_IDS = (SKY, GRASS, WATER, ROAD)

DEMO_CATEGORIES = CategorySet(
    [
        Category(BALL, "ball", isthing=True, color=(229, 57, 53), supercategory="toy"),
        Category(CRATE, "crate", isthing=True, color=(255, 143, 0), supercategory="object"),
        Category(TREE, "tree", isthing=True, color=(27, 94, 32), supercategory="plant"),
        Category(STAR, "star", isthing=True, color=(255, 214, 0), supercategory="toy"),
        Category(SKY, "sky", isthing=False, color=(129, 212, 250), supercategory="sky"),
        Category(GRASS, "grass", isthing=False, color=(139, 195, 74), supercategory="ground"),
        Category(WATER, "water", isthing=False, color=(21, 101, 192), supercategory="water"),
        Category(ROAD, "road", isthing=False, color=(97, 97, 97), supercategory="ground"),
    ]
)

CONE = 9
"""A thing the demo model never saw: scenes draw cones only when asked (``cones=True``; bench/finetune.py
teaches the demo model this class), so the demo model's own scenes are unchanged."""
CONE_CATEGORY = Category(CONE, "cone", isthing=True, color=(156, 39, 176), supercategory="object")
CONE_CATEGORIES = CategorySet([*DEMO_CATEGORIES, CONE_CATEGORY])
"""The demo's categories and the cone: the categories of scenes generated with ``cones=True``."""

MIN_SEGMENT_AREA = 30
"""No segment is smaller than this (pixels): smaller visible remnants go to what lies on top or under."""

THING_COUNT = (2, 8)
THING_SIZE = (0.04, 0.35)
"""Size of a thing as a fraction of the image's shorter side."""


def generate_scene(
    seed: int, height: int = 320, width: int = 320, *, cones: bool = False
) -> tuple[np.ndarray, Annotation]:
    """An (h, w, 3) uint8 RGB scene and its exact panoptic Annotation; the same seed gives the same scene.
    With ``cones`` a thing is a traffic cone as often as each other thing class (``CONE_CATEGORIES``)."""
    rng = np.random.default_rng(seed)
    ground = _ground(rng, height, width)
    things = _things(rng, ground, height, width, cones)
    stuff, things, owner = _resolve(ground.stuff, things)
    image = _render(rng, ground, stuff, things, owner)
    return image, _annotation(stuff, things, owner)


def generate_dataset(
    seeds: Iterable[int], height: int = 320, width: int = 320, *, cones: bool = False
) -> Iterator[tuple[str, np.ndarray, Annotation]]:
    """Yield (file name, image, annotation) per seed; the name is ``scene_{seed:05d}.png``."""
    for seed in seeds:
        image, annotation = generate_scene(seed, height, width, cones=cones)
        yield scene_file_name(seed), image, annotation


def scene_file_name(seed: int) -> str:
    """The file name of a scene, from which its ground truth can be regenerated."""
    return f"scene_{seed:05d}.png"


def write_demo_images(
    out_dir: str | Path, count: int = 6, seed: int = 2024, height: int = 480, width: int = 640
) -> list[Path]:
    """Write scenes of seeds ``seed``, ``seed + 1``, ... as PNG images (no labels) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image, _ in generate_dataset(range(seed, seed + count), height, width):
        path = out / name
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f"could not write {path}")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------- helpers


def _hsv(hue_deg: float, sat: float, val: float) -> np.ndarray:
    """An RGB colour (float32, 0..255) from hue in degrees and saturation, value in 0..1."""
    r, g, b = colorsys.hsv_to_rgb((hue_deg / 360.0) % 1.0, min(max(sat, 0.0), 1.0), min(max(val, 0.0), 1.0))
    return np.array([r, g, b], dtype=np.float32) * 255.0


def _noise(rng: np.random.Generator, height: int, width: int, cell_y: float, cell_x: float) -> np.ndarray:
    """Smooth noise of about unit amplitude: a coarse Gaussian grid upsampled bicubically."""
    gh = max(2, int(round(height / cell_y)) + 2)
    gw = max(2, int(round(width / cell_x)) + 2)
    grid = rng.standard_normal((gh, gw), dtype=np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def _curve(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """A smooth random curve of ``n`` samples: a few sines, within about ±amplitude."""
    x = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out = np.zeros(n, dtype=np.float32)
    for k in range(1, 4):
        out += rng.uniform(-1.0, 1.0) / k * np.sin(2 * np.pi * (rng.uniform(0.3, 1.2) * k * x + rng.random()))
    return amplitude * out / 1.6


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# --------------------------------------------------------------------------------------------- stuff


@dataclass
class _Ground:
    """The stuff layout: a category per pixel, the horizon, and the geometry of the road markings."""

    stuff: np.ndarray  # (h, w) uint8 stuff category id per pixel
    horizon: np.ndarray  # (w,) row of the horizon per column
    road_centre: np.ndarray | None = None  # (h,) column of a road strip's centre line per row
    road_half: np.ndarray | None = None  # (h,) half width of that strip per row
    road_top: float = 0.0  # row where the strip starts (its vanishing end)


def _ground(rng: np.random.Generator, h: int, w: int) -> _Ground:
    """Sky above a wavy horizon; below it 1–3 bands of grass/water/road, or a road strip over grass."""
    horizon = np.clip(h * rng.uniform(0.25, 0.5) + _curve(rng, w, h * rng.uniform(0.0, 0.06)), 4, h * 0.6)
    rows = np.arange(h, dtype=np.float32)[:, None]
    strip = rng.random() < 0.45
    if strip:
        bands = [WATER, GRASS] if rng.random() < 0.4 else [GRASS]
    else:
        count = rng.choice([1, 2, 3], p=[0.2, 0.5, 0.3])
        bands = [int(c) for c in rng.permutation([GRASS, WATER, ROAD])[:count]]
    stuff = np.full((h, w), SKY, dtype=np.uint8)
    top = horizon
    cuts = np.sort(rng.uniform(0.15, 0.75, len(bands) - 1))
    for k, category in enumerate(bands):
        stuff[rows >= top[None, :]] = category
        if k < len(cuts):
            nxt = horizon + cuts[k] * (h - horizon) + _curve(rng, w, h * 0.05)
            top = np.maximum(nxt, top + max(3.0, 0.06 * h))
    ground = _Ground(stuff, horizon)
    if strip:
        _add_road_strip(rng, ground, top, h, w)
    return ground


def _add_road_strip(rng: np.random.Generator, ground: _Ground, top: np.ndarray, h: int, w: int) -> None:
    """A road from the top of the last band (its vanishing end) to the bottom edge, widening with depth."""
    start, end = w * rng.uniform(0.2, 0.8), w * rng.uniform(0.05, 0.95)
    row0 = float(top[int(start)]) - 1.0
    t = np.clip((np.arange(h, dtype=np.float32) - row0) / max(h - row0, 1.0), 0.0, 1.0)
    centre = start + (end - start) * t + w * rng.uniform(-0.25, 0.25) * 4 * t * (1 - t)
    half = w * (0.004 + rng.uniform(0.12, 0.28) * t**1.2)
    cols = np.arange(w, dtype=np.float32)[None, :]
    road = (np.abs(cols - centre[:, None]) <= half[:, None]) & (ground.stuff == GRASS)
    road &= np.arange(h)[:, None] >= row0
    ground.stuff[road] = ROAD
    ground.road_centre, ground.road_half, ground.road_top = centre, half, row0


def _stuff_texture(rng: np.random.Generator, category: int, ground: _Ground, h: int, w: int) -> np.ndarray:
    """The (h, w, 3) float32 texture of one stuff class over the whole frame."""
    painter = {SKY: _sky, GRASS: _grass, WATER: _water, ROAD: _road}[category]
    return painter(rng, ground, h, w)


def _depth(ground: _Ground, h: int) -> np.ndarray:
    """(h, w) distance below the horizon: 0 at the horizon, 1 at the bottom edge."""
    rows = np.arange(h, dtype=np.float32)[:, None]
    return np.clip((rows - ground.horizon[None, :]) / np.maximum(h - ground.horizon[None, :], 1.0), 0.0, 1.0)


def _sky(rng: np.random.Generator, ground: _Ground, h: int, w: int) -> np.ndarray:
    zenith = _hsv(rng.uniform(198, 225), rng.uniform(0.45, 0.75), rng.uniform(0.7, 0.9))
    low = _hsv(rng.uniform(185, 215), rng.uniform(0.08, 0.25), rng.uniform(0.9, 1.0))
    t = np.clip(np.arange(h, dtype=np.float32) / max(float(ground.horizon.max()), 1.0), 0.0, 1.0) ** 0.8
    sky = zenith[None, None, :] * (1 - t)[:, None, None] + low[None, None, :] * t[:, None, None]
    sky = np.broadcast_to(sky, (h, w, 3))
    cloud = _noise(rng, h, w, h * 0.14, w * 0.3) + 0.45 * _noise(rng, h, w, h * 0.05, w * 0.1)
    cover, opacity = rng.uniform(0.2, 1.4), rng.uniform(0.6, 0.95)
    alpha = _smoothstep((cloud - cover) / 0.7) * opacity * (1 - 0.7 * t[:, None])
    cloud_rgb = (248.0 - 30.0 * np.clip(_noise(rng, h, w, h * 0.04, w * 0.08), 0.0, 1.0))[..., None]
    return sky * (1 - alpha[..., None]) + cloud_rgb * alpha[..., None]


def _grass(rng: np.random.Generator, ground: _Ground, h: int, w: int) -> np.ndarray:
    base = _hsv(rng.uniform(78, 112), rng.uniform(0.45, 0.7), rng.uniform(0.5, 0.72))
    shade = 1 + 0.1 * _noise(rng, h, w, h * 0.2, w * 0.2) + 0.07 * _noise(rng, h, w, h * 0.03, w * 0.03)
    shade += 0.05 * _noise(rng, h, w, 1.5, 1.0)  # blades
    if rng.random() < 0.4:  # mowing stripes converging to a point on the horizon
        rows = np.arange(h, dtype=np.float32)[:, None]
        cols = np.arange(w, dtype=np.float32)[None, :]
        vx, period = w * rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.2)
        stripes = np.sin(2 * np.pi * (cols - vx) / (period * (rows - ground.horizon.min() + 0.4 * h)))
        shade *= 1 + 0.07 * np.sign(stripes)
    rgb = base[None, None, :] * shade[..., None]
    haze = np.float32(0.35) * (1 - _depth(ground, h)[..., None]) ** 3
    return rgb * (1 - haze) + np.float32(215.0) * haze


def _water(rng: np.random.Generator, ground: _Ground, h: int, w: int) -> np.ndarray:
    hue = rng.uniform(182, 205)
    far = _hsv(hue, rng.uniform(0.35, 0.55), rng.uniform(0.7, 0.85))
    near = _hsv(hue + rng.uniform(-5, 10), rng.uniform(0.65, 0.9), rng.uniform(0.4, 0.58))
    t = np.sqrt(_depth(ground, h))[..., None]
    rgb = far * (1 - t) + near * t
    below = np.maximum(np.arange(h, dtype=np.float32)[:, None] - ground.horizon[None, :], 0.0)
    wobble = _noise(rng, h, w, h * 0.08, w * 0.3) + 0.5 * _noise(rng, h, w, h * 0.03, w * 0.12)
    ripple = np.sin(rng.uniform(80, 120) * np.log(below / h + 0.15) + 1.3 * wobble)
    calm = _smoothstep(_noise(rng, h, w, h * 0.12, w * 0.5) + 0.7)
    glint = (_smoothstep((ripple - 0.72) / 0.28) * calm)[..., None]
    return rgb * (1 - 0.12 * _smoothstep(-ripple)[..., None]) + (255.0 - rgb) * 0.45 * glint


def _road(rng: np.random.Generator, ground: _Ground, h: int, w: int) -> np.ndarray:
    grey = _hsv(rng.uniform(200, 260), rng.uniform(0.02, 0.12), rng.uniform(0.3, 0.45))
    shade = 1 + 0.06 * _noise(rng, h, w, h * 0.1, w * 0.1) + 0.06 * _noise(rng, h, w, 2.0, 2.0)
    rgb = grey[None, None, :] * shade[..., None]
    paint = _hsv(rng.uniform(45, 52), 0.8, 0.95) if rng.random() < 0.4 else np.full(3, 235.0, np.float32)
    rows = np.arange(h, dtype=np.float32)[:, None]
    cols = np.arange(w, dtype=np.float32)[None, :]
    road = ground.stuff == ROAD
    if ground.road_centre is not None:
        centre, half = ground.road_centre[:, None], ground.road_half[:, None]
        offset = np.abs(cols - centre)
        phase = np.log1p(np.maximum(rows - ground.road_top, 0.0)) * rng.uniform(5.0, 7.0)
        marks = (offset <= half * 0.035) & (np.sin(phase) > 0)
        marks |= np.abs(offset - half * 0.86) <= half * 0.025
    else:  # a band: a dashed line along its middle
        any_road = road.any(axis=0)
        first = np.argmax(road, axis=0)
        last = h - 1 - np.argmax(road[::-1], axis=0)
        middle = np.where(any_road, (first + last) / 2.0, -1e6)[None, :]
        thickness = max(1.0, 0.006 * h) * (0.5 + (middle - ground.horizon.min()) / h)
        marks = (np.abs(rows - middle) <= thickness) & (np.sin(cols * (2 * np.pi / (0.08 * w))) > 0)
    marks &= road
    rgb[marks] = rgb[marks] * 0.15 + paint * shade[marks][:, None] * 0.85
    return rgb


# --------------------------------------------------------------------------------------------- things


@dataclass
class _Thing:
    """A thing's geometry and colour in its own crop, placed with its top-left corner at (y0, x0)."""

    category_id: int
    y0: int
    x0: int
    mask: np.ndarray  # (ch, cw) bool
    rgb: np.ndarray  # (ch, cw, 3) float32
    base: float  # row of its lowest point: the drawing order (farther first)
    shadow: float = 0.0  # half width of its ground shadow (0: flying, none)

    def region(self, h: int, w: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """Image slices of the crop's part inside an h × w image, and the matching crop slices."""
        ch, cw = self.mask.shape
        y0, x0 = max(self.y0, 0), max(self.x0, 0)
        y1, x1 = min(self.y0 + ch, h), min(self.x0 + cw, w)
        y1, x1 = max(y1, y0), max(x1, x0)
        crop = (slice(y0 - self.y0, y1 - self.y0), slice(x0 - self.x0, x1 - self.x0))
        return (slice(y0, y1), slice(x0, x1)), crop


def _things(rng: np.random.Generator, ground: _Ground, h: int, w: int, cones: bool = False) -> list[_Thing]:
    """2–8 things of random class (cones too with ``cones``), size and place, sorted back to front (by the
    row of their base)."""
    side = min(h, w)
    horizon = float(ground.horizon.mean())
    lo, hi = THING_SIZE
    things = []
    for _ in range(rng.integers(THING_COUNT[0], THING_COUNT[1] + 1)):
        category = int(rng.choice((*THING_IDS, CONE) if cones else THING_IDS))
        fraction = rng.uniform(lo, hi)
        size = fraction * side
        x = rng.uniform(0, w)
        if category == STAR:
            y = rng.uniform(0.04 * h, 0.85 * h)
            thing = _star(rng, size, x, y)
        else:  # standing on the ground; big ones tend to be near
            for _attempt in range(8):
                depth = 0.5 * rng.random() + 0.5 * (fraction - lo) / (hi - lo)
                base = horizon + 0.03 * h + depth * (h - horizon) + rng.uniform(0, 0.15 * size)
                on_water = ground.stuff[min(int(base), h - 1), min(int(x), w - 1)] == WATER
                if not on_water or category != TREE:
                    break
                x = rng.uniform(0, w)
            if on_water and category == TREE:  # no land found: trees do not stand in water, balls float
                category = BALL
            thing = {BALL: _ball, CRATE: _crate, TREE: _tree, CONE: _cone}[category](rng, size, x, base)
        things.append(thing)
    things.sort(key=lambda t: t.base)
    return things


def _centred_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[-n : n + 1, -n : n + 1].astype(np.float32)
    return yy, xx


def _outline(mask: np.ndarray, width: int) -> np.ndarray:
    """The inner rim of a mask, ``width`` pixels thick."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=width, borderValue=0)
    return mask & (inner == 0)


def _ball(rng: np.random.Generator, size: float, x: float, base: float) -> _Thing:
    """A shaded disc with a highlight, sometimes with a white band."""
    r = max(size / 2, 3.0)
    n = int(np.ceil(r))
    yy, xx = _centred_grid(n)
    mask = xx * xx + yy * yy <= r * r
    nx, ny = xx / r, yy / r
    nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
    lambert = np.clip(-0.45 * nx - 0.55 * ny + 0.70 * nz, 0, 1)
    light = (0.28 + 0.8 * lambert)[..., None]
    rgb = _hsv(rng.uniform(-14, 5), rng.uniform(0.72, 0.92), rng.uniform(0.82, 0.97)) * light
    if rng.random() < 0.5:
        axis = rng.standard_normal(3)  # the band is a great circle around a random axis
        axis /= np.linalg.norm(axis)
        band = np.abs(nx * axis[0] + ny * axis[1] + nz * axis[2]) < 0.17
        rgb[band] = 240.0 * light[band]
    spot = np.exp(-((nx + 0.35) ** 2 + (ny + 0.42) ** 2) / 0.03)[..., None] * 0.75
    rgb = rgb + (255.0 - rgb) * spot
    cy = int(round(base - r))
    return _Thing(BALL, cy - n, int(round(x)) - n, mask, rgb, base, shadow=r)


def _crate(rng: np.random.Generator, size: float, x: float, base: float) -> _Thing:
    """A rotated wooden box: a frame, plank lines, a diagonal brace and a dark edge line."""
    a, b = size / 2 * rng.uniform(0.8, 1.0), size / 2 * rng.uniform(0.8, 1.0)
    a, b = max(a, 3.0), max(b, 3.0)
    theta = np.deg2rad(rng.uniform(-30, 30))
    n = int(np.ceil(np.hypot(a, b)))
    yy, xx = _centred_grid(n)
    u = xx * np.cos(theta) + yy * np.sin(theta)
    v = -xx * np.sin(theta) + yy * np.cos(theta)
    mask = (np.abs(u) <= a) & (np.abs(v) <= b)
    t = max(1.5, 0.15 * min(a, b))
    frame = (np.abs(u) > a - t) | (np.abs(v) > b - t)
    brace = (np.abs(u / a - v / b) * min(a, b) < 0.55 * t) & ~frame
    plank = (np.abs(((v + b) % (2 * b / 3)) - b / 3) > b / 3 - max(0.6, 0.1 * t)) & ~frame & ~brace
    wood = _hsv(rng.uniform(24, 38), rng.uniform(0.45, 0.65), rng.uniform(0.62, 0.82))
    grain = 1 + 0.07 * np.sin(v * rng.uniform(0.8, 1.4) + 1.5 * np.sin(u * 0.08 + rng.uniform(0, 6)))
    tone = np.where(frame, 0.78, np.where(brace, 0.9, np.where(plank, 0.55, 1.0))) * grain
    tone *= 1.1 - 0.2 * (xx + yy) / (2 * n + 1)
    tone[_outline(mask, max(1, int(t / 4)))] = 0.42
    rgb = wood * tone[..., None]
    cy = int(round(base)) - int(np.ceil(np.abs(yy[mask]).max()))
    return _Thing(CRATE, cy - n, int(round(x)) - n, mask, rgb.astype(np.float32), base, shadow=a * 1.1)


def _tree(rng: np.random.Generator, size: float, x: float, base: float) -> _Thing:
    """A pine: 2–3 stacked triangles on a brown stem."""
    height = max(size, 8.0)
    width = height * rng.uniform(0.55, 0.75)
    stem_h, stem_w = height * rng.uniform(0.14, 0.22), max(2.0, width * 0.14)
    ch, cw = int(np.ceil(height)) + 1, int(np.ceil(width)) + 1
    cx, crown = cw / 2, height - stem_h
    canopy = np.zeros((ch, cw), np.uint8)
    tiers = int(rng.integers(2, 4))
    bottoms = []
    for k in range(tiers):
        top, bottom = crown * 0.75 * k / tiers, crown * (k + 1) / tiers
        half = width / 2 * (0.55 + 0.45 * (k + 1) / tiers)
        pts = np.round([[cx, top], [cx - half, bottom], [cx + half, bottom]]).astype(np.int32)
        cv2.fillPoly(canopy, [pts], 1, lineType=cv2.LINE_8)
        bottoms.append(bottom)
    stem = np.zeros((ch, cw), np.uint8)
    left, right = int(round(cx - stem_w / 2)), int(round(cx + stem_w / 2))
    cv2.rectangle(stem, (left, int(crown) - 1), (right, ch - 1), 1, thickness=-1)
    canopy_b, stem_b = canopy.astype(bool), stem.astype(bool) & ~canopy.astype(bool)
    cols = np.arange(cw, dtype=np.float32)[None, :]
    rows = np.arange(ch, dtype=np.float32)[:, None]
    tone = 1.2 - 0.45 * cols / cw + 0.1 * _noise(rng, ch, cw, 3.0, 3.0)
    for bottom in bottoms[:-1]:  # the shadow under each upper tier
        tone = np.where((rows > bottom - 0.06 * height) & (rows <= bottom + 0.02 * height), tone * 0.72, tone)
    green = _hsv(rng.uniform(105, 150), rng.uniform(0.5, 0.75), rng.uniform(0.32, 0.48))
    brown = _hsv(rng.uniform(18, 30), rng.uniform(0.5, 0.7), rng.uniform(0.3, 0.42))
    rgb = np.where(canopy_b[..., None], green, brown) * tone[..., None]
    mask = canopy_b | stem_b
    return _Thing(
        TREE,
        int(round(base)) - ch,
        int(round(x - cw / 2)),
        mask,
        rgb.astype(np.float32),
        base,
        shadow=width * 0.3,
    )


def _cone(rng: np.random.Generator, size: float, x: float, base: float) -> _Thing:
    """A traffic cone: a tapering orange body with white reflective bands on a dark square foot."""
    height = max(size, 8.0)
    width = height * rng.uniform(0.55, 0.7)
    ch, cw = int(np.ceil(height)) + 1, int(np.ceil(width)) + 1
    cx, foot = cw / 2, max(2, int(round(height * 0.1)))
    top = max(1.0, width * rng.uniform(0.08, 0.14))
    body = np.zeros((ch, cw), np.uint8)
    pts = np.round([[cx - top, 0], [cx + top, 0], [cx + width * 0.38, ch - foot], [cx - width * 0.38, ch - foot]])
    cv2.fillPoly(body, [pts.astype(np.int32)], 1, lineType=cv2.LINE_8)
    body_b = body.astype(bool)
    foot_b = np.zeros((ch, cw), bool)
    foot_b[ch - foot:, :] = True
    rows = np.arange(ch, dtype=np.float32)[:, None] / ch
    cols = (np.arange(cw, dtype=np.float32)[None, :] - cx) / (width / 2)
    bands = (np.abs(rows - 0.35) < 0.07) | (np.abs(rows - 0.62) < 0.07)
    orange = _hsv(rng.uniform(14, 24), rng.uniform(0.85, 1.0), rng.uniform(0.9, 1.0))
    tone = (1.1 - 0.35 * (cols + 1) / 2)[..., None] * np.ones((ch, 1, 1), np.float32)
    rgb = np.where(bands[..., None], np.float32(235.0), orange) * tone
    rgb = np.where(foot_b[..., None] & ~body_b[..., None], np.float32(45.0) * tone, rgb)
    mask = body_b | foot_b
    return _Thing(CONE, int(round(base)) - ch, int(round(x - cw / 2)), mask, rgb.astype(np.float32), base,
                  shadow=width * 0.45)


def _star(rng: np.random.Generator, size: float, x: float, y: float) -> _Thing:
    """A five-pointed golden star with alternately lit facets and a darker rim."""
    outer = max(size / 2, 4.0)
    inner = outer * rng.uniform(0.42, 0.55)
    rot = rng.uniform(-0.35, 0.35)
    n = int(np.ceil(outer))
    angles = rot - np.pi / 2 + np.arange(10) * np.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, outer, inner)
    pts = np.round(np.stack([n + radii * np.cos(angles), n + radii * np.sin(angles)], 1)).astype(np.int32)
    canvas = np.zeros((2 * n + 1, 2 * n + 1), np.uint8)
    cv2.fillPoly(canvas, [pts], 1, lineType=cv2.LINE_8)
    mask = canvas.astype(bool)
    yy, xx = _centred_grid(n)
    facet = np.floor(((np.arctan2(yy, xx) - angles[0]) % (2 * np.pi)) / (np.pi / 5)).astype(np.int32)
    middle = angles[0] + (facet + 0.5) * np.pi / 5
    tone = np.where(facet % 2 == 0, 1.05, 0.82) * (1 + 0.12 * np.cos(middle + 2.2))
    tone[_outline(mask, max(1, int(outer / 14)))] = 0.62
    gold = _hsv(rng.uniform(42, 54), rng.uniform(0.75, 0.95), rng.uniform(0.92, 1.0))
    rgb = gold * tone[..., None]
    return _Thing(STAR, int(round(y)) - n, int(round(x)) - n, mask, rgb.astype(np.float32), y + outer)


# --------------------------------------------------------------------------------------------- composition


def _owner(things: list[_Thing], h: int, w: int) -> np.ndarray:
    """Per pixel: 1 + the index of the topmost thing covering it, or 0 for stuff."""
    owner = np.zeros((h, w), np.uint8)
    for index, thing in enumerate(things, start=1):
        image_sl, crop_sl = thing.region(h, w)
        owner[image_sl][thing.mask[crop_sl]] = index
    return owner


def _absorb(stuff: np.ndarray, category: int) -> np.ndarray:
    """Give a stuff class's pixels to the neighbouring stuff classes (grown in from its border)."""
    grown = np.where(stuff == category, 0, stuff).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    while not grown.all():
        grown = np.where(grown == 0, cv2.dilate(grown, kernel), grown)
    return grown


def _resolve(stuff: np.ndarray, things: list[_Thing]) -> tuple[np.ndarray, list[_Thing], np.ndarray]:
    """Drop things and stuff classes whose visible part is under MIN_SEGMENT_AREA.

    A small thing is removed (its pixels show what lies under it), the smallest first, since removing one
    only enlarges the others; a small stuff class is replaced by its neighbours. The image is rendered
    afterwards from what remains, so it always shows the ground truth.
    """
    h, w = stuff.shape
    things = list(things)
    while True:
        owner = _owner(things, h, w)
        areas = np.bincount(owner.ravel(), minlength=len(things) + 1)[1:]
        if len(things) and areas.min() < MIN_SEGMENT_AREA:
            del things[int(np.argmin(areas))]
            continue
        stuff_areas = np.bincount(stuff[owner == 0], minlength=ROAD + 1)
        if stuff_areas.sum() < MIN_SEGMENT_AREA:  # keep at least one stuff segment
            things.pop()
            continue
        small = [c for c in STUFF_IDS if 0 < stuff_areas[c] < MIN_SEGMENT_AREA]
        if small:
            stuff = _absorb(stuff, small[0])
            continue
        return stuff, things, owner


def _annotation(stuff: np.ndarray, things: list[_Thing], owner: np.ndarray) -> Annotation:
    """Segment ids: visible stuff classes first (in id order), then things back to front."""
    h, w = stuff.shape
    present = np.bincount(stuff[owner == 0], minlength=ROAD + 1)
    stuff_ids = [c for c in STUFF_IDS if present[c]]
    lut = np.zeros(ROAD + 1, np.uint16)
    lut[stuff_ids] = np.arange(1, len(stuff_ids) + 1)
    segment_map = np.where(owner > 0, owner.astype(np.uint16) + len(stuff_ids), lut[stuff]).astype(np.uint16)
    segments = {i: Segment(c, source=Source.PERSON) for i, c in enumerate(stuff_ids, start=1)}
    for index, thing in enumerate(things, start=len(stuff_ids) + 1):
        segments[index] = Segment(thing.category_id, source=Source.PERSON)
    return Annotation(h, w, segment_map, segments)


def _render(
    rng: np.random.Generator, ground: _Ground, stuff: np.ndarray, things: list[_Thing], owner: np.ndarray
) -> np.ndarray:
    """Colour the stuff from its class map, then each thing from its mask, back to front; add grain."""
    h, w = stuff.shape
    image = np.zeros((h, w, 3), np.float32)
    visible = np.bincount(stuff[owner == 0], minlength=ROAD + 1)
    for category in STUFF_IDS:
        if visible[category]:
            region = stuff == category
            image[region] = _stuff_texture(rng, category, ground, h, w)[region]
    for thing in things:
        image_sl, crop_sl = thing.region(h, w)
        if thing.shadow:
            _cast_shadow(image, thing)
        mask = thing.mask[crop_sl]
        image[image_sl][mask] = thing.rgb[crop_sl][mask]
    image *= rng.uniform(0.92, 1.06)
    image += rng.standard_normal((h, w, 1), dtype=np.float32) * 2.0
    return np.clip(image, 0, 255).astype(np.uint8)


def _cast_shadow(image: np.ndarray, thing: _Thing) -> None:
    """Darken a soft ellipse on the ground under a standing thing (never across its own label edge)."""
    h, w = image.shape[:2]
    rx = thing.shadow * 1.15
    ry = max(2.0, rx * 0.22)
    cx = thing.x0 + thing.mask.shape[1] / 2
    cy = thing.base - ry * 0.3
    y0, y1 = max(int(cy - ry), 0), min(int(np.ceil(cy + ry)) + 1, h)
    x0, x1 = max(int(cx - rx), 0), min(int(np.ceil(cx + rx)) + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    image[y0:y1, x0:x1] *= (1 - 0.45 * _smoothstep(1 - d))[..., None]
