"""`segview models list | download`: a model is present only with all its files (a detector's tokenizer too),
and files it cannot check are refused before anything is downloaded."""

from __future__ import annotations

from segview.cli import main
from tests.inference.tiny_detectors import write_tiny_detector
from tests.user_dirs import use_user_dirs


def _row(out: str, name: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.startswith(f"{name} "))


def test_a_detector_without_its_tokenizer_files_is_not_present_and_only_they_are_fetched(tmp_path, monkeypatch,
                                                                                         capsys):
    cache = tmp_path / "cache"
    use_user_dirs(monkeypatch, tmp_path)
    (cache / "weights").mkdir(parents=True)
    (cache / "weights" / "owlv2_base.safetensors").write_bytes(b"the model, not its tokenizer")
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "owlv2_base")[2] == "no"
    assert main(["models", "download", "owlv2_base"]) == 2  # tests do not reach the Hub
    err = capsys.readouterr().err
    assert "Cannot reach huggingface.co to download" in err and "resolve/main/vocab.json" in err and "owlv2_base.safetensors" not in err
    assert f"save it as {cache / 'weights' / 'clip_vocab.json'}" in err
    for name in ("clip_vocab.json", "clip_merges.txt"):
        (cache / "weights" / name).write_text("{}")
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "owlv2_base")[2] == "yes"


def test_a_detector_with_files_it_cannot_check_refuses_before_downloading_anything(tmp_path, monkeypatch, capsys):
    from segview.bundled import bundled_path

    cache = tmp_path / "cache"
    use_user_dirs(monkeypatch, tmp_path)
    text = (bundled_path("models") / "owlv2_base.toml").read_text().replace('name = "owlv2_base"', 'name = "owl_unhashed"')
    head, _, tokenizer = text.partition("[tokenizer.vocab]")
    tokenizer = "\n".join('sha256_missing = "no hash"' if line.startswith("sha256_from") else line
                          for line in tokenizer.splitlines())
    (tmp_path / "data" / "models").mkdir(parents=True)
    (tmp_path / "data" / "models" / "owl_unhashed.toml").write_text(f"{head}[tokenizer.vocab]{tokenizer}\n")
    assert main(["models", "download", "owl_unhashed"]) == 2
    err = capsys.readouterr().err
    assert "2 of its files have no published SHA-256" in err and "Cannot reach" not in err  # nothing asked
    for name in ("vocab.json", "merges.txt"):
        assert f"owlv2-base-patch16-ensemble/resolve/main/{name} as {cache / 'weights' / ('clip_' + name)}" in err
    (cache / "weights").mkdir(parents=True)
    (cache / "weights" / "clip_vocab.json").write_text("{}")
    assert main(["models", "download", "owl_unhashed"]) == 2
    assert "1 of its files has no published SHA-256 to check it against" in capsys.readouterr().err


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
