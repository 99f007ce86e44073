"""`segview models list | download | import`: the model cards and their weights."""

from __future__ import annotations

import argparse

from segview.cli.common import progress_bar
from segview.errors import SegviewError


def _cmd_models_list(args: argparse.Namespace) -> int:
    from segview.inference.cards import file_cards, list_cards
    from segview.inference.weights import find_weights

    rows = []
    for card in list_cards():
        present = all(find_weights(member) is not None for member in file_cards(card))
        rows.append(
            (card.name, card.task, "yes" if present else "no", card.title + (" (yours)" if card.user else ""))
        )
    widths = [max(len(r[i]) for r in rows + [("name", "task", "weights", "")]) for i in range(3)]
    print(f"{'name':<{widths[0]}}  {'task':<{widths[1]}}  {'weights':<{widths[2]}}  title")
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}")
    return 0


def _cmd_models_download(args: argparse.Namespace) -> int:
    from segview.inference.cards import file_cards, get_card
    from segview.inference.weights import ensure_weights

    card = get_card(args.name)
    members = file_cards(card)
    _refuse_unchecked(args.name, card)
    for member in members:
        bar = None

        def progress(done: int, total: int | None, _name: str = member.name) -> None:
            nonlocal bar
            if bar is None:
                bar = progress_bar(_name, total, "B")
            bar.update(done - bar.n)

        try:
            path = ensure_weights(member, allow_download=True, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        print(f"{member.name}: {path}")
    return 0


def _refuse_unchecked(name: str, card) -> None:
    """Before downloading anything: every missing file that has no published hash to check it against,
    named with its URL and where to save it (a detector's weights and tokenizer files)."""
    from segview.inference.weights import WeightsError, cache_dir, unchecked_missing

    unchecked = unchecked_missing(card)
    if unchecked:
        files = "; ".join(f"{remote.url} as {cache_dir() / remote.filename}" for remote in unchecked)
        have, them = ("has", "it") if len(unchecked) == 1 else ("have", "them")
        raise WeightsError(f"Model {name!r} cannot be downloaded: {len(unchecked)} of its files {have} no published "
                           f"SHA-256 to check {them} against. Download {them} yourself and save {files}.")


def _cmd_models_import(args: argparse.Namespace) -> int:
    from segview.inference.cards import user_models_dir
    from segview.inference.pipeline import load_model
    from segview.inference.user_cards import register_checkpoint

    target = user_models_dir() / f"{args.name}.toml"
    previous = target.read_bytes() if target.is_file() else None  # an overwritten card comes back on failure
    card = register_checkpoint(args.name, args.checkpoint, args.base, overwrite=args.overwrite)
    try:
        load_model(card, device="cpu")  # a checkpoint of another architecture is refused now, not in segview
    except SegviewError as exc:
        if previous is None:
            card.path.unlink(missing_ok=True)
        else:
            card.path.write_bytes(previous)
        raise SegviewError(f"Model {args.name!r} not registered: {exc}") from None
    print(f"Registered model {card.name!r} ({card.task}) in {card.path}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register this module's subcommands."""
    models = sub.add_parser("models", help="list, download and import models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="list model cards and whether their weights are present").set_defaults(
        func=_cmd_models_list
    )
    download = models_sub.add_parser("download", help="download a model's pretrained weights (hash-checked)")
    download.add_argument("name")
    download.set_defaults(func=_cmd_models_download)
    register = models_sub.add_parser("import", help="register your own checkpoint as a model")
    register.add_argument("name", help="name of the new model")
    register.add_argument("checkpoint", help="a state dict saved with torch.save")
    register.add_argument("--base", required=True, help="the card whose architecture the checkpoint has")
    register.add_argument("--overwrite", action="store_true")
    register.set_defaults(func=_cmd_models_import)
