"""Benchmark: candidate small prompt encoders side by side (issue 12's target: embedding <= 1.5 s per 1024-px image
on a 2-core CPU).

Usage: python bench/prompt_candidates.py [--repeats 4] [--skip-wall]

Random weights (speed does not depend on them; nothing is downloaded), one 1024-pixel frame each:

- slimsam_77: the current small card's encoder (segview.inference.architectures.sam, banded global attention);
  ``+bf16`` runs it under CPU bfloat16 autocast, ``+channels_last`` with the input and the model in channels-last
  memory (both under torch.inference_mode, as SamPredictor.embed already is);
- slimsam_50: SlimSAM-50's shape (width 384, MLP 1536), same SamModel;
- sam2.1_hiera_tiny / sam2.1_hiera_small: transformers' Sam2Model with the SAM 2.1 configs' Hiera encoders
  (tiny also under bfloat16 autocast);
- edgetam: EdgeTAM (segview.inference.architectures.edgetam: RepViT-M1 through timm, SAM 2's decoder), the
  default small card's model since it was measured here.

Prints, per candidate, the median CPU seconds per image at one torch thread (what a loaded machine does not
inflate) and its ratio to slimsam_77, then the median wall seconds at two threads (noisy when the machine is
shared). For bf16 it also prints the embedding's relative error and the IoU of decoded masks against float32.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SLIMSAM_77 = {"hidden_size": 168, "mlp_dim": 696, "num_hidden_layers": 12, "num_attention_heads": 12,
              "global_attn_indexes": [2, 5, 8, 11]}
SLIMSAM_50 = {**SLIMSAM_77, "hidden_size": 384, "mlp_dim": 1536}
HIERA = {  # SAM 2.1's configs (sam2.1_hiera_t.yaml, sam2.1_hiera_s.yaml)
    "sam2.1_hiera_tiny": {"blocks_per_stage": [1, 2, 7, 2], "global_attention_blocks": [5, 7, 9]},
    "sam2.1_hiera_small": {"blocks_per_stage": [1, 2, 11, 2], "global_attention_blocks": [7, 10, 13]},
}


def sam_runner(vision: dict, *, bf16: bool = False, channels_last: bool = False):
    """An embedding function of a SamModel encoder with the given run-time options."""
    import torch

    from segview.inference.architectures import sam

    torch.manual_seed(0)
    model = sam(**vision)
    pixels = torch.randn(1, 3, 1024, 1024)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        pixels = pixels.contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model.get_image_embeddings(pixels)

    return run, model


def sam2_runner(hiera: dict, *, bf16: bool = False):
    """An embedding function of transformers' Sam2Model with a SAM 2.1 Hiera encoder."""
    import torch
    from transformers import Sam2Config, Sam2HieraDetConfig, Sam2Model, Sam2VisionConfig

    torch.manual_seed(0)
    vision = Sam2VisionConfig(backbone_config=Sam2HieraDetConfig(**hiera))
    model = Sam2Model(Sam2Config(vision_config=vision)).eval()
    pixels = torch.randn(1, 3, 1024, 1024)

    def run():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model.get_image_embeddings(pixels)

    return run


def edgetam_runner():
    """An embedding function of EdgeTAM (the default small card's model)."""
    import torch

    from segview.inference.architectures import edgetam

    torch.manual_seed(0)
    model = edgetam()
    pixels = torch.randn(1, 3, 1024, 1024)

    def run():
        with torch.inference_mode():
            return model.get_image_embeddings(pixels)

    return run


def interleaved(runs: dict, rounds: int, threads: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each run at ``threads`` torch threads, after one warm-up each, the
    candidates taking turns round by round (so that a change in the machine's load, or its warming up, falls
    on all of them alike rather than on whichever runs first)."""
    import torch

    torch.set_num_threads(threads)
    for run in runs.values():
        run()
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in runs}


def bf16_quality() -> tuple[float, float]:
    """bfloat16 autocast against float32 on the same model: the embedding's relative error, and the mean IoU of
    the decoded masks (three candidates each) of a 3 x 3 grid of single points."""
    import torch

    run32, model = sam_runner(SLIMSAM_77)
    run16, _ = sam_runner(SLIMSAM_77, bf16=True)
    full, half = run32(), run16().float()
    points = torch.tensor([[[[x, y]] for x in (100.0, 500.0, 900.0) for y in (100.0, 500.0, 900.0)]])
    labels = torch.ones((1, 9, 1), dtype=torch.int64)
    with torch.inference_mode():
        masks = [model(image_embeddings=e, input_points=points, input_labels=labels,
                       multimask_output=True).pred_masks[0].numpy() > 0 for e in (full, half)]
    inter, union = np.logical_and(*masks).sum((-1, -2)), np.logical_or(*masks).sum((-1, -2))
    return float((full - half).norm() / full.norm()), float(np.mean(inter / np.maximum(union, 1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4, help="rounds (each candidate once per round)")
    parser.add_argument("--skip-wall", action="store_true", help="only the one-thread CPU times")
    args = parser.parse_args(argv)
    import torch

    candidates = {
        "slimsam_77": lambda: sam_runner(SLIMSAM_77)[0],
        "slimsam_77+bf16": lambda: sam_runner(SLIMSAM_77, bf16=True)[0],
        "slimsam_77+channels_last": lambda: sam_runner(SLIMSAM_77, channels_last=True)[0],
        "slimsam_50": lambda: sam_runner(SLIMSAM_50)[0],
        **{name: (lambda h=hiera: sam2_runner(h)) for name, hiera in HIERA.items()},
        "sam2.1_hiera_tiny+bf16": lambda: sam2_runner(HIERA["sam2.1_hiera_tiny"], bf16=True),
        "edgetam": edgetam_runner,
    }
    runs = {name: build() for name, build in candidates.items()}
    one = interleaved(runs, args.repeats, threads=1)
    two = {} if args.skip_wall else interleaved(runs, args.repeats, threads=2)
    rows = {name: (one[name][1], two[name][0] if two else None) for name in runs}
    base = rows["slimsam_77"][0]
    print(f"{'candidate':28} {'CPU s (1 thread)':>17} {'ratio':>6} {'wall s (2 threads)':>19}")
    for name, (cpu1, wall2) in rows.items():
        wall = f"{wall2:.2f}" if wall2 is not None else "-"
        print(f"{name:28} {cpu1:17.2f} {cpu1 / base:6.2f} {wall:>19}")
    torch.set_num_threads(1)
    error, iou = bf16_quality()
    print(f"bf16 autocast vs float32: embedding relative error {error:.4f}, masks' mean IoU {iou:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
