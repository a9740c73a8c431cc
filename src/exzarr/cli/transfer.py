"""``exzarr convert`` and ``exzarr copy``."""

from __future__ import annotations

import json
import time

import argparse

from ._common import _kv, add_progress_args, command, parse_shape, progress_wanted, storage_options
from ..api import convert
from ..array.codec_args import UNSET
from ..storage import open_store
from ..hierarchy.group import Group


def _codec_arg(text: str):
    """A compressor name ('zstd'), 'none', or a JSON codec config."""
    if text.lower() in ("none", "null"):
        return None
    if text.lstrip().startswith("{"):
        return json.loads(text)
    return text


def _shards_arg(text: str):
    return False if text.lower() in ("none", "false", "0") else parse_shape(text)


def _common(p, convert: bool):
    p.add_argument("src", metavar="SRC", help="source array or group (path or URL)")
    p.add_argument("dst", metavar="DST", help="destination (path or URL; must not exist "
                   "unless --overwrite)")
    if convert:
        p.add_argument("--zarr-format", type=int, choices=(2, 3), default=3,
                       help="format to write (default 3)")
    p.add_argument("--chunks", type=parse_shape, default=None, metavar="N[,N...]",
                   help="rechunk every array (one entry per dimension, or one for all)")
    p.add_argument("--shards", type=_shards_arg, default=None, metavar="N[,N...]",
                   help="shard every array (Zarr v3); 'none' removes sharding")
    p.add_argument("--compressor", type=_codec_arg, default=argparse.SUPPRESS, metavar="NAME|JSON|none",
                   help="replace the compressor (e.g. zstd, gzip, blosc, a JSON config, none)")
    p.add_argument("--src-path", default=None, metavar="NODE", help="node inside SRC")
    p.add_argument("--dst-path", default=None, metavar="NODE", help="node inside DST")
    p.add_argument("--overwrite", action="store_true", help="replace what exists at DST")
    add_progress_args(p)
    p.add_argument("--dst-storage-option", action="append", default=[], metavar="KEY=VALUE",
                   type=_kv,
                   help="storage option for DST only (default: --storage-option)")


def _run(args, zarr_format) -> int:
    so = storage_options(args)
    dso = dict(args.dst_storage_option) or so
    t0 = time.perf_counter()
    src = open_store(args.src, mode="r", storage_options=so)
    dst = open_store(args.dst, mode="w" if args.overwrite else "a", storage_options=dso)
    try:
        node = convert(src, dst, zarr_format=zarr_format, chunks=args.chunks, shards=args.shards,
                       compressor=getattr(args, "compressor", UNSET),
                       src_path=args.src_path, dst_path=args.dst_path, overwrite=args.overwrite,
                       progress=progress_wanted(args))
        summary = _summary(node)
    finally:
        dst.close()
        src.close()
    verb = "converted" if zarr_format else "copied"
    print(f"{verb} {args.src} -> {args.dst} (Zarr v{node.zarr_format}): {summary} in "
          f"{time.perf_counter() - t0:.2f} s")
    return 0


def _summary(node) -> str:
    if isinstance(node, Group):
        members = node.members(max_depth=None)
        n_arr = sum(1 for _, m in members if not isinstance(m, Group))
        return f"{n_arr} array(s), {len(members) - n_arr + 1} group(s)"
    return f"array {node.shape} {node.dtype}, {node.nchunks_initialized} chunk(s) stored"


def _convert_args(p):
    _common(p, True)


def _copy_args(p):
    _common(p, False)


@command("convert", "rewrite an array or hierarchy in another Zarr format (v2 <-> v3), "
         "optionally rechunked", _convert_args)
def convert_cmd(args) -> int:
    return _run(args, args.zarr_format)


@command("copy", "copy an array or hierarchy in the same Zarr format, optionally rechunked",
         _copy_args)
def copy_cmd(args) -> int:
    return _run(args, None)
