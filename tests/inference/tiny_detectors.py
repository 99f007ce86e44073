"""A tiny random-weight OWLv2 detector card (and its tokenizer files), for tests that run the real code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from segview.inference.cards import ModelCard, load_card, tomllib

SPECIALS = ("<|startoftext|>", "<|endoftext|>")


def write_tokenizer(folder: Path) -> dict[str, Path]:
    """CLIP's byte-pair encoding with no merges: every byte is a token, every word-final byte too."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + list(SPECIALS)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = folder / "tiny-vocab.json", folder / "tiny-merges.txt"
    vocab.write_text(json.dumps({token: i for i, token in enumerate(tokens)}))
    merges.write_text("#version: 0.2\n")
    return {"vocab": vocab, "merges": merges}


def tiny_owlv2_kwargs(vocab_size: int = 514) -> str:
    """builder_kwargs of a 2-layer, 32-wide OWLv2 over 64-pixel images (16 patches)."""
    return (
        f"text_config = {{ vocab_size = {vocab_size}, hidden_size = 32, intermediate_size = 64, "
        "num_hidden_layers = 2, num_attention_heads = 2, max_position_embeddings = 16, "
        f"bos_token_id = {vocab_size - 2}, eos_token_id = {vocab_size - 1}, pad_token_id = 0 }}\n"
        "vision_config = { hidden_size = 32, intermediate_size = 64, num_hidden_layers = 2, "
        "num_attention_heads = 2, image_size = 64, patch_size = 16 }\n"
        "projection_dim = 32\n"
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_tiny_detector(folder: Path, name: str = "tiny_owl", seed: int = 0) -> ModelCard:
    """A detector card with random weights (boxes: the 4×4 patch grid of the padded square) and the tiny
    tokenizer, all as local files checked by sha256."""
    from segview.inference.architectures import owlv2

    files = write_tokenizer(folder)
    kwargs = tiny_owlv2_kwargs()
    card_path = folder / f"{name}.toml"
    head = (f'name = "{name}"\ntitle = "{name}"\ntask = "detector"\n'
            'builder = "segview.inference.architectures.owlv2"\nlicence = "MIT"\ndescription = "test"\n')
    torch.manual_seed(seed)
    model = owlv2(**tomllib.loads(kwargs))
    with torch.no_grad():  # random box heads saturate: each patch answers its own cell of the grid instead
        model.box_head.dense2.weight.zero_()
        model.box_head.dense2.bias.zero_()
    weights = folder / f"{name}.pt"
    torch.save({"model": model.state_dict()}, weights)
    tokenizer = "".join(
        f'[tokenizer.{role}]\nfile = "{path.name}"\nsha256 = "{_sha(path)}"\n' for role, path in files.items()
    )
    card_path.write_text(
        head + "[builder_kwargs]\n" + kwargs
        + f'[weights]\nfile = "{weights.name}"\nsha256 = "{_sha(weights)}"\n' + tokenizer
    )
    return load_card(card_path)
