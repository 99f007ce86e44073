"""What the viewer holds for a folder of images, independent of Qt: per image the model's prediction,
its fused panoptic result, and the person's corrected annotation, plus the fusion parameters.

Changing the fusion parameters re-fuses cached predictions; the model never runs again for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from segview.core.candidates import Candidates
from segview.core.categories import CategorySet
from segview.core.fusion import FusionParams, fuse
from segview.core.prediction import Prediction
from segview.core.segments import Annotation

RejectKey = tuple[str, int]
"""What a rejected fused segment was: ("thing", index into prediction.instances) or ("stuff", category)."""


class ImageStatus(str, Enum):
    NONE = "no prediction"
    PREDICTED = "predicted"
    CORRECTED = "corrected"


@dataclass
class ImageEntry:
    """One image of the workspace and what is known about it."""

    path: Path
    prediction: Prediction | None = None
    fused: Annotation | None = None
    annotation: Annotation | None = None
    reference: Annotation | None = None  # the previous model's fused result, to compare models
    rejected: set[RejectKey] = field(default_factory=set)  # fused segments the person rejected
    candidates: Candidates | None = None  # Segment Everything's unlabeled masks not taken yet
    blank_start: bool = False  # the annotation began empty at its first edit (not opened with one)
    all_undone: bool = False  # every step of the annotation's history is undone

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def annotated(self) -> bool:
        """It holds an annotation, and not one whose every step was undone back to the empty start (that
        image is what it was before its first edit)."""
        return self.annotation is not None and not (self.blank_start and self.all_undone)

    @property
    def status(self) -> ImageStatus:
        """Corrected when annotated (see :attr:`annotated`), else predicted or nothing yet."""
        if self.annotated:
            return ImageStatus.CORRECTED
        return ImageStatus.PREDICTED if self.prediction is not None else ImageStatus.NONE


@dataclass
class Workspace:
    """An ordered list of images, the categories of their annotations and of the model's results,
    and the fusion parameters."""

    entries: list[ImageEntry] = field(default_factory=list)
    categories: CategorySet = field(default_factory=CategorySet)
    model_categories: CategorySet = field(default_factory=CategorySet)
    params: FusionParams = field(default_factory=FusionParams)
    reference_model: str = ""

    def index_of(self, path: Path) -> int | None:
        return next((i for i, e in enumerate(self.entries) if e.path == path), None)

    def set_prediction(self, index: int, prediction: Prediction, categories: CategorySet) -> Annotation:
        """Store a model's prediction for an image and fuse it with the current parameters."""
        self.model_categories = categories
        entry = self.entries[index]
        entry.prediction = prediction
        entry.fused = self._fuse(entry)
        return entry.fused

    def reject(self, index: int, segment_id: int) -> None:
        """Remove a segment from an image's fused result, and keep it out of every later re-fusion."""
        entry = self.entries[index]
        if entry.fused is None or entry.prediction is None or segment_id not in entry.fused.segments:
            return
        entry.rejected.add(reject_key(entry.prediction, entry.fused, segment_id))
        entry.fused.remove(segment_id)

    def _fuse(self, entry: ImageEntry) -> Annotation:
        assert entry.prediction is not None
        fused = fuse(entry.prediction, self.model_categories, self.params)
        for sid in list(fused.segments):
            if entry.rejected and reject_key(entry.prediction, fused, sid) in entry.rejected:
                fused.remove(sid)
        return fused

    def set_params(self, **changes: float) -> FusionParams:
        """Change fusion parameters (score_threshold, overlap_threshold, stuff_area_limit) and re-fuse."""
        self.params = replace(self.params, **changes)
        for entry in self.entries:
            if entry.prediction is not None:
                entry.fused = self._fuse(entry)
        return self.params

    def clear_predictions(self, keep_as_reference: str = "") -> None:
        """Forget every prediction (after switching models); with a model name, keep each fused result
        as the reference that the next model is compared with."""
        if keep_as_reference:
            self.reference_model = keep_as_reference
        for entry in self.entries:
            if keep_as_reference and entry.fused is not None:
                entry.reference = entry.fused
            entry.prediction = None
            entry.fused = None
            entry.rejected.clear()

    def neighbours(self, index: int, radius: int = 1) -> list[int]:
        """Indices next to ``index`` (nearest first), for prefetching."""
        out = []
        for step in range(1, radius + 1):
            out.extend(i for i in (index + step, index - step) if 0 <= i < len(self.entries))
        return out


def reject_key(prediction: Prediction, fused: Annotation, segment_id: int) -> RejectKey:
    """The stable identity of a fused segment: the detection it came from (same category and score), or
    else its stuff class."""
    segment = fused.segments[segment_id]
    for index, inst in enumerate(prediction.instances):
        if inst.category_id == segment.category_id and segment.score is not None and float(inst.score) == segment.score:
            return ("thing", index)
    return ("stuff", segment.category_id)
