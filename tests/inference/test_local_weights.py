"""A local copy of a model's weights is refused for a card that names its own file; the demo card's hint."""

import pytest

from segview.inference.cards import CardError, get_card, load_card
from segview.inference.local_weights import install_local_weights
from segview.inference.weights import WeightsError
from segview.train.demo import DEMO_HINT


def test_a_card_with_a_weights_file_takes_no_local_copy(tmp_path):
    card = get_card("demo_semantic")
    with pytest.raises(WeightsError, match="put the file there"):
        install_local_weights(card, tmp_path / "anything.pt")


def test_the_demo_pair_carries_its_hint_and_an_empty_hint_is_refused(tmp_path):
    assert get_card("demo_panoptic").hint == DEMO_HINT
    assert get_card("demo_instance").hint == ""
    text = get_card("demo_panoptic").path.read_text().replace(DEMO_HINT, " ")
    (tmp_path / "demo_panoptic.toml").write_text(text)
    with pytest.raises(CardError, match="key .hint. is empty"):
        load_card(tmp_path / "demo_panoptic.toml")
