"""Fuzzing the four readers through the command line: mutated COCO, COCO panoptic, semantic PNG and
labelme datasets go through `segview validate` and `segview convert` to every format, in process.

Every run must end with exit status 0, 1 or 2 and no exception, print no traceback, write nothing outside
--out, and leave nothing in --out when it failed (status 2, or "Nothing written"). Run with ``-s`` to see
the tally (inputs run, exit statuses, clean errors).
"""

import contextlib
import copy
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from segview.cli import main
from segview.io.coco import save_coco
from segview.io.coco_panoptic import save_coco_panoptic
from segview.io.detect import load_dataset
from segview.io.semantic_png import save_semantic_png

_BUDGET = 1_000_000  # pixels: a size the mutated file claims stays cheap to refuse or to paint
_EXAMPLES = int(os.environ.get("SEGVIEW_FUZZ_EXAMPLES", "150"))  # per reader: about 5 s each

EVIL = [
    None, True, False, 0, -1, -3, 0.5, 1e308, float("nan"), 2**31, 2**32, 2**33, 2**63, 2**64, -(2**63) - 1,
    10**40, "", " ", "\ud800", "\udcff.png", "a\x00.png", "a\nb", "b/" * 2000 + "x.png", "a" * 300, "../../x.png",
    "/nonexistent/x.png", "#zzzzzz", [], {}, [[]], [1, 2], [[1, 2, 3, 4, 5, 6]], {"a": 1},
    {"size": [6, 8], "counts": "0"}, {"size": [6, 8], "counts": [48]}, {"size": [2**40, 1], "counts": [1]},
]
VALUES = st.one_of(
    st.sampled_from(EVIL),
    st.integers(-(2**65), 2**65),
    st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(-2, 40), max_size=8),
)


def _tiny_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _coco_document() -> dict:
    return {
        "images": [
            {"id": 1, "file_name": "img0.png", "width": 8, "height": 6},
            {"id": 2, "file_name": "sub/img1.png", "width": 8, "height": 6},
        ],
        "categories": [
            {"id": 1, "name": "cat", "isthing": 1, "color": [200, 10, 10], "supercategory": "animal"},
            {"id": 2, "name": "sky", "isthing": 0},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 6, 1, 6, 5, 1, 5]], "area": 20,
             "bbox": [1, 1, 5, 4], "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 1, "segmentation": {"size": [6, 8], "counts": [7, 4, 2, 4, 31]},
             "area": 8, "bbox": [1, 1, 2, 4], "iscrowd": 1},
            {"id": 3, "image_id": 2, "category_id": 2, "segmentation": [[4, 0, 8, 0, 8, 6, 4, 6]], "score": 0.9},
        ],
    }


def _labelme_document(image: str) -> dict:
    return {
        "version": "5.4.1", "flags": {}, "imagePath": image, "imageData": None, "imageHeight": 6, "imageWidth": 8,
        "shapes": [
            {"label": "cat", "points": [[1, 1], [6, 1], [6, 5]], "group_id": None, "shape_type": "polygon",
             "flags": {}},
            {"label": "dog", "points": [[0, 0], [3, 3]], "group_id": 1, "shape_type": "rectangle", "flags": {}},
            {"label": "ball", "points": [[4, 3], [5, 4]], "group_id": None, "shape_type": "circle", "flags": {}},
        ],
    }


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    """One valid dataset per reader, each in its own folder with its images; the input path by reader."""
    root = tmp_path_factory.mktemp("fuzz_bases")
    paths = {}
    for reader in ("coco", "coco-panoptic", "semantic-png", "labelme"):
        folder = root / reader
        for name in ("img0.png", "sub/img1.png"):
            _tiny_png(folder / name, np.full((6, 8, 3), 90, np.uint8))
        paths[reader] = folder
    (root / "coco" / "instances.json").write_text(json.dumps(_coco_document()))
    dataset, report = load_dataset(root / "coco" / "instances.json")
    assert report.ok, report.format()
    assert save_coco(dataset, root / "coco" / "instances.json").ok
    assert save_coco_panoptic(dataset, root / "coco-panoptic" / "panoptic.json").ok
    assert save_semantic_png(dataset, root / "semantic-png" / "masks").ok
    for name in ("img0", "sub/img1"):
        document = _labelme_document(Path(name).name + ".png")
        (root / "labelme" / f"{name}.json").write_text(json.dumps(document))
    return {
        "coco": root / "coco" / "instances.json",
        "coco-panoptic": root / "coco-panoptic" / "panoptic.json",
        "semantic-png": root / "semantic-png" / "masks",
        "labelme": root / "labelme",
    }


def _documents(case: Path, reader: str) -> list[Path]:
    """The JSON files of a dataset copy, one of which a case mutates."""
    if reader == "semantic-png":
        return [case / "masks" / "classes.json"]
    if reader == "labelme":
        return sorted(case.rglob("*.json"))
    return [case / ("instances.json" if reader == "coco" else "panoptic.json")]


def _masks(case: Path, reader: str) -> list[Path]:
    """The mask PNGs of a dataset copy that mutations may replace."""
    folder = {"coco-panoptic": case / "panoptic", "semantic-png": case / "masks"}.get(reader)
    return sorted(folder.rglob("*.png")) if folder else []


