"""`segview models list | download`: a model is present only with all its files (a detector's tokenizer too)."""

from __future__ import annotations

from segview.cli import main
from tests.inference.tiny_detectors import write_tiny_detector


def _row(out: str, name: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.startswith(f"{name} "))


def test_a_detector_without_its_tokenizer_files_is_not_present_and_is_not_downloaded(tmp_path, monkeypatch,
                                                                                      capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(cache))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    (cache / "weights").mkdir(parents=True)
    (cache / "weights" / "owlv2_base.safetensors").write_bytes(b"the model, not its tokenizer")
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "owlv2_base")[2] == "no"
    assert main(["models", "download", "owlv2_base"]) == 2
    err = capsys.readouterr().err
    assert "2 of its files" in err and "owlv2_base.safetensors" not in err
    for name in ("vocab.json", "merges.txt"):
        assert f"owlv2-base-patch16-ensemble/resolve/main/{name} as {cache / 'weights' / ('clip_' + name)}" in err
    (cache / "weights" / "clip_vocab.json").write_text("{}")
    assert main(["models", "download", "owlv2_base"]) == 2
    assert "1 of its files has no published SHA-256 to check it against" in capsys.readouterr().err
    for name in ("clip_vocab.json", "clip_merges.txt"):
        (cache / "weights" / name).write_text("{}")
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "owlv2_base")[2] == "yes"


def test_a_detector_card_with_a_local_tokenizer_file_gone_is_not_present(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    models = tmp_path / "data" / "models"
    write_tiny_detector(models)
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "tiny_owl")[2] == "yes"
    (models / "tiny-merges.txt").unlink()
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "tiny_owl")[2] == "no"
    assert main(["models", "download", "tiny_owl"]) == 2
    assert str(models / "tiny-merges.txt") in capsys.readouterr().err
