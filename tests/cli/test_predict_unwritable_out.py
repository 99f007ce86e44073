"""`segview predict --out` where no folder can be made: one line saying so, exit 2, no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from segview.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = sorted((ROOT / "resources" / "demo").glob("scene_*.png"))[0]


def test_predict_into_a_path_under_a_file_is_a_user_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    image = tmp_path / "scene.png"
    shutil.copy(DEMO, image)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code = main(["predict", str(image), "--model", "demo_semantic", "--device", "cpu", "--out",
                 str(blocker / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert f"Cannot write to {blocker / 'out'}" in err
    assert "--out" in err
