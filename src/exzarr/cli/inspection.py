"""``exzarr info``, ``exzarr tree`` and ``exzarr verify``."""

from __future__ import annotations

from ._common import add_node_args, command, open_node
from ..hierarchy.group import Group
from ..hierarchy.tree import describe_array
from ..tools.verify import verify as verify_node


def _info_args(p):
    add_node_args(p)


@command("info", "show an array's shape, dtype, chunks, codecs, stored bytes... (a group: "
         "its summary and tree)", _info_args)
def info(args) -> int:
    node = open_node(args)
    print(node.info)
    if isinstance(node, Group):
        print()
        print(node.tree())
    return 0


def _tree_args(p):
    add_node_args(p)
    p.add_argument("--depth", type=int, default=None, metavar="N",
                   help="show N levels below the group (default: all)")


@command("tree", "print the hierarchy of a group with array shapes and dtypes", _tree_args)
def tree(args) -> int:
    node = open_node(args)
    if isinstance(node, Group):
        print(node.tree(max_depth=None if args.depth is None else max(0, args.depth - 1)))
    else:
        print(f"{'/' + node.path} {describe_array(node.metadata)}")
    return 0


def _verify_args(p):
    add_node_args(p)
    p.add_argument("--all", action="store_true", help="list every missing chunk key "
                   "(default: the first 10 per array)")


@command("verify", "decode every stored chunk and check checksums; list missing and corrupt "
         "chunks (exit status 1 if any chunk is corrupt)", _verify_args)
def verify(args) -> int:
    node = open_node(args)
    shown = None if args.all else 10
    reports = verify_node(node, max_missing_keys=shown)
    n_corrupt = sum(len(r.corrupt) for r in reports)
    n_missing = sum(r.missing for r in reports)
    print(f"verifying {node.store.url}{(' path ' + node.path) if node.path else ''}")
    for r in reports:
        state = "OK" if r.ok else "CORRUPT"
        print(f"{state:8}{r.path}: {r.stored}/{r.total} chunks stored, {len(r.corrupt)} corrupt, "
              f"{r.missing} missing")
        for key, err in r.corrupt:
            print(f"  corrupt  {key}: {' '.join(err.split())}")
        if r.missing:
            for key in r.missing_keys:
                print(f"  missing  {key} (reads as the fill value)")
            if r.missing > len(r.missing_keys):
                print(f"  ... and {r.missing - len(r.missing_keys)} more missing (--all lists them)")
    checked = sum(r.stored for r in reports)
    print(f"{len(reports)} array(s), {checked} stored chunk(s) decoded: {n_corrupt} corrupt, "
          f"{n_missing} missing")
    return 1 if n_corrupt else 0
