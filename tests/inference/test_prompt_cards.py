"""Prompt cards (the SAM family): bundled cards parse, their downloads are stored under their own names,
and a card with no hash to check a download against refuses to download (a copy the user has is still
taken)."""

import pytest

from segview.inference.cards import PREDICT_TASKS, CardError, get_card, list_cards, parse_card
from segview.inference.weights import WeightsError, ensure_weights, find_weights, remote_weights
from tests.inference.tiny_sam import write_sam_card

PROMPT_CARDS = ["sam_vit_b", "sam_vit_l", "sam_vit_h", "slimsam_77", "edgetam"]


@pytest.mark.parametrize("name", PROMPT_CARDS)
def test_bundled_prompt_cards_parse_and_are_not_prediction_models(name):
    card = get_card(name)
    assert card.task == "prompt" and card.task not in PREDICT_TASKS
    assert card.input.long_side == 1024 and card.categories == ()


@pytest.mark.parametrize(("name", "file_name", "sha256"), [
    ("sam_vit_b", "sam_vit_b_01ec64.pth", "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912"),
    ("sam_vit_l", "sam_vit_l_0b3195.pth", "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622"),
    ("sam_vit_h", "sam_vit_h_4b8939.pth", "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e"),
])
def test_the_official_sam_cards_download_metas_files_with_their_published_hash(name, file_name, sha256):
    remote = remote_weights(get_card(name))
    assert remote.url == f"https://dl.fbaipublicfiles.com/segment_anything/{file_name}"
    assert (remote.filename, remote.sha256) == (file_name, sha256)


def test_each_prompt_card_stores_its_download_under_its_own_name():
    names = {remote_weights(c).filename for c in list_cards() if c.task == "prompt"}
    assert len(names) == len(PROMPT_CARDS)


def test_a_card_without_a_hash_refuses_to_download_and_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    card = write_sam_card(tmp_path / "cards", "unhashed", url="https://example.org/unhashed.safetensors")
    for allow_download in (True, False):  # never "run segview models download", which refuses it too
        with pytest.raises(WeightsError, match="no published SHA-256.*Use a local file") as raised:
            ensure_weights(card, allow_download=allow_download)
        assert "models download" not in str(raised.value)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "unhashed.safetensors").write_bytes(b"x")
    assert find_weights(card) == tmp_path / "weights" / "unhashed.safetensors"


def _card(tmp_path, weights: dict):
    data = {"name": "p", "title": "p", "task": "prompt", "licence": "x", "description": "x",
            "builder": "segview.inference.architectures.sam", "weights": weights}
    return parse_card(tmp_path / "p.toml", data)


def test_sha256_missing_is_only_for_url_weights_without_a_hash(tmp_path):
    url = "https://example.org/a/model.safetensors"
    assert _card(tmp_path, {"url": url, "sha256_missing": "not published"}).weights.sha256 is None
    with pytest.raises(CardError, match="sha256_missing"):
        _card(tmp_path, {"url": url, "sha256": "a" * 64, "sha256_missing": "why"})
    with pytest.raises(CardError, match="sha256"):
        _card(tmp_path, {"url": url})  # neither: a forgotten hash is still an error
    with pytest.raises(CardError, match="file_name"):
        _card(tmp_path, {"url": url, "sha256": "a" * 64, "file_name": "../x.safetensors"})


def test_a_prompt_card_is_not_a_prediction_model():
    from segview.inference.pipeline import load_model

    with pytest.raises(CardError, match="prompt model.*prompt tool"):
        load_model("sam_vit_b", device="cpu")
