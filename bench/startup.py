"""Start-up figures for bench/ui.py: cold start of segview and of labelme, and segview's wait for its first
prediction.

- Cold start: from just before an app's process is spawned, through its real entry point (the `segview`
  command with no argument, which opens the demo folder with the demo model; `labelme` with none), to the
  end of the first paint of its window, after which the process ends at once (the probe in
  bench/first_paint/, put on PYTHONPATH, patches the Qt binding's QApplication as it is imported; nothing
  is imported ahead of the app). Runs alternate between the two apps. labelme 6.3.1 is installed into a
  throwaway virtual environment (``--labelme-venv DIR`` keeps it for the next run); when it cannot be
  installed the comparison is skipped with the reason.
- First prediction: `segview FOLDER` on a copy of the demo folder, from the window's first paint to the
  first prediction painted on it (the SEGVIEW_SMOKE_QUIT hook prints as it is painted); next to it the
  model's own time, a fresh process that imports torch, loads the demo model and predicts the same image
  (segview.inference.pipeline, as the model process does). Their difference is what the window adds.
"""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "first_paint"
LABELME = "labelme==6.3.1"
# Compiled bytecode for every run (a fresh folder per bench run, filled by a first run of each app that is
# not counted): an installed labelme has its .pyc files, and segview would otherwise compile its sources at
# each start where PYTHONDONTWRITEBYTECODE is set (as in a development checkout here).
PYCACHE = Path(tempfile.mkdtemp(prefix="segview-bench-pycache-"))
atexit.register(shutil.rmtree, PYCACHE, ignore_errors=True)

MODEL_ALONE = r"""
import sys
from segview.inference.pipeline import load_model
from segview.io.images import read_image
model = load_model(sys.argv[1], device="cpu")
model.predict(read_image(sys.argv[2]))
print("predicted", flush=True)
"""


def labelme_command(venv: Path | None) -> tuple[list[str] | None, str]:
    """The `labelme` command of a virtual environment holding labelme (made and filled with pip when it has
    none), or None and the reason when it cannot be installed."""
    if venv is None:
        venv = Path(tempfile.mkdtemp(prefix="segview-bench-labelme-"))
    command = venv / "bin" / "labelme"
    if command.exists():
        return [str(command)], f"labelme from {venv}"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", LABELME], check=True,
                       capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        return None, f"labelme could not be installed ({str(detail).strip().splitlines()[-1][:200]})"
    return [str(command)], f"{LABELME} installed into {venv}"


def _environment(home: Path, exit_after_paint: bool) -> tuple[dict[str, str], Path]:
    """The environment of one run: a fresh home and settings, the probe on PYTHONPATH; and where it writes."""
    painted = home / "painted"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),  # first-run settings
               QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(PROBE), os.environ.get("PYTHONPATH")])),
               SEGVIEW_BENCH_PAINTED=str(painted), SEGVIEW_BENCH_EXIT="1" if exit_after_paint else "0",
               PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env, painted


def first_paint(command: list[str]) -> tuple[float, float]:
    """Seconds from spawning ``command`` to the end of its window's first paint, and the CPU seconds its
    process had used by then (its own work, whatever else the machine runs)."""
    with tempfile.TemporaryDirectory(prefix="segview-bench-home-") as home:
        env, painted = _environment(Path(home), exit_after_paint=True)
        start = time.monotonic()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if not painted.exists():
            raise RuntimeError(f"{command[0]} painted no window (exit {done.returncode}): {done.stderr[-1500:]}")
        wall, cpu = (float(v) for v in painted.read_text().split())
        return wall - start, cpu


def segview_command() -> list[str]:
    """The installed `segview` command beside this Python (the console script), else its module."""
    script = Path(sys.executable).parent / "segview"
    return [str(script)] if script.exists() else [sys.executable, "-m", "segview.cli"]


def cold_starts(runs: int, labelme: list[str] | None) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds to the first paint of each run, segview and labelme alternating (after one run of
    each that is not counted: it compiles their bytecode and fills the disk cache)."""
    times: dict[str, list[tuple[float, float]]] = {"segview": [], "labelme": []}
    for command in filter(None, (segview_command(), labelme)):
        first_paint(command)
    for _ in range(runs):
        times["segview"].append(first_paint(segview_command()))
        time.sleep(0.5)  # the model process segview spawned ends with it: not during labelme's run
        if labelme is not None:
            times["labelme"].append(first_paint(labelme))
    return times


def first_prediction(runs: int, model: str = "demo_panoptic") -> dict[str, float]:
    """Median seconds from segview's first paint to its first painted prediction on the demo images, and
    the model's own time (a fresh process: torch, the model, one prediction) for the same image."""
    demo = ROOT / "resources" / "demo"
    first = sorted(p for p in demo.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[0]
    waits, alone = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="segview-bench-home-") as home:
            folder = Path(home) / "demo"
            shutil.copytree(demo, folder, ignore=shutil.ignore_patterns(".segview"))
            env, painted = _environment(Path(home), exit_after_paint=False)
            env["SEGVIEW_SMOKE_QUIT"] = "1"
            process = subprocess.Popen([*segview_command(), str(folder), "--model", model], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            shown_at = None
            for line in process.stdout:
                if line.startswith("segview smoke:"):
                    shown_at = time.monotonic()
                    if "prediction shown" not in line:
                        raise RuntimeError(line.strip())
            process.wait(120)
            if shown_at is None or not painted.exists():
                raise RuntimeError(f"segview showed no prediction: {process.stderr.read()[-1500:]}")
            waits.append(shown_at - float(painted.read_text().split()[0]))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-c", MODEL_ALONE, model, str(first)], env=env, capture_output=True,
                              text=True, timeout=300)
        if "predicted" not in done.stdout:
            raise RuntimeError(f"the model alone failed: {done.stderr[-1500:]}")
        alone.append(time.monotonic() - start)
    return {"window to prediction": statistics.median(waits), "model alone": statistics.median(alone)}
