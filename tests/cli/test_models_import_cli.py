"""`segview models import`: a checkpoint that cannot be loaded as its base model is refused at once."""

from __future__ import annotations

import torch

from segview.cli import main
from tests.inference.tiny_models import write_tiny_cards


def test_import_refuses_a_checkpoint_of_another_architecture_and_keeps_the_good_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    models = tmp_path / "data" / "models"
    write_tiny_cards(models)
    from dataclasses import asdict

    from segview.inference.cards import get_card

    good = tmp_path / "good.pt"
    torch.save({"model": torch.load(models / "tiny_inst.pt", weights_only=True)["model"],
                "categories": [asdict(c) for c in get_card("tiny_inst").categories]}, good)
    assert main(["models", "import", "mine", str(good), "--base", "tiny_inst"]) == 0
    assert (models / "mine.toml").is_file()
    wrong = tmp_path / "wrong.pt"
    torch.save({"model": {"foo.weight": torch.zeros(3, 3)},
                "categories": [{"id": 1, "name": "ball", "isthing": True}]}, wrong)
    capsys.readouterr()
    assert main(["models", "import", "wrong", str(wrong), "--base", "tiny_inst"]) == 2
    err = capsys.readouterr().err
    assert "not registered" in err and "does not fit" in err
    assert not (models / "wrong.toml").exists()
    assert main(["models", "list"]) == 0
    assert "wrong " not in capsys.readouterr().out
