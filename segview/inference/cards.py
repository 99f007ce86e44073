"""Model cards: one TOML file per model saying how to build it, where its weights come from, its
categories and its input size.

Cards live in the repository's ``models/`` folder (bundled) and in the user's data folder
(``<user data dir>/models``, overridable with ``SEGVIEW_DATA_DIR``). A card's ``name`` is its file name
without ``.toml``. Reading cards never imports torch; only the functions that must ask torchvision
(``torchvision_weights``, ``resolve_categories`` for ``categories = "from-weights"``) import it.

A category's ``id`` is the label the model outputs for that class: for detectors 0 is the implicit
background and never listed, for semantic models every output channel is listed (0 is usually the
background, a stuff class).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import platformdirs

from segview.bundled import bundled_path
from segview.errors import SegviewError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Task = Literal["instance", "semantic", "panoptic", "prompt", "detector"]
TASKS: tuple[str, ...] = ("instance", "semantic", "panoptic", "prompt", "detector")
PREDICT_TASKS: tuple[str, ...] = ("instance", "semantic", "panoptic")
"""Tasks whose models turn an image into a Prediction (the Model panel's choice); ``prompt`` models (the
Segment Anything family) turn points and boxes into masks, ``detector`` models (open vocabulary) class
names into boxes."""
PROMPT_TASKS: tuple[str, ...] = ("prompt", "detector")
DEFAULT_PROMPT_MODEL = "edgetam"
"""The prompt model of the prompt tool, Segment Everything and an open-vocabulary detector's boxes unless
another is chosen: the small, CPU-friendly one (bench/prompt.py)."""
FROM_WEIGHTS = "from-weights"
DATA_DIR_ENV = "SEGVIEW_DATA_DIR"

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""What a model name may look like (a card's file is named after it)."""
_BUILDER_RE = re.compile(r"^(torchvision\.models|segview\.inference\.architectures)(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_TORCHVISION_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*_Weights\.[A-Za-z][A-Za-z0-9_]*$")
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_COMMON_KEYS = {"name", "title", "task", "licence", "description", "hint"}
_MODEL_KEYS = _COMMON_KEYS | {"builder", "builder_kwargs", "weights", "categories", "input"}
_DETECTOR_KEYS = _MODEL_KEYS | {"tokenizer"}
_PAIR_KEYS = _COMMON_KEYS | {"instance", "semantic", "mapping"}
# segview builds every model with weights=None and loads the state dict itself (see weights.py).
_RESERVED_KWARGS = {"weights", "weights_backbone", "progress"}
_MISSING = object()


class CardError(SegviewError):
    """A model card (or a list of model categories) is malformed, inconsistent or unknown."""


@dataclass(frozen=True)
class ModelCategory:
    """One output class of a model: ``id`` is the label the model outputs for it."""

    id: int
    name: str
    isthing: bool = True


@dataclass(frozen=True)
class WeightsSource:
    """One of ``torchvision`` (a WeightsEnum name), ``url`` or ``file``; the last two need a sha256, or for a
    ``url`` on the Hugging Face Hub ``sha256_from = "huggingface"`` (the Hub's own record of the file's
    content, read as the download starts; files that cannot carry code only). A url card with neither, ``sha256_missing``,
    cannot be downloaded: only a copy the user has is taken."""

    torchvision: str | None = None
    url: str | None = None
    file: Path | None = None
    sha256: str | None = None
    file_name: str | None = None
    """With ``torchvision``: the name of the file it downloads, so that the caches are searched without
    importing torchvision (listing models took 4-13 s and 1 GB); checked against torchvision in the tests."""
    sha256_from_hub: bool = False

    @property
    def checkable(self) -> bool:
        """Whether segview can check a download of these weights (torchvision's hash in the file name, a
        url's sha256 or the Hub's record of one); it downloads nothing it cannot check."""
        return self.torchvision is not None or (self.url is not None and bool(self.sha256 or self.sha256_from_hub))

    @property
    def kind(self) -> str:
        return "torchvision" if self.torchvision else "url" if self.url else "file"


@dataclass(frozen=True)
class InputSize:
    """Detection models resize to ``min_size``/``max_size``; semantic models resize to ``resize``; prompt
    and detector models resize the longer side to ``long_side``."""

    min_size: int | None = None
    max_size: int | None = None
    resize: int | None = None
    long_side: int | None = None


