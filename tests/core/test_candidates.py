"""Segment everything's candidates: which one a click takes, the map that shows them, taking one out."""

import numpy as np

from segview.core.candidates import Candidates
from segview.core.masks import CroppedMask


def _candidates():
    big = CroppedMask(0, 0, np.ones((10, 20), bool))
    small = CroppedMask(5, 2, np.ones((3, 4), bool))
    ring = np.ones((4, 4), bool)
    ring[1:3, 1:3] = False
    return Candidates(12, 24, (big, small, CroppedMask(19, 8, ring)), (0.9, 0.8, 0.7))


def test_a_click_takes_the_smallest_candidate_under_it():
    candidates = _candidates()
    assert candidates.at(6.5, 3.2) == 1  # inside both: the small one
    assert candidates.at(1, 1) == 0
    assert candidates.at(20.5, 10.5) is None  # the ring's hole
    assert candidates.at(22.5, 10.5) == 2
    assert candidates.at(23.5, 11.5) is None


def test_the_label_map_shows_what_a_click_would_take():
    candidates = _candidates()
    labels = candidates.label_map()
    ys, xs = np.mgrid[0:12, 0:24]
    for y, x in zip(ys.ravel(), xs.ravel(), strict=True):
        taken = candidates.at(x + 0.5, y + 0.5)
        assert labels[y, x] == (0 if taken is None else taken + 1)
    assert candidates.lut()[0, 3] == 0 and candidates.lut().shape[0] >= 4


def test_taking_one_leaves_the_others():
    rest = _candidates().without(1)
    assert len(rest) == 2 and rest.scores == (0.9, 0.7)
    assert rest.at(6.5, 3.2) == 0
