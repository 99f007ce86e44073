"""The `segview` command: convert and validate datasets, manage models, predict over images, train the
demo model and evaluate models. Each subcommand lives in a module of this package with an ``add_commands``;
``segview`` alone (or with a path) opens the window."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence

from segview import __version__
from segview.errors import SegviewError

# Known without building the parser (which imports each command's module): `segview PATH` opens the window.
COMMANDS = {"convert", "validate", "models", "predict", "train-demo", "eval", "export", "train", "desktop"}


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand."""
    from segview.cli import datasets, desktop, models, predict, train, training

    parser = argparse.ArgumentParser(prog="segview", description=__doc__.split(". Each")[0].replace("\n", " ") + ".",
                                     epilog="`segview [FOLDER | DATASET | PROJECT]` opens the window (on the demo "
                                            "images without one); `segview FOLDER --help` lists its options.")
    parser.add_argument("--version", action="version", version=f"segview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (datasets, models, predict, training, train, desktop):
        module.add_commands(sub)
    return parser


def _wants_gui(argv: Sequence[str], commands: set[str]) -> bool:
    """`segview`, `segview PATH` and `segview PATH --device X` open the window; subcommands do not."""
    return not argv or (argv[0] not in commands and not argv[0].startswith("-")) or argv[0] in ("--device", "--model", "--max-pixels")


def _run_gui(argv: Sequence[str]) -> int:
    from segview.cli.options import add_max_pixels  # not cli.common: the window opens without numpy

    parser = argparse.ArgumentParser(prog="segview", description="Open the segview window.")
    parser.add_argument("path", nargs="?", help="a folder of images or a COCO / panoptic / labelme dataset")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--model", help="model card to start with (default: the bundled demo model)")
    add_max_pixels(parser)
    args = parser.parse_args(argv)
    from segview.io.pixel_budget import pixel_budget
    from segview.ui.app import run

    with pixel_budget(args.max_pixels):
        return run(args.path, device=args.device, model=args.model, exit_process=True)


def _escape_unencodable_output() -> None:
    """Print what the terminal cannot encode (a lone surrogate from a dataset's names) as escapes, such as
    ``\\ud800``, instead of failing with UnicodeEncodeError halfway through a report."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def _one_line(error: BaseException) -> str:
    """An error's message on one line: line breaks a dataset's names may carry are shown escaped."""
    return str(error).replace("\r", "\\r").replace("\n", "\\n")


_PATH_ARGUMENTS = ("input", "path", "paths", "out", "images", "png_dir", "project", "checkpoint", "coco", "weights",
                   "dataset")


def _check_path_arguments(args: argparse.Namespace) -> None:
    """Refuse a path argument the operating system cannot even look up (a name too long, a loop of links,
    a folder above it that cannot be entered) before the command starts, rather than deep inside it."""
    for key in _PATH_ARGUMENTS:
        values = getattr(args, key, None)
        for value in values if isinstance(values, list) else [values]:
            if value is None:
                continue
            try:
                os.stat(value)
            except (FileNotFoundError, NotADirectoryError):
                continue  # the command says what it expected there
            except OSError as exc:
                raise SegviewError(f"Cannot use {value}: {exc.strerror or exc}. Check the path.") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors print one clear line (no traceback) and exit with status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _escape_unencodable_output()
    if _wants_gui(argv, COMMANDS):
        return _run_gui(argv)
    args = build_parser().parse_args(argv)
    from segview.io.pixel_budget import pixel_budget

    try:
        _check_path_arguments(args)
        with pixel_budget(getattr(args, "max_pixels", None)):
            return int(args.func(args))
    except SegviewError as exc:
        print(f"segview: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("segview: interrupted", file=sys.stderr)
        return 130
