"""Where two segmentations of one image disagree, compared by category per pixel (no Qt).

Segment ids are arbitrary (a prediction's id 3 and an annotation's id 3 are unrelated), so panoptic
results are compared through their segment id → category id lookup tables, i.e. as semantic maps.
"""

from __future__ import annotations

import numpy as np

from segview.core.segments import VOID, Annotation
from segview.core.views import semantic_view


def disagreement(a: np.ndarray, b: np.ndarray, *, ignore_void: bool = True) -> np.ndarray:
    """Bool map of pixels where two category maps differ; with ``ignore_void``, void in either never counts."""
    if a.shape != b.shape:
        raise ValueError(f"cannot compare maps of shapes {a.shape} and {b.shape}")
    differ = a != b
    if ignore_void:
        differ &= (a != VOID) & (b != VOID)
    return differ


def segment_disagreement(
    a_map: np.ndarray,
    a_category_lut: np.ndarray,
    b_map: np.ndarray,
    b_category_lut: np.ndarray,
    *,
    ignore_void: bool = True,
) -> np.ndarray:
    """Disagreement of two segment maps by category (``lut[segment id]`` = category id, 0 = void).

    Ids beyond a table's end (segments nobody describes) read as void.
    """
    return disagreement(
        _categories(a_map, a_category_lut), _categories(b_map, b_category_lut), ignore_void=ignore_void
    )


def annotation_disagreement(a: Annotation, b: Annotation, *, ignore_void: bool = True) -> np.ndarray:
    """Disagreement by category of two annotations of one image (e.g. fused prediction vs correction)."""
    return disagreement(semantic_view(a), semantic_view(b), ignore_void=ignore_void)


def disagreement_summary(mask: np.ndarray) -> tuple[int, float]:
    """(pixels that disagree, their fraction of all the image's pixels); (0, 0.0) for an empty image."""
    pixels = int(np.count_nonzero(mask))
    return pixels, (pixels / mask.size if mask.size else 0.0)


def disagreement_caption(description: str, mask: np.ndarray) -> str:
    """One line for the user, e.g. 'Prediction vs annotation: 12.3 % of pixels disagree'."""
    _, fraction = disagreement_summary(mask)
    return f"{description}: {100.0 * fraction:.1f} % of pixels disagree"


def _categories(segment_map: np.ndarray, category_lut: np.ndarray) -> np.ndarray:
    lut = np.asarray(category_lut)
    if segment_map.size and int(segment_map.max()) >= lut.size:
        lut = np.concatenate([lut, np.zeros(int(segment_map.max()) + 1 - lut.size, lut.dtype)])
    return lut[segment_map]
