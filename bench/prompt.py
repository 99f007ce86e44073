"""Benchmark: the prompt tool (Segment Anything) — embedding, decoding one prompt, click to preview on screen.

Usage: python bench/prompt.py [--repeats 5] [--decodes 20] [--clicks 10] [--device cpu] [--skip-window]
       [--models edgetam,slimsam_77,vit_b] [--threads N]

Random weights (same speed as real ones; nothing is downloaded), transformers' models, a 1024 × 768 photo
(the demo scene scaled up: the encoder always sees a 1024-pixel frame).

- embedding: ``SamPredictor.embed`` (resize, normalise, the image encoder); median of ``--repeats`` after one
  warm-up. Target for the small model (EdgeTAM) on a 2-core CPU: <= 1.5 s.
- decode: ``SamPredictor.decode`` of one positive point (prompt encoder, mask decoder, three candidates
  upsampled to the image and thresholded); median of ``--decodes``. Target <= 50 ms.
- click to preview: the window path. A MainWindow (offscreen) opens a folder with the photo, the prompt tool
  is chosen (the model process computes the embedding), then for each of ``--clicks`` clicks on the canvas:
  from the mouse press to the end of the tool overlay's paint of that click's mask (the prompt crosses the
  pipe, the child decodes, the mask comes back through shared memory and is painted). Target <= 80 ms.
  The small model only.

- detect: an open-vocabulary detector (OWLv2 small, base and large shapes, see DETECTOR_SIZES) finding two
  class names in the photo; median of ``--repeats``. everything: Segment Everything's grid on the small model's
  embedding of the photo (one run).

Models: ``edgetam`` is the default small card's model (EdgeTAM: RepViT-M1 encoder, SAM 2's decoder),
``slimsam_77`` SlimSAM-77's encoder shape (width 168, MLP 696, 12 layers; the real card reads its sizes from its
weights), ``vit_b`` SAM ViT-B; as SamPredictor runs them (SAM's encoder under bfloat16 autocast on a CPU that
computes bfloat16 natively); ``NAME-fp32`` runs the encoder in float32 always. Other candidate small encoders
(SlimSAM-50, SAM 2.1 Hiera tiny/small) are compared in bench/prompt_candidates.py. Prints one table; timings are medians of one run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

SIZES = {  # SamModel's encoder shapes
    "slimsam_77": {"hidden_size": 168, "mlp_dim": 696, "num_hidden_layers": 12, "num_attention_heads": 12,
                   "global_attn_indexes": [2, 5, 8, 11]},
    "vit_b": {"hidden_size": 768, "mlp_dim": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
              "global_attn_indexes": [2, 5, 8, 11]},
}
SMALL = "edgetam"  # the default prompt card's model: the targets are its
TARGETS = {(SMALL, "embedding"): 1.5, (SMALL, "decode"): 0.050, (SMALL, "click to preview"): 0.080}


def random_model(name: str):
    """A bench model with random weights (seeded)."""
    import torch

    from segview.inference.architectures import edgetam, sam

    torch.manual_seed(0)
    return edgetam() if name == SMALL else sam(**SIZES[name])


def photo():
    """A 1024 × 768 RGB photo: a demo scene scaled up."""
    import cv2
    import numpy as np
    from PIL import Image

    demo = sorted((Path(__file__).resolve().parent.parent / "resources" / "demo").glob("*.png"))[0]
    return cv2.resize(np.asarray(Image.open(demo).convert("RGB")), (1024, 768), interpolation=cv2.INTER_LINEAR)


def median_time(run, repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``run`` (the CPU time, summed over threads, is what a busy
    machine does not inflate: on a quiet one the wall time is about CPU time / threads used)."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def in_process(name: str, device: str, repeats: int, decodes: int) -> dict[str, tuple[float, float | None]]:
    import torch

    from segview.core.prompts import PromptSet
    from segview.inference.device import choose_device
    from segview.inference.sam import SamPredictor

    size, float32 = name.removesuffix("-fp32"), name.endswith("-fp32")  # "-fp32": no bfloat16 encoder
    predictor = SamPredictor(random_model(size), name, 1024, choose_device(device), bf16=False if float32 else None)
    image = photo()
    embedding = predictor.embed(image)  # warm-up
    sync = torch.cuda.synchronize if predictor.device.device.startswith("cuda") else (lambda: None)
    embed_s = median_time(lambda: (predictor.embed(image), sync()), repeats)
    prompt = PromptSet().with_point(500, 380)
    predictor.decode(embedding, prompt)
    decode_s = median_time(lambda: predictor.decode(embedding, prompt), decodes)
    return {"embedding": embed_s, "decode": decode_s}


# Open-vocabulary detectors (OWLv2, transformers): "base" is the owlv2_base card's shape (ViT-B/16, 960 px),
# "large" owlv2_large's (ViT-L/14, 1008 px); "small" is the ViT-B/32 shape at 768 px (OWL-ViT v1 base-32's; no
# OWLv2 checkpoint of that size is published): what a CPU-sized detector would cost.
DETECTOR_SIZES = {
    "small": {"projection_dim": 512, "vision_config": {"image_size": 768, "patch_size": 32}},
    "base": {"projection_dim": 512, "vision_config": {"image_size": 960, "patch_size": 16}},
    "large": {"projection_dim": 768,
              "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},
              "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                                "num_attention_heads": 16, "image_size": 1008, "patch_size": 14}},
}


def detector_time(name: str, device: str, repeats: int) -> tuple[float, float]:
    """Median seconds of ``OpenVocabularyDetector.detect`` (preprocessing, OWLv2 with two class names, the
    boxes in image pixels and their NMS) on the 1024 × 768 photo, random weights."""
    import json

    import torch
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    from segview.inference.architectures import owlv2
    from segview.inference.detectors import OpenVocabularyDetector
    from segview.inference.device import choose_device

    folder = Path(tempfile.mkdtemp(prefix="segview-bench-owl-"))
    chars = list(bytes_to_unicode().values())  # a byte-level vocabulary: the text model's cost is the same
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), pad_token="!")
    torch.manual_seed(0)
    detector = OpenVocabularyDetector(owlv2(**DETECTOR_SIZES[name]), tokenizer, choose_device(device), name)
    image = photo()
    detector.detect(image, ["helmet", "flag"])  # warm-up
    return median_time(lambda: detector.detect(image, ["helmet", "flag"]), repeats)


def everything_time(device: str, grid: int) -> tuple[float, float]:
    """Seconds of Segment Everything on the photo's embedding (the small model, ``grid`` × ``grid`` points,
    SAM's filters): the decoder's batches, the filters, the NMS and the upsampling of the masks kept."""
    from segview.core.candidates import EverythingParams
    from segview.inference.device import choose_device
    from segview.inference.everything import segment_everything
    from segview.inference.sam import SamPredictor

    predictor = SamPredictor(random_model(SMALL), SMALL, 1024, choose_device(device))
    embedding = predictor.embed(photo())
    params = EverythingParams(points_per_side=grid)
    return median_time(lambda: segment_everything(predictor, embedding, params), 1)


def write_card(folder: Path, name: str) -> None:
    """A prompt card over random weights of the small model, as a user's card (its file and sha256)."""
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in random_model(SMALL).state_dict().items()}
    save_file(state, folder / f"{name}.safetensors")
    sha = hashlib.sha256((folder / f"{name}.safetensors").read_bytes()).hexdigest()
    (folder / f"{name}.toml").write_text(
        f'name = "{name}"\ntitle = "bench"\ntask = "prompt"\nbuilder = "segview.inference.architectures.edgetam"\n'
        f'licence = "MIT"\ndescription = "random weights"\n[weights]\nfile = "{name}.safetensors"\n'
        f'sha256 = "{sha}"\n[input]\nlong_side = 1024\n')