@dataclass(frozen=True)
class ClassMapping:
    """Where a semantic class of a panoptic pair goes: a thing of the instance model, or a stuff category."""

    category: str
    isthing: bool


@dataclass(frozen=True)
class ModelCard:
    """A parsed model card. A panoptic pair has ``instance``, ``semantic`` and ``mapping`` instead of
    ``builder``, ``weights``, ``categories`` and ``input``."""

    name: str
    title: str
    task: Task
    licence: str
    description: str
    path: Path
    hint: str = ""  # one line the window shows under the model's name (what it is good for)
    user: bool = False
    builder: str | None = None
    builder_kwargs: dict[str, Any] = field(default_factory=dict)
    weights: WeightsSource | None = None
    categories: tuple[ModelCategory, ...] | str = ()
    input: InputSize | None = None
    instance: str | None = None
    semantic: str | None = None
    mapping: dict[str, ClassMapping] = field(default_factory=dict)
    tokenizer: dict[str, WeightsSource] = field(default_factory=dict)
    """A detector's tokenizer files (e.g. ``vocab`` and ``merges`` of CLIP's byte-pair encoding), each a
    source like ``weights``."""


def bundled_models_dir() -> Path:
    """The ``models/`` folder shipped with segview: package data when installed, the repository's
    top-level folder in a source checkout (segview.bundled)."""
    return bundled_path("models")


def user_data_dir() -> Path:
    """segview's folder in the user's data (``$SEGVIEW_DATA_DIR`` when that is set)."""
    return Path(os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("segview"))


def user_models_dir() -> Path:
    """The folder for the user's own cards (``$SEGVIEW_DATA_DIR/models`` when that is set)."""
    return user_data_dir() / "models"


def load_card(path: str | os.PathLike) -> ModelCard:
    """Read and validate one card; a pair's member cards must exist and have the right tasks."""
    card = _parse_file(Path(path))
    if card.task == "panoptic":
        _check_pair(card)
    return card


def list_cards() -> list[ModelCard]:
    """Every bundled card, then every user card, each group sorted by name."""
    return [load_card(path) for path in card_index().values()]


def get_card(name: str) -> ModelCard:
    """The card called ``name``; an unknown name raises an error listing the known ones."""
    index = card_index()
    if name not in index:
        raise CardError(
            f"Unknown model {name!r}. Known models: {', '.join(sorted(index)) or '(none)'}. "
            f"Add a card {name}.toml to {user_models_dir()} or register a checkpoint."
        )
    return load_card(index[name])


def weight_cards(card: ModelCard) -> list[ModelCard]:
    """The cards whose weights ``card`` needs: itself, or a pair's instance and semantic cards."""
    if card.task != "panoptic":
        return [card]
    return [_parse_file(_find_member(card, key)) for key in ("instance", "semantic")]


def file_cards(card: ModelCard) -> list[ModelCard]:
    """A card per file a model needs, that file as its ``weights``: its weights (a pair's two), then a
    detector's tokenizer files. The model is present when each of them is."""
    return weight_cards(card) + [replace(card, weights=source) for source in card.tokenizer.values()]


def torchvision_weights(card: ModelCard) -> Any:
    """The torchvision ``WeightsEnum`` member a card names (imports torchvision)."""
    if card.weights is None or card.weights.torchvision is None:
        raise CardError(f"{card.path}: model {card.name!r} has no torchvision weights source.")
    import torchvision
    from torchvision.models import get_weight

    try:
        return get_weight(card.weights.torchvision)
    except (ValueError, KeyError) as exc:
        raise CardError(
            f"{card.path}: key 'weights.torchvision' names {card.weights.torchvision!r}, which torchvision "
            f"{torchvision.__version__} does not know. Use an existing name such as "
            "'MaskRCNN_ResNet50_FPN_V2_Weights.COCO_V1' (see torchvision's model documentation)."
        ) from exc


def resolve_categories(card: ModelCard) -> tuple[ModelCategory, ...]:
    """A model's output classes; for a pair, the fused list: the instance model's things, then the
    stuff categories of the mapping with ids after the largest thing id."""
    if card.task == "panoptic":
        return _pair_categories(card)
    if card.categories != FROM_WEIGHTS:
        return card.categories  # type: ignore[return-value]
    names = torchvision_weights(card).meta.get("categories")
    if not names:
        raise CardError(f"{card.path}: the weights {card.weights.torchvision} list no categories; "
                        "replace categories = \"from-weights\" with [[categories]] tables.")
    if card.task == "instance":
        return tuple(ModelCategory(i, n) for i, n in enumerate(names) if i > 0 and n != "N/A")
    return tuple(ModelCategory(i, n, n != "__background__") for i, n in enumerate(names) if n != "N/A")


