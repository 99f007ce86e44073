"""Model cards: the bundled cards, malformed cards, user cards and registered checkpoints."""

from __future__ import annotations

import importlib
import inspect
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torchvision.models import get_model_weights

from segview.inference.cards import (
    FROM_WEIGHTS,
    PREDICT_TASKS,
    CardError,
    ModelCategory,
    get_card,
    list_cards,
    load_card,
    resolve_categories,
    torchvision_weights,
    user_models_dir,
    weight_cards,
)
from segview.inference.user_cards import register_checkpoint
from segview.inference.weights import WeightsError, sha256_of

BUNDLED = {
    "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2", "deeplabv3_resnet50", "deeplabv3_resnet101",
    "deeplabv3_mobilenet_v3_large", "fcn_resnet50", "fcn_resnet101", "lraspp_mobilenet_v3_large",
    "coco_panoptic_pair",
}
DEMO = {"demo_instance", "demo_semantic", "demo_panoptic"}  # trained by segview, weights in models/
SHA = "ab" * 32


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


def _card_text(**overrides: str) -> str:
    """A valid instance card with a file source; keyword values replace whole lines (None drops them)."""
    lines = {
        "name": 'name = "{name}"',
        "title": 'title = "A test model"',
        "task": 'task = "instance"',
        "builder": 'builder = "torchvision.models.detection.maskrcnn_resnet50_fpn"',
        "licence": 'licence = "CC0"',
        "description": 'description = "Made for tests."',
        "extra": "",
        "categories": "[[categories]]\nid = 1\nname = \"cat\"\nisthing = true\n"
                      "[[categories]]\nid = 2\nname = \"grass\"\nisthing = false",
        "kwargs": "[builder_kwargs]\nnum_classes = 3",
        "weights": f'[weights]\nfile = "model.pth"\nsha256 = "{SHA}"',
        "input": "[input]\nmin_size = 512\nmax_size = 800",
    }
    lines.update(overrides)
    return "\n".join(v for v in lines.values() if v)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text.replace("{name}", name), encoding="utf-8")
    return path


# --- bundled cards -------------------------------------------------------------------------------


def test_every_bundled_card_loads():
    found = {card.name: card for card in list_cards()}
    assert {name for name, card in found.items() if card.task in PREDICT_TASKS} == BUNDLED | DEMO
    for card in found.values():
        assert load_card(card.path) == card
        assert not card.user and card.title and card.licence and card.description.strip()
    assert found["coco_panoptic_pair"].task == "panoptic" and found["demo_panoptic"].task == "panoptic"
    assert {found[n].task for n in BUNDLED - {"coco_panoptic_pair"}} <= {"instance", "semantic"}


@pytest.mark.parametrize("name", sorted(BUNDLED - {"coco_panoptic_pair"}))
def test_bundled_card_matches_torchvision(name):
    card = get_card(name)
    weights = torchvision_weights(card)
    assert str(weights) == card.weights.torchvision
    assert card.weights.file_name == Path(weights.url).name  # the caches are searched for this name
    module, _, function = card.builder.rpartition(".")
    builder = getattr(importlib.import_module(module), function)
    assert type(weights) is get_model_weights(builder)
    assert card.categories == FROM_WEIGHTS
    categories = resolve_categories(card)
    assert "N/A" not in {c.name for c in categories}
    if card.task == "instance":
        from torchvision.models.detection import MaskRCNN

        defaults = inspect.signature(MaskRCNN.__init__).parameters
        assert (card.input.min_size, card.input.max_size) == (defaults["min_size"].default,
                                                              defaults["max_size"].default)
        assert len(categories) == 80 and all(c.isthing for c in categories)
        assert categories[0] == ModelCategory(1, "person") and categories[-1].id == 90
    else:
        assert weights.transforms().resize_size == [card.input.resize]
        assert categories[0] == ModelCategory(0, "__background__", isthing=False)
        assert len(categories) == 21 and all(c.isthing for c in categories[1:])


def test_panoptic_pair_maps_voc_classes_to_coco_things():
    pair = get_card("coco_panoptic_pair")
    instance, semantic = weight_cards(pair)
    assert (instance.name, semantic.name) == ("maskrcnn_resnet50_fpn_v2", "deeplabv3_resnet50")
    semantic_names = [c.name for c in resolve_categories(semantic)]
    assert list(pair.mapping) == semantic_names
    stuff = {k: m.category for k, m in pair.mapping.items() if not m.isthing}
    assert stuff == {"__background__": "background"}
    fused = resolve_categories(pair)
    things = resolve_categories(instance)
    assert fused[:-1] == things
    assert fused[-1] == ModelCategory(91, "background", isthing=False)
    thing_names = {c.name for c in things}
    assert all(m.category in thing_names for m in pair.mapping.values() if m.isthing)


