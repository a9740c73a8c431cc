"""Shared pieces of the command line: the command registry, common options, parsing
``KEY=VALUE`` storage options and ``100,100`` shapes, opening nodes."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Callable
from .. import api as ez

__all__ = ["Command", "COMMANDS", "command", "common_parser", "storage_options",
           "parse_shape", "open_node", "progress_wanted", "add_progress_args", "NO_STORES"]

#: commands that open no store, so take no --storage-option
NO_STORES = ("doctor", "demo")


@dataclass(frozen=True)
class Command:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""


#: subcommand name -> Command, in the order ``exzarr --help`` lists them
COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, configure, description: str = ""):
    """Decorator registering ``run(args) -> exit status`` as subcommand ``name``."""
    def deco(run):
        COMMANDS[name] = Command(help=help, configure=configure, run=run, description=description)
        return run
    return deco


def _kv(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)  # numbers, true/false, null, JSON objects
    except ValueError:
        parsed = value
    return key.strip(), parsed


def common_parser(storage: bool = True) -> argparse.ArgumentParser:
    """The options every command takes: ``--debug``, and ``--storage-option`` for those
    that open stores (``storage``)."""
    p = argparse.ArgumentParser(add_help=False)
    if storage:
        _storage_option(p)
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return p


def progress_wanted(args) -> bool:
    """``--progress`` / ``--no-progress``, else a bar when stderr is a terminal."""
    chosen = getattr(args, "progress", None)
    if chosen is None:
        from importlib.util import find_spec  # the bar needs tqdm (optional)
        return sys.stderr.isatty() and find_spec("tqdm") is not None
    return bool(chosen)


def add_progress_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress bar (default: when standard error is a terminal)")
    g.add_argument("--no-progress", dest="progress", action="store_false",
                   help="never show a progress bar")


def _storage_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage-option", "-o", dest="storage_option", action="append", type=_kv,
                   default=[], metavar="KEY=VALUE",
                   help="option for fsspec URLs (s3://, gs://, ...), repeatable; VALUE is "
                        "parsed as JSON when it can be (true, 3, {...}), else taken as text")


def storage_options(args) -> dict | None:
    return dict(args.storage_option) or None


def parse_shape(text: str):
    """``"100,100"`` -> (100, 100); ``"100"`` -> 100 (every dimension)."""
    try:
        parts = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None
    if not parts or any(p <= 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return parts[0] if len(parts) == 1 and "," not in text else tuple(parts)


def add_node_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="path or URL of an array or group")
    p.add_argument("--path", dest="node", default=None, metavar="NODE",
                   help="a node inside the store (e.g. inside a .zip): 'group/array'")


def open_node(args):
    return ez.open(args.path, mode="r", path=args.node, storage_options=storage_options(args))
