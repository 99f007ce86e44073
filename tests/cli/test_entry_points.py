"""A newcomer's first commands: `python -m segview` works like `segview`, and `segview --help` says how the
window is opened, not only the subcommands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from segview import __version__
from segview.cli import main


def test_python_dash_m_segview_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "segview", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"segview {__version__}"


def test_help_says_how_to_open_the_window(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "opens the window" in out and "segview FOLDER --help" in out


@pytest.mark.parametrize("command", ["predict", "eval", "export", "validate"])
def test_every_option_of_a_subcommand_has_help(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    options = out.split("options:")[1]
    assert "--max-issues N\n" not in options  # an option listed alone on its line has no help text
