"""The installed wheel works on its own: built offline from an sdist of this checkout (as ``python -m
build`` does), installed with ``pip install --no-deps --target``, then run from a folder outside the
repository with only that target and the test environment's site-packages importable.

The interpreter runs with ``-S`` and its site-packages given in PYTHONPATH: the editable install of the
checkout (a ``.pth`` import hook in site-packages) is then not loaded, so the checkout cannot be imported
(asserted) and everything segview finds, its demo model and images included, comes from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import segview

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("segview", "models", "resources", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md",
           "LICENSE", "CHANGELOG.md")

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _build_hook(backend_call: str, source: Path, out: Path) -> Path:
    """Call a setuptools PEP 517 hook in ``source`` without build isolation (offline); the built file."""
    code = f"import sys; from setuptools import build_meta; print(build_meta.{backend_call}(sys.argv[1]))"
    done = _run([sys.executable, "-c", code, str(out)], cwd=source)
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist of a copy of the checkout, the wheel built from that sdist, and that wheel installed."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "checkout"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    sdist = _build_hook("build_sdist", source, base / "sdist")
    with tarfile.open(sdist) as archive:
        # the "data" filter refuses links and paths out of the folder (Python 3.10.12+, 3.11.4+)
        archive.extractall(base / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    wheel = _build_hook("build_wheel", base / "unpacked" / sdist.name.removesuffix(".tar.gz"), base / "wheel")
    target = base / "installed"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", "--target", str(target),
          str(wheel)], cwd=base)
    outside = base / "elsewhere"
    outside.mkdir()
    return {"sdist": sdist, "wheel": wheel, "target": target, "cwd": outside, "home": base / "home"}


def _env(dist: dict[str, Path], *, with_target: bool = True) -> dict[str, str]:
    """Only the installed wheel (and the test environment's site-packages, for the dependencies)."""
    site = list(dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib")))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "SEGVIEW_"))}
    env.update(PYTHONPATH=os.pathsep.join([str(dist["target"])] * with_target + site),
               SEGVIEW_DATA_DIR=str(dist["home"] / "data"), SEGVIEW_CACHE_DIR=str(dist["home"] / "cache"),
               XDG_CONFIG_HOME=str(dist["home"] / "config"), QT_QPA_PLATFORM="offscreen")
    return env


def _segview(dist: dict[str, Path], *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    """The wheel's own ``segview`` script, run by this interpreter with ``-S``."""
    return _run([sys.executable, "-S", str(dist["target"] / "bin" / "segview"), *args], dist["cwd"],
                env or _env(dist), timeout)


def test_sdist_and_wheel_carry_the_shipped_files(dist):
    with tarfile.open(dist["sdist"]) as archive:
        sdist_names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wheel_names = set(zipfile.ZipFile(dist["wheel"]).namelist())
    for folder in ("models", "resources"):
        shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)}
        assert shipped and shipped <= sdist_names
        assert {f"segview/_data/{name}" for name in shipped} <= wheel_names
    assert {"segview/_data/models/demo_panoptic.toml", "segview/_data/models/demo_instance.pt",
            "segview/_data/resources/icons/segview.svg", "segview/_data/resources/segview.desktop"} <= wheel_names
    assert not [n for n in wheel_names | sdist_names if "/.segview" in n or "__pycache__" in n]
    assert f"segview-{segview.__version__}.dist-info/licenses/LICENSE" in wheel_names


def test_checkout_is_not_importable_and_files_come_from_the_wheel(dist):
    probe = "import importlib.util; print(importlib.util.find_spec('segview'))"
    alone = _run([sys.executable, "-S", "-c", probe], dist["cwd"], _env(dist, with_target=False))
    assert alone.stdout.strip() == "None"
    where = ("import segview, importlib.metadata as m; from segview.bundled import bundled_path; "
             "print(segview.__file__, bundled_path('models'), bundled_path('resources'), m.version('segview'))")
    paths = _run([sys.executable, "-S", "-c", where], dist["cwd"], _env(dist)).stdout.split()
    target = dist["target"].resolve()
    assert all(Path(p).resolve().is_relative_to(target) for p in paths[:3]), paths
    assert paths[3] == segview.__version__
    assert _segview(dist, "--version").stdout.strip() == f"segview {segview.__version__}"


@pytest.fixture(scope="module")
def window_run(dist):
    """The wheel's window on its demo, quitting once the first prediction is painted: started here and
    read by test_window_opens_the_demo_and_shows_a_prediction, so that its start (torch, the model) runs
    beside the predict test's instead of after it."""
    env = dict(_env(dist), SEGVIEW_SMOKE_QUIT="1")
    log = dist["home"] / "window.log"  # a file, not a pipe: nobody reads it until the test does
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-S", str(dist["target"] / "bin" / "segview"), "--device", "cpu"],
                                   cwd=dist["cwd"], env=env, stdout=out, stderr=subprocess.STDOUT)
    yield process, log
    if process.poll() is None:
        process.kill()
        process.wait()


def test_models_list_and_predict_with_the_demo_model(dist, window_run):
    rows = {line.split()[0]: line.split() for line in _segview(dist, "models", "list").stdout.splitlines()[1:]}
    assert rows["demo_panoptic"][1:3] == ["panoptic", "yes"]
    images = dist["cwd"] / "photos"
    images.mkdir()
    demo = dist["target"] / "segview" / "_data" / "resources" / "demo"
    shutil.copy2(sorted(demo.glob("*.png"))[0], images)
    out = dist["cwd"] / "results"
    done = _segview(dist, "predict", str(images), "--model", "demo_panoptic", "--device", "cpu", "--out", str(out),
                    "--format", "coco-panoptic")
    assert "Predicted 1 image(s), skipped 0" in done.stdout
    assert len(list((out / "panoptic").glob("*.png"))) == 1


def test_window_opens_the_demo_and_shows_a_prediction(dist, window_run):
    process, log = window_run
    code = process.wait(timeout=180)
    output = log.read_text()
    assert code == 0, output
    line = next(s for s in output.splitlines() if s.startswith("segview smoke:"))
    shipped = dist["target"] / "segview" / "_data" / "resources" / "demo"
    count = len(list(shipped.glob("*.png")))
    assert f"segview — demo; {count} images; icon; model demo_panoptic on CPU; prediction shown for" in line
    # the demo opened from a copy in the user's data folder: its project is there, not in the package
    assert (dist["home"] / "data" / "demo" / ".segview").is_dir() and not (shipped / ".segview").exists()


def test_desktop_install_from_the_wheel_names_its_script(dist):
    data_home = dist["home"] / "xdg-data"
    env = dict(_env(dist), XDG_DATA_HOME=str(data_home))
    _segview(dist, "desktop", "install", env=env)
    entry = (data_home / "applications" / "segview.desktop").read_text()
    assert f"TryExec={dist['target'] / 'bin' / 'segview'}\n" in entry
    assert (data_home / "icons" / "hicolor" / "scalable" / "apps" / "segview.svg").is_file()
    _segview(dist, "desktop", "uninstall", env=env)
    assert not data_home.exists()
