"""``exzarr info``, ``exzarr tree`` and ``exzarr verify``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._common import add_node_args, add_progress_args, command, open_node, progress_wanted
from ..array.display import array_page, array_svg
from ..hierarchy.display import group_page
from ..array.zarray import ZArray
from ..hierarchy.group import Group
from ..hierarchy.tree import describe_array
from ..tools.verify import leftover_temp_files
from ..tools.verify import verify as verify_node


def _info_args(p: argparse.ArgumentParser) -> None:
    add_node_args(p)
    p.add_argument("--html", metavar="FILE", default=None,
                   help="also write a self-contained HTML page (table and chunk-grid picture; a "
                        "group: its member tree) to FILE ('-': print it instead of the text)")
    p.add_argument("--svg", metavar="FILE", default=None,
                   help="also write the array's chunk-grid picture alone, as SVG, to FILE")
    p.add_argument("--stored", action="store_true",
                   help="with --html/--svg: list the store to show stored chunks, stored bytes "
                        "and compression ratio")


def _write(target: str, text: str) -> None:
    """Write ``text`` to the file ``target`` (``-``: standard output)."""
    if target == "-":
        sys.stdout.write(text)
        return
    Path(target).write_text(text, encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)


@command("info", "show an array's shape, dtype, chunks, codecs, stored bytes... (a group: "
         "its summary and tree)", _info_args)
def info(args: argparse.Namespace) -> int:
    node = open_node(args)
    if args.svg is not None and isinstance(node, Group):
        raise ValueError(f"--svg draws an array's chunk grid; {node.name} is a group (use "
                         f"--html, or --path to choose an array in it)")
    if "-" not in (args.html, args.svg):
        print(node.info)
        if not isinstance(node, Group):
            _print_codec_settings(node)
        if isinstance(node, Group):
            print()
            print(node.tree())
    if args.html is not None:
        page = group_page(node) if isinstance(node, Group) else array_page(node, stored=args.stored)
        _write(args.html, page)
    if args.svg is not None:
        _write(args.svg, array_svg(node, stored=args.stored) + "\n")
    return 0


def _print_codec_settings(arr: ZArray) -> None:
    """Every codec with its configuration (the info table lists only the names)."""
    print("Codec settings  :")
    if arr.zarr_format == 2:
        rows = [("filter", f) for f in arr.filters] + [("compressor", c) for c in arr.compressors]
        if not rows:
            print("  (none)")
        for role, cfg in rows:
            print(f"  {role:<10} {json.dumps(cfg, sort_keys=True)}")
        return
    for c in arr.codecs:
        print(f"  {json.dumps(c, sort_keys=True)}")


def _tree_args(p: argparse.ArgumentParser) -> None:
    add_node_args(p)
    p.add_argument("--depth", type=int, default=None, metavar="N",
                   help="show N levels below the group (default: all)")
    p.add_argument("--html", metavar="FILE", default=None,
                   help="also write the tree as a self-contained HTML page with collapsible "
                        "members and each array's chunk grid to FILE ('-': print it instead)")


@command("tree", "print the hierarchy of a group with array shapes and dtypes", _tree_args)
def tree(args: argparse.Namespace) -> int:
    node = open_node(args)
    depth = None if args.depth is None else max(0, args.depth - 1)
    if args.html != "-":
        if isinstance(node, Group):
            print(node.tree(max_depth=depth))
        else:
            print(f"{'/' + node.path} {describe_array(node.metadata)}")
    if args.html is not None:
        _write(args.html, group_page(node, max_depth=depth) if isinstance(node, Group)
               else array_page(node))
    return 0


def _verify_args(p: argparse.ArgumentParser) -> None:
    add_node_args(p)
    p.add_argument("--all", action="store_true", help="list every missing (never written) "
                   "chunk key (default: only their number: they read as the fill value)")
    add_progress_args(p)


def _verify_reports(node: ZArray | Group, shown: int | None, progress: bool) -> list[Any]:
    """:func:`verify_node`'s reports, array by array under a progress bar if asked for."""
    if not progress:
        return verify_node(node, max_missing_keys=shown)
    from tqdm.auto import tqdm
    arrays: list[ZArray | Group] = ([a for _, a in node.members(max_depth=None)
                                     if not isinstance(a, Group)]
                                    if isinstance(node, Group) else [node])
    reports: list[Any] = []
    with tqdm(total=len(arrays), unit="array", desc="verify", dynamic_ncols=True) as bar:
        for a in arrays:
            bar.set_postfix_str(a.path or "/", refresh=False)
            reports.extend(verify_node(a, max_missing_keys=shown))
            bar.update(1)
    return reports


@command("verify", "decode every stored chunk and check checksums; list missing and corrupt "
         "chunks (exit status 1 if any chunk is corrupt) and temporary files left by killed "
         "writers", _verify_args)
def verify(args: argparse.Namespace) -> int:
    node = open_node(args)
    shown = None if args.all else 0
    reports = _verify_reports(node, shown, progress_wanted(args))
    n_corrupt = sum(len(r.corrupt) for r in reports)
    n_missing = sum(r.missing for r in reports)
    print(f"verifying {node.store.url}{(' path ' + node.path) if node.path else ''}")
    for r in reports:
        state = "OK" if r.ok else "CORRUPT"
        never = " (never written: they read as the fill value; --all lists them)"
        print(f"{state:8}{r.path}: {r.stored}/{r.total} chunks stored, {len(r.corrupt)} corrupt, "
              f"{r.missing} missing{never if r.missing and not args.all else ''}")
        for key, err in r.corrupt:
            print(f"  corrupt  {key}: {' '.join(err.split())}")
        for key in r.missing_keys if args.all else ():
            print(f"  missing  {key} (reads as the fill value)")
    leftovers = leftover_temp_files(node)
    for t in leftovers:
        age = f"{t.age / 3600:.1f} h" if t.age >= 3600 else f"{t.age:.0f} s"
        what = ("left by a killed writer; the next write to its folder removes it"
                if t.stale else "a write in progress, or left by a killed writer")
        print(f"  leftover {t.path} ({t.size} bytes, untouched for {age}: {what})")
    checked = sum(r.stored for r in reports)
    print(f"{len(reports)} array(s), {checked} stored chunk(s) decoded: {n_corrupt} corrupt, "
          f"{n_missing} missing, {len(leftovers)} leftover temporary file(s)")
    if leftovers:
        print("leftover temporary files hold no data of the store: delete them when no "
              "writer is running (they never affect reads)")
    return 1 if n_corrupt else 0
