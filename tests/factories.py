"""Builders of test data shared by the test modules: categories, annotations, datasets on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from segview.core.categories import Category, CategorySet
from segview.core.dataset import Dataset, ImageRecord
from segview.core.segments import Annotation, Segment, Source


def make_categories() -> CategorySet:
    """Three things and two stuff classes, ids 1..5."""
    return CategorySet(
        [
            Category(1, "person", isthing=True, supercategory="person"),
            Category(2, "car", isthing=True, supercategory="vehicle"),
            Category(3, "dog", isthing=True, supercategory="animal"),
            Category(4, "sky", isthing=False, supercategory="background"),
            Category(5, "road", isthing=False, supercategory="background"),
        ]
    )


def random_annotation(
    rng: np.random.Generator, height: int = 64, width: int = 80, n_things: int = 4, holes: bool = True
) -> Annotation:
    """Stuff bands (sky over road) with ellipses and rectangles of thing classes on top, some with holes."""
    ann = Annotation(height, width)
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(n_things):
        cy, cx = rng.integers(0, height), rng.integers(0, width)
        ry, rx = rng.integers(3, max(4, height // 3)), rng.integers(3, max(4, width // 3))
        if rng.random() < 0.5:
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        else:
            mask = (abs(yy - cy) <= ry) & (abs(xx - cx) <= rx)
        if holes and rng.random() < 0.5 and ry > 4 and rx > 4:
            mask &= ~((abs(yy - cy) <= ry // 3) & (abs(xx - cx) <= rx // 3))
        mask &= ann.segment_map == 0
        if mask.any():
            ann.add(mask, Segment(int(rng.integers(1, 4)), score=None, source=Source.PERSON))
    horizon = int(rng.integers(height // 4, 3 * height // 4))
    sky = np.zeros((height, width), bool)
    sky[:horizon] = True
    for category_id, region in ((4, sky), (5, ~sky)):
        region = region & (ann.segment_map == 0)
        if region.any():
            ann.add(region, Segment(category_id))
    return ann


def write_image(path: Path, height: int, width: int, seed: int = 0) -> None:
    """A small random RGB PNG/JPEG at ``path``."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)


def make_dataset(
    root: Path | None, n_images: int = 3, seed: int = 0, height: int = 64, width: int = 80
) -> Dataset:
    """A dataset of random annotations; when ``root`` is given, real image files are written there."""
    rng = np.random.default_rng(seed)
    dataset = Dataset(make_categories(), image_root=root)
    for i in range(n_images):
        name = f"img_{i:03d}.png"
        if root is not None:
            write_image(root / name, height, width, seed + i)
        ann = random_annotation(rng, height, width)
        dataset.images.append(ImageRecord(i + 1, name, width, height, ann))
    return dataset


def crop_masks(ann: Annotation) -> dict[int, np.ndarray]:
    """Full-image mask per segment id, for pixel-by-pixel comparisons."""
    return {sid: ann.segment_map == sid for sid in ann.segments if (ann.segment_map == sid).any()}