def _locations(value: object, at: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into a JSON value, the value itself included."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _locations(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _locations(item, (*at, index))
    return found


@st.composite
def mutated_json(draw, document: object) -> object:
    """``document`` with one to three of its values replaced, keys deleted or entries duplicated."""
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_locations(document)))
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "duplicate"]))
        if not where:
            document = copy.deepcopy(draw(VALUES)) if action == "replace" else document
            continue
        parent = document
        for step in where[:-1]:
            parent = parent[step]
        key = where[-1]
        if action == "replace":
            parent[key] = copy.deepcopy(draw(VALUES))  # EVIL's lists and dicts are shared
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[key])))
    return document


@st.composite
def fuzz_case(draw, reader: str):
    """(mutations of the dataset's JSON files, replacements of its mask PNGs, the command's arguments)."""
    command = draw(st.sampled_from(["validate", "coco", "coco-panoptic", "semantic-png"]))
    options = draw(st.lists(st.sampled_from(["--no-check-images", "--allow-errors"]), unique=True))
    mask_bytes = draw(st.one_of(
        st.none(),
        st.binary(max_size=40),
        st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from(["L", "RGB", "I;16", "RGBA", "1"])),
    ))
    extra = draw(st.sampled_from([None, None, "dangling link", "folder", "empty file", "binary file"]))
    return draw(st.randoms(use_true_random=False)), command, options, mask_bytes, extra


def _add_entry(folder: Path, kind: str | None) -> None:
    """An odd entry named like the dataset's files in the folder the reader lists."""
    for name in ("odd.json", "odd.png"):
        path = folder / name
        if kind == "dangling link":
            path.symlink_to("/nonexistent/odd")
        elif kind == "folder":
            path.mkdir()
        elif kind == "empty file":
            path.write_bytes(b"")
        elif kind == "binary file":
            path.write_bytes(bytes(range(256)))


def _mask_payload(spec, seed: int) -> bytes:
    """A mask PNG replacement: raw bytes, or a small image of random values in the mode given."""
    if isinstance(spec, bytes):
        return spec
    width, height, mode = spec
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 8, size=(height, width, 3) if mode in ("RGB", "RGBA") else (height, width))
    image = Image.fromarray(values.astype(np.uint8)).convert(mode)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): (b"" if p.is_dir() else p.read_bytes())
            for p in folder.rglob("*") if not p.is_symlink()}


def _run(argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` with stdout and stderr in strict UTF-8 streams, as a terminal's."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse: a value it refuses (status 2)
            status = exc.code if isinstance(exc.code, int) else 2
    return status, out.buffer.getvalue().decode("utf-8")


@pytest.fixture(scope="module")
def tally():
    counts: Counter = Counter()
    yield counts
    print(f"\nfuzz: {counts['runs']} runs; exit 0: {counts[0]}, 1: {counts[1]}, 2 (one-line error): {counts[2]}; "
          f"tracebacks: {counts['tracebacks']}")


@pytest.mark.parametrize("reader", ["coco", "coco-panoptic", "semantic-png", "labelme"])
def test_mutated_datasets_end_cleanly(bases, tally, max_pixels, reader):
    base = bases[reader]
    folder = base.parent

    @settings(max_examples=_EXAMPLES, deadline=None, database=None)
    @given(data=st.data())
    def run(data):
        random, command, options, mask_spec, extra = data.draw(fuzz_case(reader))
        with tempfile.TemporaryDirectory() as temp:
            case = Path(temp) / "case"
            shutil.copytree(folder, case)
            path = data.draw(st.sampled_from(_documents(case, reader)))
            path.write_text(json.dumps(data.draw(mutated_json(json.loads(path.read_text())))))
            masks = _masks(case, reader)
            if mask_spec is not None and masks:
                random.choice(masks).write_bytes(_mask_payload(mask_spec, random.randrange(2**32)))
            listed = {"semantic-png": case / "masks", "coco-panoptic": case / "panoptic"}.get(reader, case)
            _add_entry(listed, extra)
            before = _files(Path(temp))
            target = case / base.name
            out = Path(temp) / "out"
            if command == "validate":
                argv = ["validate", str(target), *[o for o in options if o != "--allow-errors"]]
            else:
                name = "masks" if command == "semantic-png" else "result.json"
                argv = ["convert", str(target), "--to", command, "--out", str(out / name), *options]
            status, printed = _run([*argv, "--max-pixels", str(_BUDGET)])
            tally["runs"] += 1
            tally[status] += 1
            tally["tracebacks"] += "Traceback" in printed
            assert status in (0, 1, 2), printed
            assert "Traceback" not in printed
            if status == 2:
                assert printed.strip().splitlines()[-1].startswith("segview: error: "), printed
            outside = {k: v for k, v in _files(Path(temp)).items() if not k.startswith("out")}
            assert outside == before, f"{argv}: files outside --out changed"
            if status == 2 or "Nothing written" in printed:
                assert not out.exists() or not any(out.rglob("*")), f"{argv} left {_files(out)}\n{printed}"

    run()
