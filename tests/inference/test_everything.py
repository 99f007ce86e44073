"""Segment everything with a tiny random Segment Anything: the grid, the batched point decode, the filters."""

import numpy as np
import pytest

from segview.core.candidates import EverythingParams
from segview.core.prompts import PromptSet, logits_to_image
from segview.inference.everything import everything_job, point_grid, segment_everything
from segview.inference.jobs import JobContext
from segview.inference.sam import SamPredictor
from tests.inference.tiny_sam import write_sam_card
from tests.user_dirs import use_user_dirs

LOOSE = EverythingParams(points_per_side=3, points_per_batch=4, iou_threshold=-1.0, stability_threshold=0.0,
                         stability_offset=0.0, min_area=1)


@pytest.fixture(scope="module")
def sam(tmp_path_factory):
    return SamPredictor.from_card(write_sam_card(tmp_path_factory.mktemp("models")), device="cpu")


@pytest.fixture(scope="module")
def embedding(sam):
    image = np.random.default_rng(0).integers(0, 255, (60, 90, 3), dtype=np.uint8)
    return sam.embed(image)


def test_the_grid_puts_a_point_at_each_cell_centre():
    grid = point_grid(60, 90, 3)
    assert grid.shape == (9, 2)
    assert sorted(set(grid[:, 0])) == [15.0, 45.0, 75.0] and sorted(set(grid[:, 1])) == [10.0, 30.0, 50.0]


def test_points_decoded_together_give_the_masks_of_each_point_alone(sam, embedding):
    points = np.array([[10.5, 20.25], [80.0, 5.0]])
    logits, scores = sam.decode_points(embedding, points)
    assert logits.shape[:2] == (2, 3) and scores.shape == (2, 3)
    for i, (x, y) in enumerate(points):
        alone = sam.decode(embedding, PromptSet(((x, y, True),)), multimask=True)
        order = np.argsort(-scores[i])
        for (mask, score), j in zip(alone, order, strict=True):
            assert score == pytest.approx(scores[i, j], abs=1e-4)
            together = logits_to_image(logits[i, j], 60, 90, embedding.long_side) > 0
            assert np.mean(together != mask) < 0.001


def test_candidates_are_best_first_inside_the_image_and_do_not_overlap_much(sam, embedding):
    candidates = segment_everything(sam, embedding, LOOSE)
    assert (candidates.height, candidates.width) == (60, 90) and len(candidates)
    assert list(candidates.scores) == sorted(candidates.scores, reverse=True)
    assert len(candidates) <= 3 * 3 * 3
    for crop in candidates.masks:
        assert crop.area >= 1 and crop.x + crop.width <= 90 and crop.y + crop.height <= 60
    best = max(candidates.scores)
    strict = segment_everything(sam, embedding, EverythingParams(points_per_side=3, stability_threshold=0.0,
                                                                 stability_offset=0.0, min_area=1,
                                                                 iou_threshold=best,  # the same sums as LOOSE's:
                                                                 points_per_batch=LOOSE.points_per_batch))
    assert strict.scores and all(score == pytest.approx(best) for score in strict.scores)


def test_a_stale_request_stops_between_batches(sam, embedding):
    assert segment_everything(sam, embedding, LOOSE, stale=lambda: True) is None


def test_the_job_without_the_prompt_models_weights_answers_what_is_missing(tmp_path, monkeypatch):
    use_user_dirs(monkeypatch, tmp_path)  # the bundled slimsam_77, its weights nowhere
    context = JobContext(("everything", tmp_path / "photo.png"), ("slimsam_77", "cpu", None, None), None,
                         lambda: False)
    job = everything_job(context)
    assert job.step(0.5) is True  # done: an answer, not an exception
    missing, name, message, files = job.result()
    assert (missing, name, files) == ("missing", "slimsam_77", [("slimsam_77", "slimsam_77.safetensors")])
    assert "not downloaded yet" in message  # the prompt tool's answer, for the window's offer
    assert job.events() == []
