"""The ``exzarr`` command line: ``info``, ``tree``, ``verify``, ``convert``, ``copy``,
``doctor``, ``demo``.

Each subcommand is a :class:`Command` in :data:`COMMANDS` (name -> command); adding one
is adding an entry.  Every command accepts ``--debug``, and those that open stores
(all but ``doctor`` and ``demo``) ``--storage-option KEY=VALUE`` (repeatable).  Exit status: 0 success, 1 failure (errors print as one line on stderr,
with a traceback only under ``--debug``), 2 usage errors (argparse), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from ._common import COMMANDS, NO_STORES, Command, common_parser
from . import demo, doctor, inspection, transfer  # noqa: F401  (they fill COMMANDS)
from .. import __version__
from ..errors import ExzarrError

__all__ = ["main", "build_parser", "COMMANDS", "Command"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exzarr", description="Inspect, verify and convert Zarr v2/v3 arrays and groups. "
        "PATH/SRC/DST may be local paths or URLs (file://, memory://, zip://, sqlite://, s3://, "
        "gs://, az://, http(s)://...).")
    parser.add_argument("--version", action="version", version=f"exzarr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parent, bare = common_parser(), common_parser(storage=False)
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.description or cmd.help,
                           parents=[bare if name in NO_STORES else parent])
        cmd.configure(p)
        p.set_defaults(_command=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cmd: Command = args._command
    try:
        return int(cmd.run(args) or 0)
    except KeyboardInterrupt:
        print("exzarr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # every failure: one clear line (traceback with --debug)
        if args.debug:
            import traceback
            traceback.print_exc()
        print(f"exzarr {args.command}: error: {_message(e)}", file=sys.stderr)
        return 1


def _message(e: BaseException) -> str:
    msg = str(e) if isinstance(e, ExzarrError) or not isinstance(e, KeyError) else str(e.args[0] if e.args else e)
    msg = " ".join(msg.split())  # one line
    if not isinstance(e, ExzarrError):
        msg = f"{type(e).__name__}: {msg}" if msg else type(e).__name__
    return msg
