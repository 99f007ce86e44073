"""The Ray engine of `segview predict` on a local Ray instance: the same outputs as the local engine (compared
after sorting) and the same report for a corrupt image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import ray
from PIL import Image

from segview.cli import main
from tests.inference.test_engine_local import assert_lists_only_written_masks, demo_folder, env, predict  # noqa: F401


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _instances(out: Path) -> dict:
    doc = json.loads((out / "instances.json").read_text())
    del doc["info"]["date_created"]
    for annotation in doc["annotations"]:
        del annotation["id"]  # numbered in the order the records were merged
    doc["annotations"].sort(key=lambda a: (a["image_id"], json.dumps(a, sort_keys=True)))
    doc["images"].sort(key=lambda i: i["id"])
    return doc


def _panoptic(out: Path) -> dict:
    doc = json.loads((out / "panoptic.json").read_text())
    doc["annotations"].sort(key=lambda a: a["image_id"])
    doc["images"].sort(key=lambda i: i["id"])
    return doc


def _without_scores(items: list[dict]) -> tuple[list[dict], list[float]]:
    """Entries without their scores, and the scores: a model run with another number of threads (Ray gives an
    actor one per CPU it takes) sums in another order, so scores may differ in the 7th digit."""
    scores = [item.pop("score") for item in items if "score" in item]
    return items, scores


def _same(ours: dict, theirs: dict, key: str) -> None:
    """Two documents equal, the scores of their ``key`` entries (or of those entries' segments) within 1e-5."""
    for doc in (ours, theirs):
        doc[key] = [(entry, *_without_scores(entry.get("segments_info", [entry]))[1:]) for entry in doc[key]]
    mine_scores = [s for _, scores in ours[key] for s in scores]
    their_scores = [s for _, scores in theirs[key] for s in scores]
    assert their_scores == pytest.approx(mine_scores, rel=1e-5)
    assert [e for e, _ in theirs[key]] == [e for e, _ in ours[key]]
    assert {k: v for k, v in theirs.items() if k != key} == {k: v for k, v in ours.items() if k != key}


def _pixels(folder: Path) -> dict[str, np.ndarray]:
    return {p.relative_to(folder).as_posix(): np.asarray(Image.open(p)) for p in sorted(folder.rglob("*.png"))}


@pytest.mark.slow  # a local Ray instance (~10 s to start) and a model actor
@pytest.mark.usefixtures("env")
def test_ray_and_local_engines_write_the_same_outputs_and_skip_the_same_corrupt_image(local_ray, tmp_path, capsys):
    folder = demo_folder(tmp_path / "imgs", 3)
    assert main(predict(folder, tmp_path / "local")) == 1  # broken.jpg is skipped: exit 1 in both engines
    local_lines = [line for line in capsys.readouterr().out.splitlines() if "skipped" in line]
    assert main(predict(folder, tmp_path / "ray", "--engine", "ray", "--workers", "1")) == 1
    ray_lines = [line for line in capsys.readouterr().out.splitlines() if "skipped" in line]
    assert ray_lines == local_lines
    assert any("broken.jpg: skipped:" in line for line in ray_lines)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    assert len(_instances(local)["annotations"]) > 0 and len(_instances(local)["images"]) == 3
    _same(_instances(local), _instances(on_ray), "annotations")
    _same(_panoptic(local), _panoptic(on_ray), "annotations")
    for name in ("panoptic", "semantic"):
        ours, theirs = _pixels(local / name), _pixels(on_ray / name)
        assert ours.keys() == theirs.keys() and len(ours) == 3
        assert all(np.array_equal(ours[k], theirs[k]) for k in ours)
    for name in ("classes.json", "classes.txt"):
        assert (on_ray / "semantic" / name).read_text() == (local / "semantic" / name).read_text()
    assert_lists_only_written_masks(on_ray)
    assert not (on_ray / ".segview-predict").exists()


def _no_weights():
    from segview.inference.weights import WeightsError

    raise WeightsError("No weights for this model on this node: run `segview models download NAME` there.")


@pytest.mark.slow  # a model actor starts and fails
def test_a_user_error_in_a_ray_actor_is_raised_with_its_own_message(local_ray, tmp_path):
    from segview.core.categories import Category, CategorySet
    from segview.core.fusion import FusionParams
    from segview.core.report import Report
    from segview.errors import SegviewError
    from segview.inference.engine_ray import run_ray
    from segview.inference.image_sources import list_images
    from segview.inference.records import OutputSpec

    images = list_images([demo_folder(tmp_path / "imgs", 1, broken=False)], Report())
    spec = OutputSpec(tmp_path / "work", CategorySet([Category(1, "ball")]), (), FusionParams())
    with pytest.raises(SegviewError, match=r"^No weights for this model on this node: run `segview models"):
        run_ray(_no_weights, images, [0], spec)
