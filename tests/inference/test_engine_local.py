"""The local engine of `segview predict`: a run killed with SIGKILL leaves the earlier outputs whole, and
--resume completes it without predicting an image twice or listing one twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from segview.cli import main
from segview.inference import batch
from tests.user_dirs import use_user_dirs

ROOT = Path(__file__).resolve().parents[2]
DEMO = sorted((ROOT / "resources" / "demo").glob("scene_*.png"))


@pytest.fixture
def env(monkeypatch, tmp_path):
    use_user_dirs(monkeypatch, tmp_path)


def demo_folder(folder: Path, count: int, broken: bool = True) -> Path:
    """``count`` copies of the demo scenes (im00.png ...) and, with ``broken``, a corrupt broken.jpg."""
    folder.mkdir(parents=True)
    for i in range(count):
        shutil.copy(DEMO[i % len(DEMO)], folder / f"im{i:02d}.png")
    if broken:
        (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def predict(folder: Path, out: Path, *extra: str) -> list[str]:
    return ["predict", str(folder), "--model", "demo_panoptic", "--device", "cpu", "--out", str(out), *extra]


def assert_lists_only_written_masks(out: Path) -> None:
    """Every mask a final JSON names is there, and no image is listed twice."""
    panoptic = json.loads((out / "panoptic.json").read_text())
    for annotation in panoptic["annotations"]:
        assert (out / "panoptic" / annotation["file_name"]).is_file()
    for doc in (panoptic, json.loads((out / "instances.json").read_text())):
        names = [image["file_name"] for image in doc["images"]]
        assert len(names) == len(set(names))
    instances = json.loads((out / "instances.json").read_text())
    ids = [a["id"] for a in instances["annotations"]]
    assert len(ids) == len(set(ids))


def complete_lines(records: Path) -> int:
    return sum(line.endswith(b"\n") for shard in records.glob("*.jsonl") for line in shard.read_bytes().splitlines(True))


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and ".segview-predict" not in p.parts}


@pytest.mark.slow  # three runs of the demo model over 1 + 10 images, one in a subprocess killed mid-run
def test_a_killed_run_leaves_the_earlier_outputs_whole_and_resumes_without_duplicates(env, tmp_path, capsys,
                                                                                       monkeypatch):
    out = tmp_path / "out"
    assert main(predict(demo_folder(tmp_path / "earlier", 1, broken=False), out)) == 0  # an earlier run's outputs
    earlier = snapshot(out)
    images = demo_folder(tmp_path / "imgs", 9)  # 9 + 1 broken: enough for worker processes (8)
    run = subprocess.Popen([sys.executable, "-m", "segview.cli", *predict(images, out, "--workers", "1")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    records = out / ".segview-predict" / "records"
    deadline = time.monotonic() + 120
    while not records.is_dir() or complete_lines(records) < 2:  # polls another process's files
        assert run.poll() is None, run.stderr.read().decode()
        assert time.monotonic() < deadline, "no record after 120 s"
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)  # the run and its worker processes, mid-run
    run.wait()
    run.stderr.close()
    done = complete_lines(records)
    assert 2 <= done < 10
    assert snapshot(out) == earlier  # nothing of the killed run is published: the JSONs match their masks
    assert_lists_only_written_masks(out)

    todo_sizes = []
    real_run_local = batch.run_local

    def counting_run_local(model, images, todo, spec, **kwargs):
        todo_sizes.append(len(todo))
        return real_run_local(model, images, todo, spec, **kwargs)

    monkeypatch.setattr(batch, "run_local", counting_run_local)
    capsys.readouterr()
    assert main(predict(images, out, "--resume")) == 1  # broken.jpg was skipped (by either run): exit 1
    assert todo_sizes == [10 - done]  # the images the killed run finished are not predicted again
    printed = capsys.readouterr().out
    assert printed.count("broken.jpg: skipped:") == 1
    assert "Predicted 9 image(s), skipped 1" in printed
    assert_lists_only_written_masks(out)
    expected = [f"im{i:02d}.png" for i in range(9)]
    for name in ("instances.json", "panoptic.json"):
        assert sorted(i["file_name"] for i in json.loads((out / name).read_text())["images"]) == expected
    assert sorted(p.name for p in (out / "panoptic").glob("*.png")) == expected
    assert sorted(p.name for p in (out / "semantic").glob("*.png")) == expected
    assert not (out / ".segview-predict").exists()
    manifest = json.loads((out / ".segview-export.json").read_text())
    assert sorted(manifest["outputs"]["semantic-png"]) == sorted(
        [f"semantic/{n}" for n in expected] + ["semantic/classes.json", "semantic/classes.txt"])


def test_resume_refuses_an_interrupted_run_of_other_images(env, tmp_path, capsys):
    from segview.core.fusion import FusionParams
    from segview.inference.cards import get_card
    from segview.inference.pipeline import category_space
    from segview.inference.records import WORK_DIR, job_fingerprint, open_work_dir
    from segview.io.detect import DatasetFormat

    out = tmp_path / "out"
    formats = (DatasetFormat.COCO,)
    categories = category_space(get_card("demo_panoptic")).categories  # the model's, without its weights
    open_work_dir(out, job_fingerprint("demo_panoptic", None, formats, FusionParams(), ["a.png"], categories),
                  resume=False)
    folder = demo_folder(tmp_path / "imgs", 1, broken=False)
    assert main(predict(folder, out, "--format", "coco", "--resume")) == 2
    err = capsys.readouterr().err
    assert "differs from this one (image list sha256)" in err and "Traceback" not in err
    assert (out / WORK_DIR).is_dir()  # the interrupted run's work is kept for a resume with its images


def test_resume_with_no_interrupted_run_says_it_predicts_every_image(env, tmp_path, capsys):
    folder = demo_folder(tmp_path / "imgs", 1, broken=False)
    out = tmp_path / "out"
    assert main(predict(folder, out, "--format", "coco", "--resume")) == 0
    captured = capsys.readouterr()
    assert f"Nothing to resume in {out} (no interrupted run there): predicting every image." in captured.err
    assert "Predicted 1 image(s), skipped 0" in captured.out


def test_the_masks_of_a_run_are_the_fused_predictions(env, tmp_path, capsys):
    """What the pipelined engine writes is what the model and fusion give for each image, in every format;
    an image whose mask name another has (im00.jpg, im00.png) is skipped, saying so."""
    from segview.core.fusion import FusionParams, fuse
    from segview.core.views import semantic_view
    from segview.inference.pipeline import load_model
    from segview.io.coco_panoptic import rgb2id

    folder = demo_folder(tmp_path / "imgs", 1, broken=False)
    Image.open(folder / "im00.png").convert("RGB").save(folder / "im00.jpg", quality=90)
    out = tmp_path / "out"
    assert main(predict(folder, out)) == 1
    assert "im00.png: skipped: its mask name im00.png is already used by im00.jpg" in capsys.readouterr().out
    model = load_model("demo_panoptic", device="cpu")
    panoptic = {a["file_name"]: a for a in json.loads((out / "panoptic.json").read_text())["annotations"]}
    assert list(panoptic) == ["im00.png"]
    for name in ("im00.png",):
        image = np.asarray(Image.open(folder / "im00.jpg").convert("RGB"))
        fused = fuse(model.predict(image), model.categories, FusionParams())
        ids = rgb2id(np.asarray(Image.open(out / "panoptic" / name)))
        assert np.array_equal(ids, fused.segment_map)
        assert {s["id"]: s["category_id"] for s in panoptic[name]["segments_info"]} == {
            sid: s.category_id for sid, s in fused.segments.items()}
        semantic = np.asarray(Image.open(out / "semantic" / name))
        assert np.array_equal(semantic, semantic_view(fused))


def test_images_listed_and_read_through_an_fsspec_url_are_those_of_the_folder(tmp_path):
    from segview.core.report import Report
    from segview.inference.image_sources import list_images, read_source

    folder = demo_folder(tmp_path / "imgs", 2)
    (folder / "sub").mkdir()
    shutil.copy(DEMO[0], folder / "sub" / "deep.png")
    (folder / "notes.txt").write_text("not an image")
    local = list_images([folder], Report())
    remote = list_images([f"file://{folder}"], Report())
    assert remote.names == local.names == ["broken.jpg", "im00.png", "im01.png", "sub/deep.png"]
    assert remote.root == f"file://{folder}" and all(s.startswith("file:///") for s in remote.sources)
    assert np.array_equal(read_source(remote.sources[1], "im00.png"), read_source(local.sources[1], "im00.png"))
    from segview.errors import SegviewError

    with pytest.raises(SegviewError):
        read_source(remote.sources[0], "broken.jpg")
    with pytest.raises(SegviewError, match="not both"):
        list_images([folder, f"file://{folder}"], Report())



def test_writers_fork_from_a_server_except_in_the_frozen_app(monkeypatch):
    from segview.inference import engine_local

    assert engine_local._writer_context().get_start_method() == "forkserver"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert engine_local._writer_context().get_start_method() == "spawn"
