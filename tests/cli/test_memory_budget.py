"""The field report's memory reproducers, each in its own process: refused within 1 GB and 10 s with a
message that names the pixel budget and --max-pixels."""

import json
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

# Runs the command line and prints the process's peak RSS in kB as the last line of stderr: VmHWM, since
# ru_maxrss keeps the parent's peak across fork and exec (pytest's, with torch loaded by other tests).
_MEASURED = (
    "import re, sys\n"
    "from segview.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "status = open('/proc/self/status').read()\n"
    "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1), file=sys.stderr)\n"
    "sys.exit(code)\n"
)
needs_proc = pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak RSS read from Linux's /proc")
_LIMIT_KB = 1024 * 1024


def zero_png(path: Path, width: int, height: int, channels: int) -> None:
    """A real, complete PNG of zeros (gray or RGB), compressed row by row so the test never holds it."""
    row = b"\0" * (1 + width * channels)
    packer = zlib.compressobj(1)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, {1: 0, 3: 2}[channels], 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def _run(*argv: str) -> tuple[subprocess.CompletedProcess, int, float]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _MEASURED, *argv], capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - start
    *lines, peak = result.stderr.strip().splitlines()
    result.stderr = "\n".join(lines)
    return result, int(peak), seconds


@needs_proc
def test_a_coco_file_claiming_300_megapixels_is_refused_in_bounded_memory(tmp_path):
    """r8_claimed_300mpx.json (220 bytes): 18.8 GB and 95 s before."""
    doc = {"images": [{"id": 1, "file_name": "x.png", "width": 30000, "height": 10000}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[2, 2, 10, 2, 10, 10]]}],
           "categories": [{"id": 1, "name": "a"}]}
    source = tmp_path / "r8.json"
    source.write_text(json.dumps(doc))
    for fmt, out in (("coco-panoptic", "p.json"), ("semantic-png", "s")):
        result, peak_kb, seconds = _run("convert", str(source), "--no-check-images", "--to", fmt, "--allow-errors",
                                        "--out", str(tmp_path / out))
        assert result.returncode == 1, result.stderr  # written without the refused image
        assert "more than segview's budget of 150 megapixels" in result.stdout and "--max-pixels" in result.stdout
        assert peak_kb < _LIMIT_KB and seconds < 10, (peak_kb, seconds)
        print(f"r8 to {fmt}: {peak_kb / 1024:.0f} MB, {seconds:.2f} s")


@needs_proc
@pytest.mark.parametrize("fmt", ["coco-panoptic", "semantic-png"])
def test_a_13000_square_mask_png_is_refused_in_bounded_memory(tmp_path, fmt):
    """A 0.5 MB 13000×13000 panoptic PNG took 6.7 GB to validate, a semantic mask 8.2 GB."""
    if fmt == "coco-panoptic":
        doc = {"images": [{"id": 1, "file_name": "a.png", "width": 13000, "height": 13000}],
               "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": []}],
               "categories": [{"id": 1, "name": "a", "isthing": 1}]}
        (tmp_path / "pan").mkdir()
        zero_png(tmp_path / "pan" / "a.png", 13000, 13000, 3)
        target = tmp_path / "pan.json"
        target.write_text(json.dumps(doc))
    else:
        target = tmp_path / "sem"
        target.mkdir()
        (target / "classes.txt").write_text("1 a\n")
        zero_png(target / "a.png", 13000, 13000, 1)
    result, peak_kb, seconds = _run("validate", str(target), "--no-check-images")
    assert result.returncode == 1, result.stderr
    assert "is too large: more than segview's budget of 150 megapixels per image" in result.stdout
    assert peak_kb < _LIMIT_KB and seconds < 10, (peak_kb, seconds)
    print(f"{fmt}: {peak_kb / 1024:.0f} MB, {seconds:.2f} s")


@needs_proc
def test_predict_on_the_thin_images_stays_within_1_gb(tmp_path, monkeypatch):
    """The report's thin images (1x3000 aborted the run, 1x500 took 6.7 GB) beside a good scene: torch, the
    demo pair and its predictions peak at ~0.78 GB (0.85 GB while torchvision pulled in Triton)."""
    from PIL import Image

    for name in ("SEGVIEW_DATA_DIR", "SEGVIEW_CACHE_DIR", "TORCH_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name))
    folder = tmp_path / "thin"
    folder.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "resources" / "demo" / "scene_02024.png", folder / "good.png")
    Image.new("RGB", (3000, 1)).save(folder / "one_by_3000.png")
    Image.new("RGB", (500, 1)).save(folder / "one_by_500.png")
    result, peak_kb, seconds = _run("predict", str(folder), "--model", "demo_panoptic", "--device", "cpu",
                                    "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr  # one image skipped, the others written
    assert "one_by_3000.png: skipped" in result.stdout and "Predicted 2 image(s), skipped 1" in result.stdout
    assert peak_kb < _LIMIT_KB, peak_kb
    print(f"predict, thin images: {peak_kb / 1024:.0f} MB, {seconds:.1f} s")


def test_the_window_takes_max_pixels_too(monkeypatch):
    from segview import cli
    from segview.io import pixel_budget
    from segview.ui import app

    seen = []
    monkeypatch.setattr(app, "run", lambda path, device, model, **_options: seen.append((path, pixel_budget.max_pixels())) or 0)
    assert cli.main(["--max-pixels", "200000000", "photos"]) == 0
    assert cli.main(["photos", "--max-pixels", "1000"]) == 0
    assert seen == [("photos", 200_000_000), ("photos", 1000)]
    assert pixel_budget.max_pixels() == pixel_budget.DEFAULT_MAX_PIXELS
