"""Prompt jobs through the model process: the embedding is made and kept in the child (and cached on
disk), a prompt crosses the pipe, its masks come back through shared memory equal to an in-process
decode, and a restarted child finds the embedding on disk."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from PIL import Image

from segview.core.prompts import PromptSet
from segview.inference.model_process import ModelProcess
from segview.inference.worker import Priority
from tests.inference.process_events import ProcessEvents
from tests.inference.tiny_sam import write_sam_card


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("prompt-process")
    card = write_sam_card(root / "data" / "models")
    image = np.random.default_rng(1).integers(0, 255, (90, 160, 3), dtype=np.uint8)
    path = root / "photo.png"
    Image.fromarray(image).save(path)
    answers = ProcessEvents()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGVIEW_DATA_DIR", str(root / "data"))
        patch.setenv("SEGVIEW_CACHE_DIR", str(root / "cache"))
        process = ModelProcess(answers)
        yield process, answers, card, path, image, root
        process.shutdown()


@pytest.mark.slow  # two spawns of a child that imports torch and transformers
def test_embed_decode_and_a_restart_that_finds_the_embedding_on_disk(setup):
    process, answers, card, path, image, root = setup
    args = ("tiny_sam", "cpu", None)
    process.submit(("prompt_embed", path), args, Priority.VISIBLE)
    assert answers.answer(("prompt_embed", path)) == ("result", (90, 160, "computed"))
    assert len(list((root / "cache" / "embeddings").glob("tiny_sam_*/*.npz"))) == 1
    process.submit(("prompt_embed", path), args, Priority.NEIGHBOUR)
    assert answers.answer(("prompt_embed", path)) == ("result", (90, 160, "memory"))

    prompts = PromptSet().with_point(40, 30).with_point(120, 70, positive=False)
    process.submit(("prompt_decode", path), (*args, prompts, True, 7), Priority.INTERACTIVE)
    kind, (meta, crops) = answers.answer(("prompt_decode", path))
    assert kind == "result" and meta["token"] == 7 and (meta["height"], meta["width"]) == (90, 160)

    from segview.inference.sam import SamPredictor

    local = SamPredictor.from_card(card, device="cpu")
    expected = local.decode(local.embed(image), prompts)
    assert len(crops) == len(expected) == 3
    for (x, y, score), crop, (mask, expected_score) in zip(meta["masks"], crops, expected, strict=True):
        whole = np.zeros((90, 160), bool)
        whole[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
        assert np.array_equal(whole, mask)
        assert score == pytest.approx(expected_score, abs=1e-5)

    os.kill(process.pid, signal.SIGKILL)  # a new child: memory is gone, the disk cache is not
    process.submit(("prompt_embed", path), args, Priority.VISIBLE)
    assert answers.answer(("prompt_embed", path)) == ("result", (90, 160, "disk"))


def test_a_prompt_model_without_weights_answers_what_is_missing(setup):
    process, answers, _card, path, _image, _root = setup
    process.submit(("prompt_decode", path), ("slimsam_77", "cpu", None, PromptSet().with_point(1, 1), True, 1),
                   Priority.INTERACTIVE)
    kind, (missing, name, message, files) = answers.answer(("prompt_decode", path))
    assert (kind, missing, name) == ("result", "missing", "slimsam_77")
    # downloadable (checked against the Hub's record of the file) once the user agrees: the window offers it
    assert "not downloaded yet" in message and "slimsam-77-uniform" in message
    assert files == [("slimsam_77", "slimsam_77.safetensors")]