def test_listing_cards_does_not_import_torch(tmp_path):
    code = ("import sys; from segview.inference.cards import list_cards, get_card; list_cards(); "
            "get_card('coco_panoptic_pair'); print('torch' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_segview_models_list_does_not_import_torch(tmp_path):
    """Whether weights are present is a file look-up: the list took 4-13 s and 1 GB importing torchvision."""
    code = ("import sys; from segview.cli import main; main(['models', 'list']); "
            "print('torch' in sys.modules, 'torchvision' in sys.modules)")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "maskrcnn_resnet50_fpn_v2" in out and out.strip().endswith("False False")


# --- malformed cards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"title": 'title = "unterminated'}, ["not valid TOML"]),
        ({"licence": None}, ["key 'licence' is missing"]),
        ({"title": "title = 3"}, ["key 'title' must be", "not an integer 3"]),
        ({"task": 'task = "detection"'}, ["key 'task' is 'detection'", "'instance', 'semantic', 'panoptic'"]),
        ({"weights": f'[weights]\nfile = "a.pth"\nurl = "https://x.org/a.pth"\nsha256 = "{SHA}"'},
         ["key 'weights' has url and file", "exactly one"]),
        ({"weights": "[weights]\nsha256 = 'x'"}, ["key 'weights' has no source"]),
        ({"weights": '[weights]\nfile = "a.pth"'}, ["key 'weights.sha256' is missing"]),
        ({"weights": '[weights]\nfile = "a.pth"\nsha256 = "abc"'}, ["key 'weights.sha256' is 'abc'"]),
        ({"weights": '[weights]\nurl = "ftp://x.org/a.pth"\nsha256 = "' + SHA + '"'}, ["key 'weights.url'"]),
        ({"weights": '[weights]\ntorchvision = "MaskRCNN_ResNet50_FPN_Weights.COCO_V1"\nsha256 = "' + SHA + '"'},
         ["key 'weights.sha256' is not used with torchvision"]),
        ({"weights": '[weights]\ntorchvision = "not a name"'}, ["key 'weights.torchvision'"]),
        ({"weights": '[weights]\ntorchvision = "MaskRCNN_ResNet50_FPN_Weights.COCO_V1"\nfile_name = "../x.pth"'},
         ["key 'weights.file_name' is '../x.pth'"]),
        ({"weights": '[weights]\nfile = "a.pth"\nsha256 = "' + SHA + '"\nfile_name = "a.pth"'},
         ["key 'weights.file_name' is only for torchvision and url weights"]),
        ({"extra": 'licnese = "x"'}, ["key 'licnese' is not allowed", "allowed keys"]),
        ({"extra": 'instance = "x"'}, ["key 'instance' is not allowed in a instance card"]),
        ({"name": 'name = "other"'}, ["key 'name' is 'other'", "make them the same"]),
        ({"builder": 'builder = "os.system"'}, ["key 'builder'", "only torchvision.models and segview.inference.architectures builders"]),
        ({"kwargs": "[builder_kwargs]\nweights = 'DEFAULT'"}, ["key 'builder_kwargs.weights' is set by segview"]),
        ({"kwargs": "[builder_kwargs]\nnum_classes = 2"}, ["key 'builder_kwargs.num_classes' is 2"]),
        ({"categories": 'categories = "from-weights"'}, ["key 'categories'", "needs a torchvision weights"]),
        ({"categories": 'categories = "all"'}, ["key 'categories' is 'all'"]),
        ({"categories": "categories = []"}, ["non-empty list"]),
        ({"categories": "[[categories]]\nid = 0\nname = 'bg'\nisthing = false"},
         ["key 'categories' lists id 0", "number the classes of an instance model from 1"]),
        ({"categories": "[[categories]]\nid = 1\nname = 'a'\nisthing = true\n"
                        "[[categories]]\nid = 1\nname = 'b'\nisthing = true"}, ["key 'categories[1].id' repeats id 1"]),
        ({"categories": "[[categories]]\nid = 1\nname = 'a'\nisthing = 'yes'"},
         ["key 'categories[0].isthing' must be true or false"]),
        ({"categories": "[[categories]]\nid = 1\nname = 'a'"}, ["key 'categories[0].isthing' is missing"]),
        ({"input": "[input]\nresize = 520"}, ["key 'input.resize' is not allowed"]),
        ({"input": "[input]\nmin_size = 800\nmax_size = 600"}, ["key 'input.max_size' is 600"]),
        ({"input": "[input]\nmin_size = 0\nmax_size = 600"}, ["key 'input.min_size' is 0"]),
    ],
)
def test_bad_card_errors_name_file_and_key(tmp_path, overrides, expected):
    path = _write(tmp_path / "cards", "broken", _card_text(**overrides))
    with pytest.raises(CardError) as info:
        load_card(path)
    message = str(info.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_unreadable_card(tmp_path):
    with pytest.raises(CardError, match="cannot read the model card"):
        load_card(tmp_path / "missing.toml")


def test_valid_custom_card_with_file_source(tmp_path):
    path = _write(tmp_path / "cards", "mine", _card_text())
    card = load_card(path)
    assert card.weights.file == (tmp_path / "cards" / "model.pth").resolve()
    assert card.weights.sha256 == SHA and card.weights.kind == "file"
    assert card.categories == (ModelCategory(1, "cat", True), ModelCategory(2, "grass", False))
    assert resolve_categories(card) == card.categories
    assert card.builder_kwargs == {"num_classes": 3}
    assert (card.input.min_size, card.input.max_size) == (512, 800)


def _pair_text(instance="inst", semantic="sem", mapping=None):
    mapping = mapping or {"bg": ("sky", "false"), "cat": ("cat", "true")}
    entries = "\n".join(f'{k} = {{ category = "{c}", isthing = {t} }}' for k, (c, t) in mapping.items())
    return textwrap.dedent(f"""\
        name = "{{name}}"
        title = "pair"
        task = "panoptic"
        instance = "{instance}"
        semantic = "{semantic}"
        licence = "CC0"
        description = "Pair for tests."
        [mapping]
        """) + entries


def _semantic_card() -> str:
    return _card_text(
        task='task = "semantic"', kwargs="", input="[input]\nresize = 256",
        builder='builder = "torchvision.models.segmentation.fcn_resnet50"',
        categories="[[categories]]\nid = 0\nname = 'bg'\nisthing = false\n"
                   "[[categories]]\nid = 1\nname = 'cat'\nisthing = true",
    )


def test_pair_with_explicit_categories(tmp_path):
    folder = tmp_path / "cards"
    _write(folder, "inst", _card_text())
    _write(folder, "sem", _semantic_card())
    pair = load_card(_write(folder, "pair", _pair_text()))
    assert [c.name for c in weight_cards(pair)] == ["inst", "sem"]
    assert resolve_categories(pair) == (ModelCategory(1, "cat"), ModelCategory(2, "grass"),
                                        ModelCategory(3, "sky", isthing=False))


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ({"instance": "nosuch"}, ["key 'instance' names the unknown card 'nosuch'", "Known cards:", "inst"]),
        ({"instance": "sem"}, ["key 'instance' names 'sem', a semantic card"]),
        ({"mapping": {"bg": ("sky", "false")}}, ["does not map the semantic classes ['cat']"]),
        ({"mapping": {"bg": ("sky", "false"), "cat": ("cat", "true"), "dog": ("cat", "true")}},
         ["names classes the semantic model 'sem' does not have: ['dog']"]),
        ({"mapping": {"bg": ("sky", "false"), "cat": ("tiger", "true")}}, ["key 'mapping.cat' maps to the thing"]),
        ({"mapping": {"bg": ("cat", "false"), "cat": ("cat", "true")}}, ["key 'mapping.bg' makes 'cat' a stuff"]),
    ],
)
def test_bad_pair(tmp_path, pair, expected):
    folder = tmp_path / "cards"
    _write(folder, "inst", _card_text())
    _write(folder, "sem", _semantic_card())
    path = _write(folder, "pair", _pair_text(**pair))
    with pytest.raises(CardError) as info:
        load_card(path)
    assert str(path) in str(info.value)
    for part in expected:
        assert part in str(info.value)


