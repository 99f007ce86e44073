"""The model process's ``grounded`` job when files are missing: the detector's and the prompt model's are
named together, before anything loads, so one round of getting files is enough."""

import pytest

from segview.inference.grounded import grounded_job
from segview.inference.jobs import JobContext
from tests.inference.tiny_detectors import write_tiny_detector
from tests.user_dirs import use_user_dirs

EDGETAM_URL = "https://huggingface.co/yonigozlan/EdgeTAM-hf/resolve/main/model.safetensors"


def _answer(tmp_path, detector: str):
    """The job's answer for ``detector`` with the default prompt model (edgetam, not on this computer)."""
    payload = {"detector": detector, "prompt_model": None, "device": "cpu", "names": ("ball", "crate"),
               "known": None, "max_pixels": None}
    return grounded_job(JobContext(("grounded", tmp_path / "photo.png"), payload, None, lambda: False))


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    write_tiny_detector(tmp_path / "data" / "models")  # its files are all here
    use_user_dirs(monkeypatch, tmp_path)
    return tmp_path / "cache" / "weights"


def test_a_missing_prompt_model_is_named_with_its_url_and_path(tmp_path, dirs):
    assert _answer(tmp_path, "tiny_owl") == ("missing", "edgetam",
                                             [(EDGETAM_URL, str(dirs / "edgetam.safetensors"))], ["edgetam"])


def test_the_detectors_files_and_the_prompt_models_are_named_at_once(tmp_path, dirs):
    missing, models, files, downloadable = _answer(tmp_path, "owlv2_base")
    assert downloadable == ["owlv2_base", "edgetam"]  # every file checked against the Hub's record
    assert (missing, models) == ("missing", "owlv2_base and edgetam")
    assert [path for _url, path in files] == [str(dirs / name) for name in (
        "owlv2_base.safetensors", "clip_vocab.json", "clip_merges.txt", "edgetam.safetensors")]
    assert files[-1][0] == EDGETAM_URL


def test_a_model_with_a_file_segview_cannot_check_is_not_offered_for_download(tmp_path, dirs):
    from tests.inference.tiny_sam import write_sam_card

    write_sam_card(tmp_path / "data" / "models", "unhashed", url="https://example.org/unhashed.safetensors")
    payload = {"detector": "tiny_owl", "prompt_model": "unhashed", "device": "cpu", "names": ("ball",),
               "known": None, "max_pixels": None}
    answer = grounded_job(JobContext(("grounded", tmp_path / "photo.png"), payload, None, lambda: False))
    assert answer[:2] == ("missing", "unhashed") and answer[3] == []
