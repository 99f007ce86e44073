"""`segview train-demo` and `segview eval` end to end: a tiny demo run (a few steps on 64-pixel scenes)."""

import contextlib
import inspect
import io

import pytest
import torch

from segview.cli import build_parser, main
from tests.inference.tiny_models import write_tiny_cards
from tests.user_dirs import use_user_dirs

TINY_RUN = ["--semantic-steps", "2", "--instance-steps", "2", "--size", "64", "--train-scenes", "4",
            "--eval-images", "2", "--threads", "1", "--semantic-batch-size", "2", "--instance-batch-size", "2",
            "--bn-batches", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The output folder and stdout of one tiny `segview train-demo` run."""
    out = tmp_path_factory.mktemp("demo")
    threads = torch.get_num_threads()
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setenv("SEGVIEW_DATA_DIR", str(out / "data"))
        mp.setenv("SEGVIEW_CACHE_DIR", str(out / "cache"))
        try:
            code = main(["train-demo", "--out", str(out / "models"), *TINY_RUN])
        finally:
            torch.set_num_threads(threads)
    assert code == 0, stdout.getvalue()
    return out / "models", stdout.getvalue()


@pytest.fixture
def env(monkeypatch, tmp_path):
    use_user_dirs(monkeypatch, tmp_path)
    return tmp_path / "data"


def test_train_demo_prints_progress_and_writes_three_cards_that_load(trained):
    from segview.inference.cards import load_card
    from segview.inference.pipeline import category_space
    from segview.train.scenes import DEMO_CATEGORIES

    models, out = trained
    assert "semantic 2/2 loss" in out and "instance 2/2 loss" in out
    assert "held-out evaluation: 2 images: mask_ap" in out and "| ball | thing |" in out
    for name in ("demo_semantic", "demo_instance", "demo_panoptic"):
        assert f"Wrote {models / name}.toml" in out
        assert name == "demo_panoptic" or (models / f"{name}.pt").is_file()
        assert load_card(models / f"{name}.toml").name == name
    assert category_space(load_card(models / "demo_panoptic.toml")).categories.ids == DEMO_CATEGORIES.ids


def test_eval_a_card_file_prints_ap_miou_and_pq(trained, env, capsys):
    models, _ = trained
    code = main(["eval", str(models / "demo_panoptic.toml"), "--seeds", "1000000:1000002", "--size", "64",
                 "--device", "cpu", "--stuff-area-limit", "16"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[0].startswith("Evaluated demo_panoptic on generated scenes 1000000-1000001 of 64×64: 2 images:")
    assert any(line.startswith("AP: mask 0.") for line in lines)
    assert any(line.startswith("mIoU: 0.") for line in lines)
    assert any(line.startswith("PQ: 0.") for line in lines)
    assert "| sky | stuff |" in captured.out
    assert "demo_panoptic on CPU" in captured.err


def test_eval_a_card_name_from_the_user_models(env, capsys):
    write_tiny_cards(env / "models")  # tiny_inst's categories are the demo's ball (1) and crate (2)
    code = main(["eval", "tiny_inst", "--seeds", "1000000:1000001", "--size", "64", "--device", "cpu"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Evaluated tiny_inst on generated scenes 1000000-1000000 of 64×64: 1 images" in captured.out
    assert "mIoU: - (not measured for this model)" in captured.out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", "no_such_model"], "Unknown model 'no_such_model'"),
        (["eval", "missing/card.toml"], "No model card missing/card.toml"),
        (["eval", "x", "--images", "imgs"], "--images goes with --coco"),
        (["train-demo", "--seed", "999999", "--train-scenes", "2"], "reach the held-out evaluation seeds"),
        (["train-demo", "--eval-images", "101"], "--eval-images is at most 100"),
    ],
)
def test_user_errors_print_one_line_and_exit_non_zero(env, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("segview: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_eval_rejects_a_bad_seed_range(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "x", "--seeds", "5:3"])
    assert exit_info.value.code == 2 and "B must be greater than A" in capsys.readouterr().err


def test_train_demo_defaults_are_train_demos():
    from segview.train.demo import train_demo

    demo = build_parser()._subparsers._group_actions[0].choices["train-demo"]
    signature = inspect.signature(train_demo).parameters
    for action in demo._actions:
        name = action.dest
        if name in signature and name not in ("out_dir", "device"):
            assert action.default == signature[name].default, name
    assert demo.get_default("device") == signature["device"].default


def test_eval_on_a_coco_file(trained, env, tmp_path, capsys):
    from PIL import Image

    from segview.core.dataset import Dataset, ImageRecord
    from segview.io.detect import DatasetFormat, save_dataset
    from segview.train.scenes import DEMO_CATEGORIES, generate_scene

    images = tmp_path / "imgs"
    images.mkdir()
    records = []
    for i, seed in enumerate((1_000_000, 1_000_001), start=1):
        image, annotation = generate_scene(seed, 64, 64)
        Image.fromarray(image).save(images / f"s{i}.png")
        records.append(ImageRecord(i, f"s{i}.png", 64, 64, annotation))
    assert save_dataset(Dataset(DEMO_CATEGORIES, records, images), DatasetFormat.COCO, tmp_path / "gt.json").ok
    models, _ = trained
    code = main(["eval", str(models / "demo_instance.toml"), "--coco", str(tmp_path / "gt.json"), "--images",
                 str(images), "--device", "cpu"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"Evaluated demo_instance on {tmp_path / 'gt.json'}: 2 images" in captured.out
    assert any(line.startswith("AP: mask 0.") for line in captured.out.splitlines())