def test_pair_cannot_have_weights(tmp_path):
    path = _write(tmp_path, "pair", _pair_text().replace("[mapping]", 'builder = "x"\n[mapping]'))
    with pytest.raises(CardError, match="key 'builder' is not allowed in a panoptic card"):
        load_card(path)


# --- user cards ----------------------------------------------------------------------------------


def test_get_card_unknown_lists_known_names():
    with pytest.raises(CardError) as info:
        get_card("nosuch")
    assert "Unknown model 'nosuch'" in str(info.value)
    assert "maskrcnn_resnet50_fpn_v2" in str(info.value) and "coco_panoptic_pair" in str(info.value)


def test_user_cards_are_listed_and_may_not_shadow_bundled_ones():
    _write(user_models_dir(), "mine", _card_text())
    assert get_card("mine").user
    assert [c.name for c in list_cards()][-1] == "mine"
    _write(user_models_dir(), "fcn_resnet50", _card_text())
    with pytest.raises(CardError, match="'fcn_resnet50' is defined twice"):
        list_cards()


def test_user_pair_refers_to_bundled_cards():
    mapping = {k: (m.category, str(m.isthing).lower()) for k, m in get_card("coco_panoptic_pair").mapping.items()}
    _write(user_models_dir(), "my_pair", _pair_text("maskrcnn_resnet50_fpn", "fcn_resnet50", mapping))
    pair = get_card("my_pair")
    assert [c.name for c in weight_cards(pair)] == ["maskrcnn_resnet50_fpn", "fcn_resnet50"]


