"""The open-vocabulary detector (a tiny random OWLv2) and grounded predictions (with a tiny random SAM)."""

import numpy as np
import pytest

from segview.core.categories import Category, CategorySet
from segview.core.class_names import categories_for_names
from segview.inference.cards import CardError, get_card, load_card
from segview.inference.detectors import DetectorError, load_detector
from segview.inference.grounded import GroundedModel
from segview.inference.sam import SamPredictor
from segview.inference.weights import WeightsError
from tests.inference.tiny_detectors import write_tiny_detector
from tests.inference.tiny_sam import write_sam_card


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return write_tiny_detector(folder), write_sam_card(folder)


@pytest.fixture(scope="module")
def detector(cards):
    return load_detector(cards[0], device="cpu")


def _image(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(("height", "width"), [(50, 120), (120, 50), (64, 64)])
def test_boxes_come_back_in_image_pixels(detector, height, width):
    # The tiny model's box head answers OWLv2's box bias alone: for each patch of the 4x4 grid over the image
    # padded (at the right and bottom) to a square, a box of the grid's cell size centred on the patch's
    # corner, so every edge lies half a cell off a multiple of max(h, w) / 4 unless the image's edge cut it.
    cell = max(height, width) / 4
    detections = detector.detect(_image(height, width), ["helmet", "flag"], score_threshold=0.0)
    assert detections
    for d in detections:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert x1 - x0 <= cell + 0.1 and y1 - y0 <= cell + 0.1
        for value, edge in ((x0, width), (x1, width), (y0, height), (y1, height)):
            if 0.01 < value < edge - 0.01:
                assert value / cell - 0.5 == pytest.approx(round(value / cell - 0.5), abs=0.01)
        assert d.label in (0, 1)
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True)


def test_threshold_and_limit(detector):
    image = _image(64, 64)
    everything = detector.detect(image, ["helmet", "flag"], score_threshold=0.0)
    cut = sorted(d.score for d in everything)[len(everything) // 2]
    assert all(d.score > cut for d in detector.detect(image, ["helmet", "flag"], score_threshold=cut))
    assert len(detector.detect(image, ["helmet", "flag"], score_threshold=0.0, max_detections=2)) == 2
    with pytest.raises(DetectorError, match="at least one class name"):
        detector.detect(image, [])


def test_grounded_prediction_has_the_named_classes_and_the_detector_scores(cards, detector):
    sam = SamPredictor.from_card(cards[1], device="cpu")
    known = CategorySet([Category(5, "flag", True)])
    categories = categories_for_names(["helmet", "flag"], known)
    image = _image(60, 90)
    model = GroundedModel(detector, sam, categories, box_threshold=0.0)
    prediction = model.predict(image)
    detections = detector.detect(image, ["helmet", "flag"], score_threshold=0.0)
    assert (prediction.height, prediction.width) == (60, 90)
    assert prediction.model == "grounded:tiny_owl+tiny_sam"
    assert prediction.instances and len(prediction.instances) <= len(detections)
    assert {i.category_id for i in prediction.instances} <= {6, 5}
    assert [i.score for i in prediction.instances] == pytest.approx(
        [d.score for d in detections][: len(prediction.instances)])
    for instance in prediction.instances:
        crop = instance.mask
        assert crop.area > 0 and crop.x + crop.width <= 90 and crop.y + crop.height <= 60
    # the masks are those of the prompt model for the detector's boxes
    expected, _ = sam.decode_boxes(sam.embed(image), [detections[0].box])[0]
    first = np.zeros((60, 90), bool)
    first[prediction.instances[0].mask.slices] = prediction.instances[0].mask.mask
    assert np.array_equal(first, expected)


def test_a_detector_card_needs_both_tokenizer_files(cards, tmp_path):
    text = cards[0].path.read_text()
    broken = tmp_path / "tiny_owl.toml"
    broken.write_text(text.split("[tokenizer.merges]")[0])
    with pytest.raises(CardError, match="needs both vocab and merges"):
        load_card(broken)


def test_bundled_detector_cards_download_their_files_checked_against_the_hubs_record(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for name in ("owlv2_base", "owlv2_large"):
        card = get_card(name)
        assert card.task == "detector" and set(card.tokenizer) == {"vocab", "merges"}
        sources = [card.weights, *card.tokenizer.values()]
        assert all(source.sha256_from_hub and not source.sha256 for source in sources)
        # the download first asks the Hub for each file's checksum (tests do not reach it)
        with pytest.raises(WeightsError, match="Cannot reach huggingface.co to download .*do not reach the internet"):
            load_detector(card, allow_download=True)


def test_missing_detector_files_are_listed_with_where_to_save_them(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(WeightsError) as error:
        load_detector("owlv2_base")
    message = str(error.value)
    for name in ("owlv2_base.safetensors", "clip_vocab.json", "clip_merges.txt"):
        assert str(tmp_path / "cache" / "weights" / name) in message
    assert "owlv2-base-patch16-ensemble/resolve/main/model.safetensors" in message