def parse_categories(items: object, source: str) -> tuple[ModelCategory, ...]:
    """Validate a list of ``{id, name, isthing}`` tables (from a card or a checkpoint)."""
    if not isinstance(items, list) or not items:
        raise CardError(f"{source}: 'categories' must be a non-empty list of {{id, name, isthing}} tables, "
                        f"not {_describe(items)}.")
    result: list[ModelCategory] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise CardError(f"{source}: categories[{i}] must be a table {{id, name, isthing}}, "
                            f"not {_describe(item)}.")
        reader = _Reader(source, dict(item), f"categories[{i}].")
        reader.reject_unknown({"id", "name", "isthing"}, "a category")
        category = ModelCategory(reader.integer("id", minimum=0), reader.text("name"), reader.flag("isthing"))
        if any(c.id == category.id for c in result):
            raise reader.error("id", f"repeats id {category.id}: give every category its own id")
        if any(c.name == category.name for c in result):
            raise reader.error("name", f"repeats name {category.name!r}: give every category its own name")
        result.append(category)
    return tuple(result)


# --- parsing -------------------------------------------------------------------------------------


class _Reader:
    """Typed access to one TOML table; every error names the source, the key and what to fix."""

    def __init__(self, source: str | Path, data: dict[str, Any], prefix: str = "") -> None:
        self.source = source
        self.data = data
        self.prefix = prefix

    def error(self, key: str, problem: str) -> CardError:
        full = f"{self.prefix}{key}" if key else self.prefix.rstrip(".")
        return CardError(f"{self.source}: key '{full}' {problem}.")

    def value(self, key: str, types: type | tuple[type, ...], what: str, default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self.error(key, f"is missing: add it ({what})")
            return default
        value = self.data[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise self.error(key, f"must be {what}, not {_describe(value)}")
        return value

    def text(self, key: str, what: str = "a non-empty string", default: Any = _MISSING) -> Any:
        value = self.value(key, str, what, default)
        if isinstance(value, str) and not value.strip():
            raise self.error(key, f"is empty: give {what}")
        return value

    def integer(self, key: str, minimum: int, default: Any = _MISSING) -> Any:
        value = self.value(key, int, f"an integer >= {minimum}", default)
        if isinstance(value, int) and value < minimum:
            raise self.error(key, f"is {value}: it must be an integer >= {minimum}")
        return value

    def flag(self, key: str) -> bool:
        return self.value(key, bool, "true or false")

    def table(self, key: str, what: str, default: Any = _MISSING) -> _Reader:
        return _Reader(self.source, self.value(key, dict, what, default), f"{self.prefix}{key}.")

    def reject_unknown(self, allowed: set[str], context: str) -> None:
        for key in self.data:
            if key not in allowed:
                allowed_keys = ", ".join(sorted(allowed))
                raise self.error(key, f"is not allowed in {context}; allowed keys: {allowed_keys}")


def _parse_file(path: Path) -> ModelCard:
    path = path.resolve()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{path}: not valid TOML ({exc}). Fix the syntax: strings need quotes, "
                        "tables are written [name].") from exc
    except OSError as exc:
        raise CardError(f"{path}: cannot read the model card: {exc.strerror or exc}.") from exc
    return parse_card(path, data)


def parse_card(path: Path, data: dict[str, Any]) -> ModelCard:
    """A card from its parsed TOML table, validated; ``path`` is the card file (named in errors, the folder
    that relative weight paths start from)."""
    reader = _Reader(path, data)
    task = reader.text("task", "one of " + ", ".join(repr(t) for t in TASKS))
    if task not in TASKS:
        raise reader.error("task", f"is {task!r}: it must be one of {', '.join(repr(t) for t in TASKS)}")
    allowed = _PAIR_KEYS if task == "panoptic" else _DETECTOR_KEYS if task == "detector" else _MODEL_KEYS
    reader.reject_unknown(allowed, f"a {task} card")
    name = reader.text("name", f"the card's file name without .toml, {path.stem!r}")
    if name != path.stem:
        raise reader.error("name", f"is {name!r} but the file is {path.name}: make them the same")
    common = {
        "name": name,
        "title": reader.text("title", "a one-line title"),
        "task": task,
        "licence": reader.text("licence", "the licence of the weights and of their training data"),
        "description": reader.text("description", "markdown: how the weights were made, how good they are"),
        "hint": reader.text("hint", "one line on what the model knows, shown under its name", default=None) or "",
        "path": path,
        "user": path.parent == user_models_dir().resolve(),
    }
    if task == "panoptic":
        return ModelCard(
            **common,
            instance=reader.text("instance", "the name of an instance card"),
            semantic=reader.text("semantic", "the name of a semantic card"),
            mapping=_parse_mapping(reader.table("mapping", "a table: semantic class = {category, isthing}")),
        )
    builder = reader.text("builder", "a builder such as 'torchvision.models.segmentation.fcn_resnet50'")
    if not _BUILDER_RE.match(builder):
        raise reader.error("builder", f"is {builder!r}: only torchvision.models and segview.inference.architectures builders are allowed, "
                                      "such as 'torchvision.models.detection.maskrcnn_resnet50_fpn_v2'")
    kwargs_reader = reader.table("builder_kwargs", "a table of keyword arguments", default={})
    for key in kwargs_reader.data:
        if key in _RESERVED_KWARGS:
            raise kwargs_reader.error(key, "is set by segview (it builds with weights=None and loads the "
                                           "weights itself): remove it and use the [weights] table")
    categories = () if task in PROMPT_TASKS and "categories" not in data else _parse_card_categories(reader, task)
    num_classes = kwargs_reader.data.get("num_classes")
    if isinstance(categories, tuple) and num_classes is not None and (
        not isinstance(num_classes, int) or num_classes <= max(c.id for c in categories)
    ):
        raise kwargs_reader.error("num_classes", f"is {num_classes!r}: it must exceed the largest category "
                                                 f"id, {max(c.id for c in categories)}")
    weights = _parse_weights(reader.table("weights", "a [weights] table"), path.parent)
    if categories == FROM_WEIGHTS and weights.torchvision is None:
        raise reader.error("categories", "is \"from-weights\", which needs a torchvision weights source: "
                                         "list the categories as [[categories]] tables {id, name, isthing}")
    return ModelCard(
        **common,
        builder=builder,
        builder_kwargs=dict(kwargs_reader.data),
        weights=weights,
        categories=categories,
        input=_parse_input(reader.table("input", "an [input] table", default={} if task in PROMPT_TASKS else _MISSING), task),
        tokenizer=_parse_tokenizer(reader, path.parent) if task == "detector" else {},
    )


def _parse_card_categories(reader: _Reader, task: str) -> tuple[ModelCategory, ...] | str:
    value = reader.value("categories", (str, list), f'"{FROM_WEIGHTS}" or [[categories]] tables')
    if isinstance(value, str):
        if value != FROM_WEIGHTS:
            raise reader.error("categories", f"is {value!r}: write \"{FROM_WEIGHTS}\" or [[categories]]")
        return FROM_WEIGHTS
    categories = parse_categories(value, str(reader.source))
    if task == "instance" and any(c.id == 0 for c in categories):
        raise reader.error("categories", "lists id 0, the detector's implicit background: "
                                         "number the classes of an instance model from 1")
    return categories


def _parse_weights(reader: _Reader, card_dir: Path) -> WeightsSource:
    reader.reject_unknown({"torchvision", "file_name", "url", "file", "sha256", "sha256_missing", "sha256_from"},
                          "[weights]")
    given = [key for key in ("torchvision", "url", "file") if key in reader.data]
    if len(given) != 1:
        found = " and ".join(given) if given else "no source"
        raise reader.error("", f"has {found}: give exactly one of torchvision, url + sha256, file + sha256")
    if given == ["torchvision"]:
        value = reader.text("torchvision", "a weights name such as 'FCN_ResNet50_Weights.COCO_V1'")
        if not _TORCHVISION_RE.match(value):
            raise reader.error("torchvision", f"is {value!r}: write EnumName_Weights.MEMBER, "
                                              "such as 'MaskRCNN_ResNet50_FPN_V2_Weights.COCO_V1'")
        if "sha256" in reader.data:
            raise reader.error("sha256", "is not used with torchvision weights (torchvision checks its own "
                                         "hash): remove it")
        file_name = None
        if "file_name" in reader.data:
            file_name = reader.text("file_name", "the name of the file torchvision downloads")
            if Path(file_name).name != file_name or not file_name.endswith((".pth", ".pt")):
                raise reader.error("file_name", f"is {file_name!r}: give the bare .pth name of the weights' URL")
        return WeightsSource(torchvision=value, file_name=file_name)
    if "file_name" in reader.data and given != ["url"]:
        raise reader.error("file_name", "is only for torchvision and url weights: remove it")
    if "sha256_from" in reader.data:
        return _hub_hashed(reader, given)
    if given == ["url"] and "sha256_missing" in reader.data and "sha256" not in reader.data:
        # No published hash found: the card says why, and downloading refuses (weights.ensure_weights).
        reader.text("sha256_missing", "why the card has no sha256 yet")
        return WeightsSource(url=_url(reader), file_name=_url_file_name(reader))
    if "sha256_missing" in reader.data:
        raise reader.error("sha256_missing", "is only for url weights without a sha256: remove it")
    sha256 = reader.text("sha256", "the file's sha256 as 64 hex digits (sha256sum FILE)")
    if not _SHA256_RE.match(sha256):
        raise reader.error("sha256", f"is {sha256!r}: write the 64 hex digits printed by sha256sum")
    if given == ["url"]:
        return WeightsSource(url=_url(reader), sha256=sha256.lower(), file_name=_url_file_name(reader))
    file = Path(reader.text("file", "a path, relative to the card or absolute")).expanduser()
    return WeightsSource(file=(card_dir / file).resolve(), sha256=sha256.lower())


def _hub_hashed(reader: _Reader, given: list[str]) -> WeightsSource:
    """url weights checked against what the Hugging Face Hub records of the file's content (its Git LFS
    pointer's SHA-256, or a small file's git object id), asked for when the download starts: for files that
    cannot carry code (safetensors, a tokenizer's json and txt) whose authors published no hash segview could
    pin in the card."""
    value = reader.text("sha256_from", '"huggingface"')
    if value != "huggingface":
        raise reader.error("sha256_from", f'is {value!r}: the only source is "huggingface"')
    if given != ["url"] or "sha256" in reader.data or "sha256_missing" in reader.data:
        raise reader.error("sha256_from", "is only for url weights without sha256 or sha256_missing")
    source = WeightsSource(url=_url(reader), file_name=_url_file_name(reader), sha256_from_hub=True)
    name = source.file_name or Path(urlparse(source.url).path).name
    if not name.endswith((".safetensors", ".json", ".txt")):
        raise reader.error("sha256_from", f"is for .safetensors, .json and .txt files; {name} can carry code, so "
                                          "its sha256 must be written in the card")
    return source


def _url(reader: _Reader) -> str:
    url = reader.text("url", "an http(s) URL")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not Path(parsed.path).name:
        raise reader.error("url", f"is {url!r}: give an http(s) URL that ends with the file name")
    return url


def _url_file_name(reader: _Reader) -> str | None:
    """The name a url download is stored under (several hubs call every file model.safetensors)."""
    if "file_name" not in reader.data:
        return None
    file_name = reader.text("file_name", "the name to store the download under")
    if Path(file_name).name != file_name or not file_name.endswith((".pth", ".pt", ".safetensors", ".bin", ".json", ".txt")):
        raise reader.error("file_name", f"is {file_name!r}: give a bare .safetensors, .pth, .pt or .bin name "
                                        "(.json or .txt for a tokenizer file)")
    return file_name


def _parse_tokenizer(reader: _Reader, card_dir: Path) -> dict[str, WeightsSource]:
    """A detector card's ``[tokenizer]`` table: file role (``vocab``, ``merges``) → a weights-like source."""
    tokenizer = reader.table("tokenizer", "a [tokenizer] table: vocab = {url, file_name, sha256}, merges = {...}")
    tokenizer.reject_unknown({"vocab", "merges"}, "[tokenizer]")
    if set(tokenizer.data) != {"vocab", "merges"}:
        raise tokenizer.error("", "needs both vocab and merges (CLIP's byte-pair encoding files)")
    return {key: _parse_weights(tokenizer.table(key, "a table {url, file_name, sha256} or {file, sha256}"), card_dir)
            for key in ("vocab", "merges")}


def _parse_input(reader: _Reader, task: str) -> InputSize:
    if task in PROMPT_TASKS:
        reader.reject_unknown({"long_side"}, f"[input] of a {task} card")
        return InputSize(long_side=reader.integer("long_side", 1, default=1024))
    if task == "instance":
        reader.reject_unknown({"min_size", "max_size"}, "[input] of an instance card")
        min_size, max_size = reader.integer("min_size", 1), reader.integer("max_size", 1)
        if max_size < min_size:
            raise reader.error("max_size", f"is {max_size}, smaller than min_size {min_size}")
        return InputSize(min_size=min_size, max_size=max_size)
    reader.reject_unknown({"resize"}, "[input] of a semantic card")
    return InputSize(resize=reader.integer("resize", 1))


def _parse_mapping(reader: _Reader) -> dict[str, ClassMapping]:
    if not reader.data:
        raise reader.error("", "is empty: map every class of the semantic model")
    mapping = {}
    for key in reader.data:
        entry = reader.table(key, "a table {category = NAME, isthing = true|false}")
        entry.reject_unknown({"category", "isthing"}, "a mapping entry")
        mapping[key] = ClassMapping(entry.text("category"), entry.flag("isthing"))
    return mapping


# --- panoptic pairs ------------------------------------------------------------------------------


def _check_pair(card: ModelCard) -> None:
    """Members exist with the right tasks; with explicit categories, the mapping fits them."""
    members = {}
    for key in ("instance", "semantic"):
        member = _parse_file(_find_member(card, key))
        if member.task != key:
            raise CardError(f"{card.path}: key '{key}' names {member.name!r}, a {member.task} card: "
                            f"name a {key} card.")
        members[key] = member
    semantic_categories = members["semantic"].categories
    if isinstance(semantic_categories, tuple):
        _check_mapping_covers(card, [c.name for c in semantic_categories])
    instance_categories = members["instance"].categories
    if isinstance(instance_categories, tuple):
        _check_mapping_targets(card, {c.name for c in instance_categories})


def _pair_categories(card: ModelCard) -> tuple[ModelCategory, ...]:
    instance, semantic = weight_cards(card)
    things = tuple(ModelCategory(c.id, c.name, True) for c in resolve_categories(instance))
    _check_mapping_covers(card, [c.name for c in resolve_categories(semantic)])
    _check_mapping_targets(card, {c.name for c in things})
    stuff = list(dict.fromkeys(m.category for m in card.mapping.values() if not m.isthing))
    next_id = max((c.id for c in things), default=0) + 1
    return things + tuple(ModelCategory(next_id + i, name, False) for i, name in enumerate(stuff))


def _check_mapping_covers(card: ModelCard, semantic_names: list[str]) -> None:
    unmapped = [n for n in semantic_names if n not in card.mapping]
    if unmapped:
        raise CardError(f"{card.path}: key 'mapping' does not map the semantic classes {unmapped}: add an "
                        "entry {category, isthing} for each.")
    unknown = [n for n in card.mapping if n not in semantic_names]
    if unknown:
        raise CardError(f"{card.path}: key 'mapping' names classes the semantic model {card.semantic!r} does "
                        f"not have: {unknown}. Its classes are {semantic_names}.")


def _check_mapping_targets(card: ModelCard, thing_names: set[str]) -> None:
    for key, target in card.mapping.items():
        if target.isthing and target.category not in thing_names:
            raise CardError(f"{card.path}: key 'mapping.{key}' maps to the thing {target.category!r}, which "
                            f"the instance model {card.instance!r} does not have: use one of its categories.")
        if not target.isthing and target.category in thing_names:
            raise CardError(f"{card.path}: key 'mapping.{key}' makes {target.category!r} a stuff category, "
                            "but the instance model has a thing of that name: set isthing = true or rename.")


# --- finding cards -------------------------------------------------------------------------------


def card_index() -> dict[str, Path]:
    """Card name → path over the bundled and user folders; a name defined twice is an error."""
    index: dict[str, Path] = {}
    for folder in (bundled_models_dir(), user_models_dir()):
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            if path.stem in index:
                raise CardError(f"Model {path.stem!r} is defined twice: {index[path.stem]} and {path}. "
                                "Rename or remove one of them.")
            index[path.stem] = path
    return index


def _find_member(card: ModelCard, key: str) -> Path:
    name = card.instance if key == "instance" else card.semantic
    folders = list(dict.fromkeys([card.path.parent, bundled_models_dir(), user_models_dir()]))
    for folder in folders:
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    known = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.toml")})
    raise CardError(f"{card.path}: key '{key}' names the unknown card {name!r}. Known cards: "
                    f"{', '.join(known)}. Fix the name or add {name}.toml beside this card.")


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    kinds = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list"}
    return f"{kinds.get(type(value), type(value).__name__)} {value!r}"