def click_to_preview(device: str, clicks: int) -> float:
    """Median seconds from a click on the canvas to the end of the paint of its mask (see the docstring)."""
    from PIL import Image
    from PySide6.QtCore import QEventLoop, QPointF, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    work = Path(tempfile.mkdtemp(prefix="segview-bench-prompt-"))
    (work / "data" / "models").mkdir(parents=True)
    (work / "photos").mkdir()
    write_card(work / "data" / "models", "bench_sam")
    Image.fromarray(photo()).save(work / "photos" / "photo.png")
    os.environ["SEGVIEW_DATA_DIR"] = str(work / "data")
    os.environ["SEGVIEW_CACHE_DIR"] = str(work / "cache")

    from segview.ui.canvas.tool_overlay import ToolOverlay
    from segview.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("prompt/model", "bench_sam")
    window = MainWindow(settings, device=device)
    window.resize(1400, 1000)
    window.show()
    window.open_path(work / "photos")
    painted: list[float] = []
    original = ToolOverlay.paint

    def paint(self, painter, option, widget=None):
        original(self, painter, option, widget)
        if self._masks:
            painted.append(time.perf_counter())

    ToolOverlay.paint = paint

    def wait(condition, timeout_s: float) -> None:
        loop, end = QEventLoop(), time.monotonic() + timeout_s
        timer = QTimer()
        timer.timeout.connect(lambda: (condition() or time.monotonic() > end) and loop.quit())
        timer.start(1)
        loop.exec()
        if not condition():
            raise SystemExit("timed out waiting for the window (is the model process running?)")

    ready: list[str] = []
    window.bridge.embedding_ready.connect(lambda _path, where: ready.append(where))
    wait(lambda: window._image is not None, 120)
    window.editor.set_tool("prompt")
    wait(lambda: bool(ready), 300)
    canvas, tool = window.canvas, window.editor.tools["prompt"]
    times = []
    for i in range(clicks + 1):
        tool.cancel()
        app.processEvents()
        painted.clear()
        x, y = 200 + 60 * i, 150 + 40 * i
        token = tool.token + 1
        start = time.perf_counter()
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         canvas.mapFromScene(QPointF(x, y)))
        wait(lambda t=token: tool.token == t and tool.candidates and painted, 60)
        if i:  # the first click loads nothing but warms the decoder's kernels
            times.append(painted[-1] - start)
    ToolOverlay.paint = original
    window.bridge.shutdown()
    window.close()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--decodes", type=int, default=20)
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="edgetam,slimsam_77,vit_b")
    parser.add_argument("--skip-window", action="store_true")
    parser.add_argument("--detectors", default="small,base", help="OWLv2 sizes to time: small, base, large ('' for none)")
    parser.add_argument("--everything-grid", type=int, default=16, help="Segment Everything's points per side (0: skip)")
    parser.add_argument("--threads", type=int, help="torch threads in this process (default: torch's); 1 makes the "
                        "CPU-time column meaningful on a busy machine (no threads spinning while they wait)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows = []
    for name in args.models.split(","):
        for what, seconds in in_process(name, args.device, args.repeats, args.decodes).items():
            rows.append((name, what, seconds))
    for name in filter(None, args.detectors.split(",")):
        rows.append((f"owl-{name}", "detect 2 names", detector_time(name, args.device, args.repeats)))
    if args.everything_grid:
        rows.append((SMALL, f"everything {args.everything_grid}²", everything_time(args.device, args.everything_grid)))
    if not args.skip_window:
        rows.append((SMALL, "click to preview", (click_to_preview(args.device, args.clicks), None)))
    print(f"device {args.device}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; medians of one run")
    print(f"{'model':<10} {'measure':<17} {'wall':>10} {'CPU time':>10}  target")
    for name, what, (seconds, cpu) in rows:
        target = TARGETS.get((name, what))
        verdict = "" if target is None else f"<= {target * 1000:.0f} ms" + (" ok" if seconds <= target else " MISSED")
        cpu_text = "" if cpu is None else f"{cpu * 1000:8.1f} ms"
        print(f"{name:<10} {what:<17} {seconds * 1000:>8.1f} ms {cpu_text:>10}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
