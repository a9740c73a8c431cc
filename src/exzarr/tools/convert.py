"""``convert`` (Zarr v2 <-> v3) and ``copy`` (same format, optionally rechunked) of whole
hierarchies: groups with their attributes, arrays with their data.

Data is streamed: each destination chunk (each shard, for sharded destinations) is one
task that reads the matching region of the source and writes that chunk whole, so no
read-modify-write happens and memory stays at a bounded number of chunks in flight
(``exzarr.config.threads`` tasks, through :func:`exzarr.executor.imap`), whatever
the array size.  Only destination chunks that overlap stored source chunks are written.
When a copy keeps the exact layout and codecs, chunks are copied as stored bytes
without decoding.
"""

from __future__ import annotations

import itertools
import json

from .. import executor
from ..array.codec_args import UNSET
from ..array.create import array_metadata
from ..array.zarray import ZArray
from ..errors import ExzarrError, NodeExistsError, where
from ..hierarchy.consolidated import has_consolidated
from ..hierarchy.group import Group
from ..hierarchy.nodes import node_exists
from ..hierarchy.open import consolidate_at, create_array_at, open_group_at, open_node
from ..storage import resolve_store
from ..storage.keys import norm_path
from .convert_meta import target_kwargs

__all__ = ["convert", "copy"]


class _Progress:
    """A tqdm bar (imported only when asked for) whose total grows array by array."""

    def __init__(self, enabled: bool, desc: str):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=0, unit="chunk", desc=desc, dynamic_ncols=True)

    def add_total(self, n: int, label: str) -> None:
        if self.bar is not None:
            self.bar.total += n
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.refresh()

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _open_source(src, path, storage_options):
    if isinstance(src, (ZArray, Group)):
        if path:
            return src[path] if isinstance(src, Group) else _bad_path(src, path)
        return src
    return open_node(resolve_store(src, "r", storage_options), path, mode="r")


def _bad_path(src, path):
    raise ValueError(f"src_path={path!r} was given but the source is an array ({src!r})")


