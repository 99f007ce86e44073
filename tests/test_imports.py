"""Importing segview and running its format commands must not import torch or Qt."""

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_import_segview_is_light():
    loaded = _modules_after(
        "import segview, segview.cli, segview.core.views, segview.core.render, segview.io.detect"
    )
    assert "torch" not in loaded
    assert "PySide6" not in loaded


def test_cli_help_does_not_import_torch():
    loaded = _modules_after("from segview.cli import build_parser; build_parser().format_help()")
    assert "torch" not in loaded and "PySide6" not in loaded


def test_gui_entry_does_not_import_torch():
    loaded = _modules_after("import segview.ui.app, segview.ui.main_window")
    assert "PySide6" in loaded and "torch" not in loaded
    assert "scipy.ndimage" not in loaded  # ~0.3 s of the 0.8 s cold-start budget (bench/ui.py)


def test_command_names_match_the_parser():
    import argparse

    from segview.cli import COMMANDS, build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == COMMANDS


def test_predict_writers_start_without_scipy():
    """predict's writer processes import the records module; scipy.ndimage (~0.2 s) is for readers only."""
    loaded = _modules_after("import segview.inference.records, segview.io.detect")
    assert "scipy.ndimage" not in loaded and "torch" not in loaded


def test_models_leave_one_core_free_unless_the_user_chose():
    """segview.inference sets torch's CPU threads to the usable cores less one before torch is imported; a
    user's OMP_NUM_THREADS stays."""
    import os

    code = ("import os, segview.inference, torch; from segview.inference.torch_imports import usable_cores; "
            "print(os.environ['OMP_NUM_THREADS'], torch.get_num_threads(), usable_cores())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    chosen, threads, cores = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                            text=True, env=env).stdout.split()
    assert int(chosen) == int(threads) == max(1, int(cores) - 1)
    kept = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          env={**env, "OMP_NUM_THREADS": "2"}).stdout.split()
    assert kept[0] == "2" and int(kept[1]) == min(2, int(cores))  # torch takes no more threads than cores
