"""A tiny Segment Anything (transformers' SamModel, random weights, a 256-pixel frame) and an EdgeTAM of the
same frame, saved as prompt cards with .safetensors files, for tests that run the real architectures
without downloading anything."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors.torch import save_file

from segview.inference.cards import ModelCard, load_card

TINY_VISION = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "mlp_dim": 64,
               "global_attn_indexes": [1], "image_size": 256}
LONG_SIDE = 256


def write_sam_card(folder: Path, name: str = "tiny_sam", *, list_sizes: bool = True, seed: int = 0,
                   url: str | None = None, hub: bool = False) -> ModelCard:
    """Save a random tiny SAM's weights beside a prompt card naming them with their sha256. Without
    ``list_sizes`` the card gives no encoder sizes (like SlimSAM's): they are read from the weights. With
    ``url`` the card's weights come from there with no sha256: segview does not have them until a person
    gives the file beside the card (Use a local file…), or, with ``hub``, downloads them checked against
    the Hub's record of the file (like EdgeTAM's and SlimSAM's)."""
    from segview.inference.architectures import SAM_TIED, sam

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = sam(**TINY_VISION)
    weights = folder / f"{name}.safetensors"
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k not in SAM_TIED}  # as save_pretrained
    save_file(state, weights)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    kwargs = "\n".join(f"{key} = {value!r}".replace("'", '"') for key, value in TINY_VISION.items())
    checked = 'sha256_from = "huggingface"' if hub else 'sha256_missing = "a test"'
    source = (f'url = "{url}"\nfile_name = "{name}.safetensors"\n{checked}\n' if url else
              f'file = "{name}.safetensors"\nsha256 = "{sha}"\n')
    text = (
        f'name = "{name}"\ntitle = "{name}"\ntask = "prompt"\n'
        f'builder = "segview.inference.architectures.sam"\nlicence = "MIT"\ndescription = "test"\n'
        + (f"[builder_kwargs]\n{kwargs}\n" if list_sizes else "")
        + f'[weights]\n{source}[input]\nlong_side = {LONG_SIDE}\n'
    )
    (folder / f"{name}.toml").write_text(text)
    return load_card(folder / f"{name}.toml")


VIDEO_ONLY_KEYS = ("memory_attention.layers.0.linear1.weight", "spatial_perceiver.latents",
                   "no_object_pointer")  # as in the published EdgeTAM file (the video model's memory)


def write_edgetam_card(folder: Path, name: str = "tiny_edgetam", *, seed: int = 0,
                       extra_keys: tuple[str, ...] = VIDEO_ONLY_KEYS, timm_level: bool = True) -> ModelCard:
    """Save a random EdgeTAM (transformers' EdgeTamModel over timm's RepViT, a 256-pixel frame) beside a
    prompt card, with ``extra_keys`` added to the file as the published video checkpoint has them; without
    ``timm_level`` the backbone's keys lack transformers' ``timm_model.`` level (as a raw timm save)."""
    from segview.inference.architectures import edgetam

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    state = {k if timm_level else k.replace(".timm_model.", "."): v.contiguous()
             for k, v in edgetam(image_size=LONG_SIDE).state_dict().items()}
    state.update({key: torch.zeros(2) for key in extra_keys})
    weights = folder / f"{name}.safetensors"
    save_file(state, weights)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    (folder / f"{name}.toml").write_text(
        f'name = "{name}"\ntitle = "{name}"\ntask = "prompt"\n'
        f'builder = "segview.inference.architectures.edgetam"\nlicence = "MIT"\ndescription = "test"\n'
        f"[builder_kwargs]\nimage_size = {LONG_SIDE}\n"
        f'[weights]\nfile = "{name}.safetensors"\nsha256 = "{sha}"\n[input]\nlong_side = {LONG_SIDE}\n')
    return load_card(folder / f"{name}.toml")


def where_a_click_arrives(predictor, height: int, width: int, x: float, y: float) -> tuple[float, float]:
    """Decode a click at image point (x, y) on a blank image of that size and return where the prompt
    encoder received it, as a fraction of the model frame (its pixel-index coordinates + 0.5 over the
    frame's size, as transformers' prompt encoder normalises them)."""
    import numpy as np

    from segview.core.prompts import PromptSet

    embedding = predictor.embed(np.zeros((height, width, 3), np.uint8))
    seen = []
    hook = predictor.model.prompt_encoder.shared_embedding.register_forward_pre_hook(
        lambda _module, args: seen.append((args[0].detach().clone(), args[1])))
    try:
        predictor.decode(embedding, PromptSet().with_point(x, y))
    finally:
        hook.remove()
    coordinates, (frame_h, frame_w) = seen[0]
    fx, fy = coordinates.reshape(-1, 2)[0].tolist()
    return fx / frame_w, fy / frame_h