# --- registering checkpoints ---------------------------------------------------------------------


def _tiny_state() -> dict[str, torch.Tensor]:
    return torch.nn.Sequential(torch.nn.Linear(4, 3)).state_dict()


def test_register_checkpoint_with_categories_in_checkpoint(tmp_path):
    checkpoint = tmp_path / "run" / "best.pth"
    checkpoint.parent.mkdir()
    stored = [{"id": 1, "name": "cat", "isthing": True}, {"id": 2, "name": "dog", "isthing": True}]
    state = dict(_tiny_state(), **{"aux_classifier.0.weight": torch.zeros(1)})
    torch.save({"model": state, "categories": stored}, checkpoint)
    card = register_checkpoint("pets", checkpoint, "deeplabv3_resnet50")
    assert card.path == (user_models_dir() / "pets.toml").resolve() and card.user
    assert get_card("pets") == card
    assert card.task == "semantic" and card.builder == get_card("deeplabv3_resnet50").builder
    assert card.categories == (ModelCategory(1, "cat"), ModelCategory(2, "dog"))
    assert card.builder_kwargs == {"num_classes": 3, "aux_loss": True}
    assert card.weights.file == checkpoint.resolve() and card.weights.sha256 == sha256_of(checkpoint)
    assert card.input.resize == 520
    assert "pets" in {c.name for c in list_cards()}


def test_register_checkpoint_with_given_categories(tmp_path):
    checkpoint = tmp_path / "plain.pth"
    torch.save(_tiny_state(), checkpoint)
    with pytest.raises(CardError, match="stores no categories"):
        register_checkpoint("cells", checkpoint, "maskrcnn_resnet50_fpn_v2")
    given = [ModelCategory(1, "cell"), {"id": 2, "name": "debris", "isthing": True}]
    card = register_checkpoint("cells", checkpoint, "maskrcnn_resnet50_fpn_v2", given)
    assert card.categories == (ModelCategory(1, "cell"), ModelCategory(2, "debris"))
    assert card.builder_kwargs == {"num_classes": 3}
    assert (card.input.min_size, card.input.max_size) == (800, 1333)
    with pytest.raises(CardError, match="exists already"):
        register_checkpoint("cells", checkpoint, "maskrcnn_resnet50_fpn_v2", given)
    again = register_checkpoint("cells", checkpoint, "maskrcnn_resnet50_fpn_v2", given[:1], overwrite=True)
    assert again.categories == (ModelCategory(1, "cell"),)


def test_register_checkpoint_errors(tmp_path):
    checkpoint = tmp_path / "plain.pth"
    torch.save({"model": _tiny_state(), "categories": [{"id": 1, "name": "a", "isthing": True}]}, checkpoint)
    with pytest.raises(CardError, match="bundled model called 'fcn_resnet50' exists"):
        register_checkpoint("fcn_resnet50", checkpoint, "fcn_resnet50", overwrite=True)
    with pytest.raises(CardError, match="is a panoptic pair"):
        register_checkpoint("x", checkpoint, "coco_panoptic_pair")
    with pytest.raises(CardError, match="not allowed"):
        register_checkpoint("../evil", checkpoint, "fcn_resnet50")
    with pytest.raises(CardError, match="differ from the ones given"):
        register_checkpoint("x", checkpoint, "fcn_resnet50", [ModelCategory(1, "b")])
    with pytest.raises(WeightsError, match="does not exist"):
        register_checkpoint("x", tmp_path / "missing.pth", "fcn_resnet50")
    zero = tmp_path / "zero.pth"
    torch.save(_tiny_state(), zero)
    with pytest.raises(CardError, match="lists id 0"):  # a detector's labels start at 1
        register_checkpoint("x", zero, "maskrcnn_resnet50_fpn", [ModelCategory(0, "bg", isthing=False)])
    assert not user_models_dir().exists() or not list(user_models_dir().iterdir())
