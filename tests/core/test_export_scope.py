"""dataset_for_scope: one meaning per scope, the same as the command line's."""

from pathlib import Path

import numpy as np
import pytest

from segview.core.export_scope import DEFAULT_SCOPE, SCOPES, ScopedDataset, dataset_for_scope
from segview.core.segments import Annotation, Segment, Source
from segview.core.workspace import ImageEntry, Workspace
from segview.errors import ImageReadError
from tests.factories import make_categories, write_image


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """a: the model's result only; b: corrected; c: nothing yet (a real 7×4 file)."""
    folder = tmp_path / "imgs"
    fused, corrected = Annotation(3, 5), Annotation(3, 5)
    fused.add(np.ones((3, 5), bool), Segment(1, score=0.9, source=Source.MODEL))
    corrected.add(np.ones((3, 5), bool), Segment(4))
    write_image(folder / "c.png", 4, 7)
    entries = [
        ImageEntry(folder / "a.png", fused=fused),
        ImageEntry(folder / "b.png", annotation=corrected),
        ImageEntry(folder / "c.png"),
    ]
    return Workspace(entries, make_categories())


def _rows(dataset):
    return [(r.id, r.file_name, r.width, r.height, r.annotation is not None) for r in dataset.images]


def test_the_default_is_the_corrected_images_only(workspace):
    assert DEFAULT_SCOPE == "corrected" and SCOPES[0] == "corrected"
    only = dataset_for_scope(workspace, "corrected")
    assert _rows(only) == [(2, "b.png", 5, 3, True)] and only.unreviewed == ()
    assert only.images[0].annotation is not workspace.entries[1].annotation  # a copy


def test_all_means_every_image_those_not_corrected_without_annotation(workspace):
    everything = dataset_for_scope(workspace, "all")
    assert isinstance(everything, ScopedDataset)
    assert _rows(everything) == [(1, "a.png", 5, 3, False), (2, "b.png", 5, 3, True), (3, "c.png", 7, 4, False)]
    assert everything.unreviewed == ()  # no prediction is exported as an annotation


def test_predictions_are_exported_only_when_asked_for_and_named(workspace):
    predicted = dataset_for_scope(workspace, "predictions")
    assert _rows(predicted) == [(1, "a.png", 5, 3, True), (2, "b.png", 5, 3, True)]
    assert predicted.unreviewed == ("a.png",)
    assert predicted.images[0].annotation.segments[1].source is Source.MODEL


def test_selected_images_carry_the_persons_annotation_or_none(workspace):
    chosen = dataset_for_scope(workspace, "selected", [0, 1, 7])
    assert _rows(chosen) == [(1, "a.png", 5, 3, False), (2, "b.png", 5, 3, True)]
    with pytest.raises(ValueError):
        dataset_for_scope(workspace, "some")


def test_an_unreadable_image_without_annotation_is_a_clear_error(workspace, tmp_path):
    workspace.entries.append(ImageEntry(tmp_path / "imgs" / "gone.png"))
    with pytest.raises(ImageReadError, match="gone.png"):
        dataset_for_scope(workspace, "all")
    assert len(dataset_for_scope(workspace, "corrected").images) == 1


def test_the_image_root_is_the_common_folder_of_the_exported_images(tmp_path: Path):
    folder = tmp_path / "imgs"
    corrected = Annotation(3, 5)
    corrected.add(np.ones((3, 5), bool), Segment(4))
    entries = [ImageEntry(folder / "a.png", annotation=corrected.copy()),
               ImageEntry(folder / "sub" / "b.png", annotation=corrected)]
    workspace = Workspace(entries, make_categories())
    both = dataset_for_scope(workspace, "corrected")
    assert both.image_root == folder and [r.file_name for r in both.images] == ["a.png", "sub/b.png"]
    assert both.images[1].annotation.equals(corrected)
    only_b = dataset_for_scope(workspace, "selected", [1])
    assert only_b.image_root == folder / "sub" and [r.file_name for r in only_b.images] == ["b.png"]
