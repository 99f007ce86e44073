"""Meta's original SAM checkpoints (segment_anything names) load into transformers' SamModel: every key
renamed, every shape equal, nothing left over, the same outputs; and a SAM card downloads such a file,
checks its hash and runs it (from a local HTTP server, never the internet)."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from segview.core.prompts import PromptSet
from segview.inference.architectures import SAM_TIED, sam, sam_vision_config_of, tie_sam_weights
from segview.inference.cards import load_card
from segview.inference.pipeline import load_weights_into_model
from segview.inference.sam import SamPredictor
from segview.inference.sam_keys import hf_key, is_original_sam, rename_in_place, to_transformers
from segview.inference.weights import cache_dir, ensure_weights
from tests.file_server import serving_files
from tests.inference.tiny_sam import LONG_SIDE, TINY_VISION

# The state-dict key names and shapes of segment_anything's ViT-B, written by:
#   pip install --no-deps --target /tmp/sa segment-anything   (1.0; not a segview dependency)
#   PYTHONPATH=/tmp/sa python -c "import json; from segment_anything import sam_model_registry;
#     json.dump({k: list(v.shape) for k, v in sam_model_registry['vit_b']().state_dict().items()}, ...)"
FIXTURE = Path(__file__).parent / "fixtures" / "sam_vit_b_original_keys.json"
ORIGINAL_SHAPES: dict[str, list[int]] = json.loads(FIXTURE.read_text())
# Buffers of segment_anything's Sam (its input normalisation) that checkpoints saved by its first
# versions hold and SamModel has not: segview normalises the image itself.
NORMALISATION = {"pixel_mean": torch.tensor([123.675, 116.28, 103.53]).view(-1, 1, 1),
                 "pixel_std": torch.tensor([58.395, 57.12, 57.375]).view(-1, 1, 1)}


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


def _random_original(shapes: dict[str, list[int]], seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    state = {key: torch.randn(shape, generator=generator) * 0.05 for key, shape in shapes.items()}
    return state | {key: value.clone() for key, value in NORMALISATION.items()}


def _converted(original: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = to_transformers(original)
    tie_sam_weights(state)
    return state


def test_every_original_vit_b_key_becomes_a_sam_model_key_of_the_same_shape():
    with torch.device("meta"):
        original = {key: torch.empty(shape) for key, shape in ORIGINAL_SHAPES.items()} | NORMALISATION
        converted = _converted(original)
        config = sam_vision_config_of(converted)
        expected = sam(**config).state_dict()
    assert (config["hidden_size"], config["num_hidden_layers"], config["global_attn_indexes"]) == (768, 12, [2, 5, 8, 11])
    assert sorted(converted) == sorted(expected)  # nothing missing, nothing left over
    assert {k: tuple(v.shape) for k, v in converted.items()} == {k: tuple(v.shape) for k, v in expected.items()}
    assert len({hf_key(k) for k in ORIGINAL_SHAPES}) == len(ORIGINAL_SHAPES)  # no two keys merged
    assert set(SAM_TIED.values()) <= {hf_key(k) for k in ORIGINAL_SHAPES}  # the tied one comes from pe_layer


def test_some_renamings_by_name():
    assert hf_key("image_encoder.blocks.3.norm2.weight") == "vision_encoder.layers.3.layer_norm2.weight"
    assert hf_key("mask_decoder.output_hypernetworks_mlps.2.layers.1.bias") == \
        "mask_decoder.output_hypernetworks_mlps.2.layers.0.bias"
    assert hf_key("mask_decoder.iou_prediction_head.layers.2.weight") == "mask_decoder.iou_prediction_head.proj_out.weight"
    assert hf_key("mask_decoder.transformer.norm_final_attn.bias") == \
        "mask_decoder.transformer.layer_norm_final_attn.bias"
    assert hf_key("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix") == \
        "shared_image_embedding.positional_embedding"
    transformers_state = {"vision_encoder.pos_embed": torch.zeros(1)}
    rename_in_place(transformers_state)  # already in SamModel's names: untouched
    assert list(transformers_state) == ["vision_encoder.pos_embed"] and not is_original_sam(transformers_state)


def _card(folder: Path, weights_toml: str, name: str = "orig_sam") -> object:
    text = (f'name = "{name}"\ntitle = "{name}"\ntask = "prompt"\nbuilder = "segview.inference.architectures.sam"\n'
            f'licence = "MIT"\ndescription = "test"\n[weights]\n{weights_toml}\n[input]\n')
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text + f"long_side = {LONG_SIDE}\n")
    return load_card(folder / f"{name}.toml")


def test_an_original_vit_b_file_loads_through_its_card_like_the_converted_dict(tmp_path):
    original = _random_original(ORIGINAL_SHAPES)
    weights = tmp_path / "sam_vit_b_random.pth"
    torch.save(original, weights)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    card = _card(tmp_path, f'file = "{weights.name}"\nsha256 = "{sha}"')

    through_card = load_weights_into_model(card)  # strict: no missing or unexpected keys
    converted = _converted(original)
    direct = sam(**sam_vision_config_of(converted))
    direct.load_state_dict(converted, strict=True)
    loaded = through_card.state_dict()
    assert sorted(loaded) == sorted(direct.state_dict())
    assert all(torch.equal(loaded[k], v) for k, v in direct.state_dict().items())
    features = torch.randn(1, 256, 64, 64, generator=torch.Generator().manual_seed(1))
    points, labels = torch.tensor([[[[300.0, 200.0], [700.0, 650.0]]]]), torch.tensor([[[1, 0]]])
    with torch.inference_mode():
        a = through_card(image_embeddings=features, input_points=points, input_labels=labels)
        b = direct(image_embeddings=features, input_points=points, input_labels=labels)
    assert torch.equal(a.pred_masks, b.pred_masks) and torch.equal(a.iou_scores, b.iou_scores)


def _tiny_original(seed: int = 0) -> tuple[dict[str, torch.Tensor], torch.nn.Module]:
    """A tiny random SamModel and its weights under segment_anything's names (the fixture's names, mapped
    back), as Meta's files hold them."""
    torch.manual_seed(seed)
    model = sam(**TINY_VISION)
    to_original = {hf_key(key): key for key in ORIGINAL_SHAPES}
    state = {to_original[k]: v.clone() for k, v in model.state_dict().items() if k not in SAM_TIED}
    return state | NORMALISATION, model


