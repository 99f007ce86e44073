"""An atom split into row bands does, and undoes, exactly what the atom does."""

import numpy as np

from segview.core.edit_bands import split_rows
from segview.core.edits import accept
from segview.core.history import EditHistory
from segview.core.segments import Annotation, Segment, Source


def _fused_and_annotation():
    rng = np.random.default_rng(3)
    fused = Annotation(60, 50)
    for category in (1, 2, 3):
        fused.add(rng.random((60, 50)) < 0.3, Segment(category, score=0.8, source=Source.MODEL))
    annotation = Annotation(60, 50)
    annotation.add(np.pad(np.ones((10, 10), bool), ((5, 45), (5, 35))), Segment(2))
    return fused, annotation


def test_bands_apply_and_undo_like_the_whole_atom():
    fused, annotation = _fused_and_annotation()
    whole = annotation.copy()
    _ids, atom = accept(whole, fused)
    EditHistory(whole).apply(atom)
    bands = split_rows(atom, 7 * 50)
    assert len(bands) > 5 and all(b.pixels.where.size <= 7 * 50 for b in bands)
    assert bands[0].segments_after == atom.segments_after and not any(b.segments_after for b in bands[1:])
    history = EditHistory(annotation)
    before = annotation.copy()
    history.apply_all(bands, "Accept all predictions")
    assert np.array_equal(annotation.segment_map, whole.segment_map)
    assert annotation.segments == whole.segments
    assert len(history.done) == 1  # one undo step
    history.undo()
    assert np.array_equal(annotation.segment_map, before.segment_map) and annotation.segments == before.segments


def test_small_atoms_and_table_only_atoms_stay_whole():
    fused, annotation = _fused_and_annotation()
    _ids, atom = accept(annotation, fused)
    assert split_rows(atom, atom.pixels.where.size) == [atom]
