"""A dataset: categories and images, each image with an optional annotation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from segview.core.categories import CategorySet
from segview.core.segments import Annotation


@dataclass
class ImageRecord:
    """One image: its id, file name relative to the dataset's image root, size and annotation."""

    id: int
    file_name: str
    width: int
    height: int
    annotation: Annotation | None = None

    def ensure_annotation(self) -> Annotation:
        if self.annotation is None:
            self.annotation = Annotation(self.height, self.width)
        return self.annotation


@dataclass
class Dataset:
    """Categories plus images; ``image_root`` is where ``file_name`` paths are resolved."""

    categories: CategorySet
    images: list[ImageRecord] = field(default_factory=list)
    image_root: Path | None = None

    def image_path(self, record: ImageRecord) -> Path | None:
        return None if self.image_root is None else self.image_root / record.file_name

    def by_file_name(self, file_name: str) -> ImageRecord | None:
        return next((r for r in self.images if r.file_name == file_name), None)
