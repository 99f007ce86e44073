"""Benchmark: per-image inference latency and peak memory, demo pair and Mask R-CNN v2 (random weights).

Usage: python bench/inference.py [--device cpu|cuda] [--repeats 5]
Each (model, size) runs in its own subprocess so that peak memory is that configuration's alone.
Prints a table: median latency over the repeats (after one warm-up) and peak memory (process RSS on
the CPU, torch.cuda.max_memory_allocated on a GPU).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

SIZES = ((640, 480), (1920, 1080))
MODELS = ("demo_panoptic", "maskrcnn_resnet50_fpn_v2")


def _load(name: str, device: str):
    """The named card with its weights, or — for Mask R-CNN v2, whose weights cannot be shipped — random ones."""
    from segview.inference.cards import get_card
    from segview.inference.device import choose_device
    from segview.inference.pipeline import LoadedModel, build_model, category_space, load_model

    card = get_card(name)
    if name == "demo_panoptic":
        return load_model(card, device=device)
    model = build_model(card).eval()
    return LoadedModel(card, category_space(card), choose_device(device), instance_model=model)


def run_one(name: str, width: int, height: int, device: str, repeats: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    loaded = _load(name, device)
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    loaded.predict(image)  # warm-up
    if loaded.device.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        loaded.predict(image)
        if loaded.device.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    if loaded.device.device.startswith("cuda"):
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"median_ms": statistics.median(times) * 1000, "peak_mb": peak_mb, "device": str(loaded.device)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "WIDTH", "HEIGHT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        name, width, height = args.one[0], int(args.one[1]), int(args.one[2])
        print(json.dumps(run_one(name, width, height, args.device, args.repeats)))
        return
    print(f"{'model':<26} {'size':>10} {'device':<28} {'median ms':>10} {'peak MB':>9}")
    for name in MODELS:
        for width, height in SIZES:
            cmd = [
                sys.executable,
                __file__,
                "--device",
                args.device,
                "--repeats",
                str(args.repeats),
                "--one",
                name,
                str(width),
                str(height),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
                print(f"{name:<26} {width}x{height:<5} {'-':<28} {'error':>10}  {reason}")
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{name:<26} {width}x{height:<5} {row['device']:<28} {row['median_ms']:>10.0f} {row['peak_mb']:>9.0f}"
            )


if __name__ == "__main__":
    main()