@pytest.fixture
def server():
    with serving_files() as httpd:
        yield httpd


def test_a_sam_card_downloads_metas_format_checks_its_hash_and_segments(tmp_path, server):
    original, model = _tiny_original()
    saved = tmp_path / "served.pth"
    torch.save(original, saved)
    server.files["sam_tiny_0123ab.pth"] = saved.read_bytes()
    sha = hashlib.sha256(saved.read_bytes()).hexdigest()
    card = _card(tmp_path / "cards", f'url = "{server.url}/sam_tiny_0123ab.pth"\n'
                                     f'file_name = "sam_tiny_0123ab.pth"\nsha256 = "{sha}"')

    path = ensure_weights(card, allow_download=True)
    assert path == cache_dir() / "sam_tiny_0123ab.pth" and path.read_bytes() == saved.read_bytes()
    downloaded = SamPredictor.from_card(card, device="cpu")
    reference = SamPredictor(model, "reference", LONG_SIDE)
    image = np.random.default_rng(0).integers(0, 256, (180, 240, 3), dtype=np.uint8)
    embedding = downloaded.embed(image)
    np.testing.assert_array_equal(embedding.features, reference.embed(image).features)
    prompt = PromptSet(points=((120.0, 90.0, True),))
    got, want = downloaded.decode(embedding, prompt), reference.decode(embedding, prompt)
    assert len(got) == 3 and got[0][0].shape == (180, 240)
    for (mask, score), (mask_ref, score_ref) in zip(got, want, strict=True):
        np.testing.assert_array_equal(mask, mask_ref)
        assert score == score_ref