def _dst_units(src, dst_meta) -> list[tuple[int, ...]]:
    """Destination chunk (shard) coordinates overlapping a stored source chunk (shard)."""
    sm = src.metadata
    shape = tuple(sm.shape)
    if any(s == 0 for s in shape):
        return []
    if not shape:  # 0-d: one chunk (listing-based stored_chunks may not decode its key)
        return [()] if src.store.exists(src._state.chunk_key(())) else []
    out: set[tuple[int, ...]] = set()
    for coords in src.stored_chunks():
        ranges = []
        for c, sc, dc, n in zip(coords, sm.chunks, dst_meta.chunks, shape):
            lo, hi = c * sc, min((c + 1) * sc, n)
            ranges.append(range(lo // dc, (hi - 1) // dc + 1))
        out.update(itertools.product(*ranges))
    return sorted(out)


def _raw_layout(meta) -> str:
    doc = meta.to_json()
    for k in ("attributes", "dimension_names"):
        doc.pop(k, None)
    return json.dumps(doc, sort_keys=True)


def _copy_chunks(src, dst, progress: _Progress, label: str) -> None:
    """Write every destination chunk that overlaps stored source data (bounded in flight)."""
    dm = dst.metadata
    units = _dst_units(src, dm)
    progress.add_total(len(units), label)
    if _raw_layout(src.metadata) == _raw_layout(dm):
        s_state, d_state = src._state, dst._state

        def raw(coords):
            key = s_state.chunk_key(coords)
            data = s_state.store.get(key)
            if data is not None:
                d_state.store.set(d_state.chunk_key(coords), data)
        task = raw
    else:
        def task(coords):
            region = tuple(slice(c * k, min((c + 1) * k, s))
                           for c, k, s in zip(coords, dm.chunks, dm.shape))
            dst.write_chunk(coords, src[region].read())
    for _ in executor.imap(task, units, ordered=False, max_inflight=executor.threads()):
        progress.update(1)


def _array_kwargs(arr, fmt, opts) -> dict:
    try:
        return target_kwargs(arr, fmt, **{k: v for k, v in opts.items() if not k.startswith("_")})
    except ExzarrError as e:
        raise type(e)(f"cannot convert the array at {arr._state.where()} to Zarr v{fmt}: {e}",
                      store=arr.store, key=arr.path) from None


def _copy_array(src, dst_group, rel: str, fmt: int, opts: dict, progress: _Progress):
    kw = _array_kwargs(src, fmt, opts)
    if dst_group is None:
        store, path, overwrite = opts["_dst"]
        dst = create_array_at(store, path, array_metadata(zarr_format=fmt, **kw),
                              overwrite=overwrite)
    else:
        dst = dst_group.create_array(rel, **kw)
    _copy_chunks(src, dst, progress, src.path or "/")
    return dst


def convert(src, dst, *, zarr_format: int | None = 3, codecs=None, compressor=UNSET,
            filters=UNSET, chunks=None, shards=None, src_path=None, dst_path=None,
            overwrite: bool = False, progress: bool = False, consolidate: bool | None = None,
            storage_options=None, dst_storage_options=None):
    """Rewrite the array or hierarchy at ``src`` into ``dst`` in ``zarr_format``.

    ``src``/``dst``: a path, URL or Store (``src`` may also be an open ZArray/Group);
    ``src_path``/``dst_path`` pick a node inside them.  ``zarr_format=None`` keeps the
    source's format (that is :func:`copy`).

    Every array keeps shape, dtype, fill value, attributes and data exactly.  Codecs are
    mapped between formats (see :mod:`exzarr.tools.convert_meta`) unless ``codecs=`` (v3),
    ``compressor=`` or ``filters=`` replace them; ``chunks=`` rechunks every array (an
    int or one entry per dimension), ``shards=`` shards them (v3; ``False`` unshards).
    Data streams chunk by chunk with bounded memory; ``progress=True`` shows a tqdm bar.
    ``dst`` must be empty at ``dst_path`` unless ``overwrite=True``.  A consolidated
    source gives a consolidated destination (``consolidate=`` forces either way).
    Returns the destination ZArray or Group.  Close zip/sqlite destinations when done
    (``node.store.close()``).
    """
    if zarr_format not in (None, 2, 3):
        raise ValueError(f"zarr_format must be 2, 3 or None (keep), got {zarr_format!r}")
    node = _open_source(src, norm_path(src_path), storage_options)
    fmt = zarr_format or node.zarr_format
    opts = {"codecs": codecs, "compressor": compressor, "filters": filters, "chunks": chunks,
            "shards": shards}
    so = storage_options if dst_storage_options is None else dst_storage_options
    d_store = resolve_store(dst, "w" if overwrite else "a", so)
    d_path = norm_path(dst_path)
    if (d_store.url, d_path) == (node.store.url, node.path):
        raise ValueError(f"source and destination are the same node ({where(d_store, d_path or '/')})")
    bar = _Progress(progress, f"{'convert' if zarr_format else 'copy'} -> v{fmt}")
    existing = None if overwrite else node_exists(d_store, d_path)
    if existing:
        raise NodeExistsError(f"an {existing} already exists at {where(d_store, d_path or '/')}; "
                              f"pass overwrite=True (exzarr CLI: --overwrite) to replace it, or "
                              f"choose another destination", store=d_store, key=d_path)
    try:
        if not isinstance(node, Group):
            opts["_dst"] = (d_store, d_path, overwrite)
            return _copy_array(node, None, "", fmt, opts, bar)
        out = open_group_at(d_store, d_path, mode="w" if overwrite else "w-", zarr_format=fmt,
                            use_consolidated=None, attributes=dict(node.attrs))
        for rel, member in node.members(max_depth=None):
            if isinstance(member, Group):
                out.create_group(rel, attributes=dict(member.attrs))
            else:
                _copy_array(member, out, rel, fmt, opts, bar)
        if consolidate or (consolidate is None and (
                node.consolidated or has_consolidated(node.store, node.path, node.zarr_format))):
            return consolidate_at(d_store, d_path, None)
        return open_group_at(d_store, d_path, mode="r+", zarr_format=None, use_consolidated=False,
                             attributes=None)
    finally:
        bar.close()


def copy(src, dst, *, chunks=None, shards=None, codecs=None, compressor=UNSET, filters=UNSET,
         src_path=None, dst_path=None, overwrite: bool = False, progress: bool = False,
         consolidate: bool | None = None, storage_options=None, dst_storage_options=None):
    """Copy the array or hierarchy at ``src`` to ``dst`` in the same Zarr format,
    optionally rechunked (``chunks=``, ``shards=``) or recompressed.  Stored chunks are
    copied byte for byte when the layout and codecs stay the same.  See :func:`convert`."""
    return convert(src, dst, zarr_format=None, codecs=codecs, compressor=compressor,
                   filters=filters, chunks=chunks, shards=shards, src_path=src_path,
                   dst_path=dst_path, overwrite=overwrite, progress=progress,
                   consolidate=consolidate, storage_options=storage_options,
                   dst_storage_options=dst_storage_options)
