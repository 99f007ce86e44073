"""A model's raw output, kept apart from the annotation so thresholds can change without rerunning it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from segview.core.masks import CroppedMask


@dataclass(frozen=True)
class InstancePrediction:
    """One detection: category (dataset id space), score, and its mask cropped to its box."""

    category_id: int
    score: float
    mask: CroppedMask


@dataclass
class Prediction:
    """Everything a model said about one image.

    ``semantic`` holds a category id per pixel (0 = none) and ``semantic_confidence`` the winning
    class's probability; ``instances`` are bbox-cropped binary masks (never full-image float masks).
    ``device`` names where it ran (e.g. 'cuda:0 (NVIDIA H100)', 'cpu').
    """

    height: int
    width: int
    instances: list[InstancePrediction] = field(default_factory=list)
    semantic: np.ndarray | None = None
    semantic_confidence: np.ndarray | None = None
    model: str = ""
    device: str = ""

    def instances_above(self, score_threshold: float) -> list[InstancePrediction]:
        """Detections at or above a score threshold, best first."""
        kept = [i for i in self.instances if i.score >= score_threshold]
        return sorted(kept, key=lambda i: -i.score)
