"""`segview desktop install | uninstall`: the application-menu entry, icon and "Open with" associations
for the current user (segview.desktop)."""

from __future__ import annotations

import argparse


def _cmd_install(args: argparse.Namespace) -> int:
    from segview.desktop import install

    for line in install():
        print(line)
    print("segview is in the application menu and in \"Open with\" for folders, images and COCO files; "
          "`segview desktop uninstall` removes it.")
    return 0


def _cmd_uninstall(args: argparse.Namespace) -> int:
    from segview.desktop import uninstall

    for line in uninstall():
        print(line)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
    desktop = sub.add_parser("desktop", help="add segview to (or remove it from) the desktop's application menu")
    desktop_sub = desktop.add_subparsers(dest="desktop_command", required=True)
    desktop_sub.add_parser(
        "install", help="write the menu entry, icon and file associations for this user (Linux; no root)"
    ).set_defaults(func=_cmd_install)
    desktop_sub.add_parser(
        "uninstall", help="remove exactly what `segview desktop install` wrote"
    ).set_defaults(func=_cmd_uninstall)
