"""Execute a read: selection -> chunk plan -> fetch, decode, gather into the output.

Unsharded arrays are planned over the chunk grid; sharded arrays (whose inner chunks
can be decoded alone) over the inner-chunk grid, fetched shard by shard with ranged
reads (:mod:`exzarr.array.sharded`).
"""

from __future__ import annotations

import math

import numpy as np

from .. import config, executor
from ..codecs import zstd_prefix
from ..indexing.plan import ChunkPlan, plan_selection
from ..indexing.selection import Selection
from ..kernels import jit
from ..kernels.copy import copy_offsets, fill_offsets
from .allocator import populate, prime
from .fetch import fetch_chunks, waits_long
from .file_scatter import read_files
from .group_read import group_reader
from .point_read import point_of, read_point
from .row_read import RowReader
from .scratch import scratch
from .shard_files import read_shard_files
from .gather import (BasicTuples, Boxes, basic_view, decode_start, elem_strides, prefix_nbytes,
                     unit_offsets)
from .sharded import ShardParts, each_part, fetch_inner_chunks

__all__ = ["read_selection", "chunk_geometry", "PREFIX_FRACTION"]

#: a read decodes only the start of a chunk (where the encoding allows it,
#: :mod:`exzarr.codecs.zstd_prefix`) when it needs at most this fraction of its bytes
PREFIX_FRACTION = 0.75

_BYTE = np.dtype(np.uint8)  # (the thread's decode buffer's dtype, made once)


def prefix_most(chunks: tuple[int, ...], dtype: np.dtype) -> int:
    """The most bytes of a chunk a read decodes only the start of (:data:`PREFIX_FRACTION`,
    and never into its last zstd block, which saves nothing: the decoder refuses those,
    :data:`~exzarr.codecs.zstd_prefix.BLOCK_BYTES`); 0 or less for a chunk of one block,
    whose reads then go straight to the whole decode."""
    nbytes = math.prod(chunks) * dtype.itemsize
    return min(int(PREFIX_FRACTION * nbytes), nbytes - zstd_prefix.BLOCK_BYTES)


def chunk_geometry(state):
    """(chunk shape the plan uses, decode function, fetch function, prefix decoder) for
    this array; ``prefix(raw, out, need) -> bool`` decodes a chunk's first bytes only
    (:meth:`~exzarr.codecs.CodecPipeline.decode_prefix`)."""
    p = state.pipeline
    if p.supports_partial_decode:
        def decode_inner(raw, key, out=None):
            return p.decode_inner_chunk(raw, store=state.store, key=key, out=out)
        return tuple(p.inner_chunk_shape), decode_inner, fetch_inner_chunks, p.decode_inner_prefix

    chunks = tuple(state.meta.chunks)
    spec = p.spec
    # a chunk that is one plain zstd frame of its bytes: the library's one call first
    # (``NativeZstd.into``), into an ``out`` the checked route would take; a chunk that
    # has just come over the network is decoded with cold caches, where each step of the
    # checked route costs several times what it does in a loop
    into = getattr(p.native_decoder, "into", None)

    def decode(raw, key, out=None):
        if (into is not None and out is not None and spec.takes(out)
                and into(raw, out)):  # (a decline goes the checked route, which explains)
            return out
        return p.decode(raw, store=state.store, key=key, out=out, readonly=True)
    return chunks, decode, fetch_chunks, p.decode_prefix


#: outputs from this size (NumPy's threshold for huge pages) are mapped at once for a read
#: that waits on the network (:func:`~exzarr.array.fetch.waits_long`)
POPULATE_FROM = 4 << 20


def read_selection(state, sel: Selection, out: np.ndarray | None = None) -> np.ndarray:
    prime()
    dtype = state.meta.dtype
    fresh = out is None
    if out is None:
        out = np.empty(sel.out_shape, dtype=dtype)
    elif out.shape != sel.out_shape or out.dtype != dtype:
        raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}; expected "
                         f"{sel.out_shape} and {dtype}")
    if out.size == 0:
        return out
    point = point_of(state, sel)  # (one element: nothing to broadcast)
    if point is not None:
        chunks, decode, _, prefix = chunk_geometry(state)
        return read_point(state, point, out, decode, prefix, prefix_most(chunks, dtype))
    if sel.broadcast_axes:  # repeated along axes no dimension depends on
        out[...] = read_selection(state, sel.collapse_broadcast())
        return out
    chunks, decode, fetch, prefix = chunk_geometry(state)
    zero_copy = state.pipeline.zero_copy
    plan = plan_selection(sel, chunks)
    if fresh and out.nbytes >= POPULATE_FROM and waits_long(state, plan):
        populate(out)  # while the memory the last read freed is at hand
    if plan.is_basic:
        on_chunk, many, alone, scatter = _basic_handlers(state, plan, out, decode, zero_copy,
                                                         prefix)
        rows = RowReader.make(state, plan, out, on_chunk, BATCH_MIN) if zero_copy else None
        sharded = state.pipeline.supports_partial_decode
        groups = (group_reader(state, on_chunk, many, alone)
                  if not sharded and rows is None else None)
        if sharded and many is not None:
            if not read_shard_files(state, plan, scatter, on_chunk):
                fetch_inner_chunks(state, plan, on_chunk, many=many)
        elif rows is not None:
            rows.run(list(plan))
        elif groups is not None:
            tasks = list(plan)
            if not read_files(state, tasks, scatter, on_chunk, alone):
                one, size = groups
                executor.run(one, executor.tapered(tasks, size), store=state.store)
        else:
            fetch(state, plan, on_chunk)
    else:
        target = out if out.flags.c_contiguous else np.empty(out.shape, dtype)
        fetch(state, plan, _fancy_handler(state, plan, target, decode))
        if target is not out:
            out[...] = target
    return out


def _extent(coords, chunks, shape) -> tuple[int, ...]:
    return tuple(min(c, s - i * c) for i, c, s in zip(coords, chunks, shape))


def _basic_handlers(state, plan: ChunkPlan, out: np.ndarray, decode, zero_copy=False,
                    prefix=None):
    """``on_chunk(task, raw, label)`` for one chunk, for the inner chunks of a sharded
    array ``many(buffer, parts)`` (or None) for several cut from one buffer, ``alone(task)``
    (whether a chunk goes through ``on_chunk`` on its own) and the read's :class:`_Scatter`
    (or None).  A chunk of
    which the read takes only elements near its start is decoded only up to them
    (``prefix``, when the encoding allows it)."""
    view = basic_view(plan, out)
    shape = tuple(state.meta.shape)
    chunks = plan.chunks
    c_order = state.meta.order == "C"
    dtype = state.meta.dtype
    use_scratch = c_order and not zero_copy
    tuples = BasicTuples(plan)
    most = prefix_most(chunks, dtype) if use_scratch else 0

    def prefix_only(inner) -> bool:
        """Whether the read takes only the start of the chunk (``inner``: its part) and
        decodes just that (the route of ``on_chunk``, not the compiled calls)."""
        return prefix is not None and prefix_nbytes(inner, chunks, dtype.itemsize) <= most

    def alone(task) -> bool:
        known = short[task.index] if short is not None else None
        return prefix_only(tuples(task)[0]) if known is None else known

    def on_chunk(task, raw, key):
        if first is not None and raw is not None and not alone(task) and first(task, raw):
            return  # decoded and placed in one compiled call (no slices or view made)
        inner, outer = tuples(task)
        if raw is None:
            view[outer] = state.fill
            return
        region = view[outer + (Ellipsis,)]
        if (direct and region.flags.c_contiguous and region.shape == chunks
                and plan.covers_chunk(task, shape) and _extent(task.coords, chunks, shape) == chunks
                and all(isinstance(s, slice) and (s.step or 1) == 1 for s in inner)):
            decode(raw, key, out=region)  # straight into the output, no copy
            return
        if later is not None and not alone(task) and later(task, raw):
            return  # decoded and placed in one compiled call
        chunk = (decode_start(raw, key, inner, chunks, dtype, decode, prefix, most)
                 if use_scratch else decode(raw, key))
        region[...] = chunk[inner]

    p = state.pipeline
    unsharded = not p.supports_partial_decode
    scatter = _Scatter.make(p.native_decoder if unsharded else p.inner_native_decoder,
                            plan, view) if use_scratch else None
    placed = _placer(scatter) if unsharded else None
    direct = c_order and _whole_regions_contiguous(view, chunks)
    # where no chunk can be decoded straight into the output, the compiled placement is
    # tried first (``first``), before the chunk's slices and view of the output are made
    first, later = (None, placed) if direct else (placed, None)
    # per task, whether the read takes only the start of its chunk, for every box at once
    # (None: not a box, asked of its selection); asked only of unsharded chunks (the inner
    # chunks of a shard go in batches, :func:`_many_handler`, or one by one, ``on_chunk``)
    short: list[bool | None] | None = None
    if scatter is not None and prefix is not None and unsharded:
        boxes = scatter.boxes
        short = [s if o else None for s, o in zip((boxes.ends(dtype.itemsize) <= most).tolist(),
                                                  boxes.ok.tolist())]
    # (unsharded chunks go through ``many`` only when read in groups: group_read)
    many = _many_handler(scatter, on_chunk) if not unsharded or state.store.reads_into else None
    return on_chunk, many, alone, scatter


def _whole_regions_contiguous(view: np.ndarray, chunks: tuple[int, ...]) -> bool:
    """Whether a whole chunk's region of the basic view (all of the chunk, ``chunks``
    elements along every dimension of the view) is one C-contiguous run of the output,
    which a chunk can then be decoded straight into.  Every such region is a view of the
    same shape and strides (step-1 slices of ``view``), so asking one answers for all."""
    if view.ndim != len(chunks) or any(v < c for v, c in zip(view.shape, chunks)):
        return False
    return bool(view[tuple(slice(0, c) for c in chunks)].flags.c_contiguous)


class _Scatter:
    """:func:`decode_scatter` for one read: frames of ``native``'s format decoded and their
    boxes (:class:`~exzarr.array.gather.Boxes` of the plan) copied into ``view``.
    :meth:`make` gives None when it can never apply to the read; ``ready()`` is False
    until Numba and the decoder's compiled functions are there (loaded on the first
    call that needs them)."""

    __slots__ = ("native", "boxes", "flat", "nbytes", "item")

    def __init__(self, native, plan: ChunkPlan, view: np.ndarray) -> None:
        self.native = native
        self.item = view.dtype.itemsize
        self.nbytes = math.prod(plan.chunks) * self.item
        self.flat = view.reshape(-1).view(np.uint8)
        self.boxes = Boxes(plan, view)

    @classmethod
    def make(cls, native, plan: ChunkPlan, view: np.ndarray) -> _Scatter | None:
        if (native is None or not plan.chunks or not config.get().jit
                or plan.nchunks < BATCH_MIN or not view.flags.c_contiguous
                or not view.flags.writeable):
            return None
        return cls(native, plan, view)

    def ready(self) -> bool:
        # (blosc's adapters compile on the first look at ``addresses``)
        return jit.numba_available() and self.native.addresses is not None

    def __call__(self, buf, starts: np.ndarray, stops: np.ndarray, idx) -> int:
        """Decode ``buf[starts[k]:stops[k]]`` into the boxes of tasks ``idx`` (indices, or
        a slice of tasks side by side); the number of frames done (the kernel's answer)."""
        boxes, nbytes = self.boxes, self.nbytes
        return self.native.scatter(np.frombuffer(buf, dtype=np.uint8), starts, stops, nbytes,
                                   scratch((nbytes,), _BYTE), self.flat,
                                   boxes.bases[idx], boxes.skips[idx], boxes.extents[idx],
                                   boxes.out_strides, boxes.chunk_strides, self.item)


def _placer(scatter: _Scatter | None):
    """``placed(task, raw) -> bool``: an unsharded chunk that is one plain zstd or blosc
    frame decoded and its box copied into the output by :func:`decode_scatter` in one
    compiled call, without the GIL (False: refused, nothing to trust in its box; decode
    it the checked way, which says why).  None when that cannot apply to this read."""
    if scatter is None:
        return None
    ok = scatter.boxes.ok
    start = np.zeros(1, dtype=np.int64)

    def placed(task, raw) -> bool:
        i = task.index
        if not ok[i] or not scatter.ready():
            return False
        stop = np.array([memoryview(raw).nbytes], dtype=np.int64)
        return scatter(raw, start, stop, slice(i, i + 1)) == 1
    return placed


#: a read of this many inner chunks or more decodes them in compiled calls, one per buffer
#: (per chunk, the Python route costs more than a kernel call: 41 -> 37.5 ms of CPU for the
#: sharded.region workload); a read of one inner chunk keeps the route that can decode
#: only its start (:mod:`exzarr.codecs.zstd_prefix`)
BATCH_MIN = 2


def _many_handler(scatter: _Scatter | None, on_chunk):
    """``many(buffer, parts)``, parts ``(task, start, stop, label)`` of ``buffer`` (a byte
    memoryview): chunks (inner chunks of a shard, or an unsharded array's chunks read in
    groups, :mod:`exzarr.array.group_read`) of which the read takes a box (step-1 slices
    or ints: the whole chunk, or its part inside the region) are decoded and placed by
    :func:`decode_scatter` (plain zstd or blosc chunks, a C-contiguous output, Numba on),
    in one call whatever their boxes' shapes, when the read has :data:`BATCH_MIN` of them
    or more; the rest, and any chunk the kernel refuses and those after it, go through
    ``on_chunk``.  None when the kernel can never apply to this read."""
    if scatter is None:
        return None
    each = each_part(on_chunk)
    ok = scatter.boxes.ok  # (the handler exists only for reads of several chunks)
    every = bool(ok.all())

    def many(buf, parts) -> None:
        n = len(parts)
        arrays = isinstance(parts, ShardParts)  # (its tasks' indices and spans as arrays)
        if every and n and scatter.ready():  # (every box placeable: no sorting out)
            if arrays:
                at, starts, stops = parts.at, parts.starts, parts.stops
            else:
                tasks = [p[0].index for p in parts]
                first = tasks[0]
                # tasks side by side in the plan (a group, or a range of a shard's row):
                # their boxes as views, not copies picked out of the read's
                at = (slice(first, first + n) if tasks == list(range(first, first + n))
                      else np.array(tasks, dtype=np.int64))
                starts = np.fromiter((p[1] for p in parts), dtype=np.int64, count=n)
                stops = np.fromiter((p[2] for p in parts), dtype=np.int64, count=n)
            done = scatter(buf, starts, stops, at)
            if done < n:
                each(buf, parts[done:])  # refused: the checked route says why
            return
        idx = (parts.at if arrays
               else np.fromiter((p[0].index for p in parts), dtype=np.int64, count=n))
        take = ok[idx]
        if not take.any() or not scatter.ready():  # (ready() loads Numba: only if needed)
            return each(buf, parts)
        batch, rest = parts, []
        if not take.all():
            flags = take.tolist()
            batch = [p for p, t in zip(parts, flags) if t]
            rest = [p for p, t in zip(parts, flags) if not t]
            idx = idx[take]
        if isinstance(batch, ShardParts):
            starts, stops = batch.starts, batch.stops
        else:
            spans = np.array([(p[1], p[2]) for p in batch], dtype=np.int64)
            starts, stops = spans[:, 0], spans[:, 1]
        done = scatter(buf, starts, stops, idx)
        rest.extend(batch[done:])  # refused: the checked route says why
        each(buf, rest)

    return many


def _fancy_handler(state, plan: ChunkPlan, out: np.ndarray, decode):
    ostr = elem_strides(out)
    out_shape = out.shape
    fake_strides = (0,) * len(plan.chunks)

    def on_chunk(task, raw, key):
        if raw is None:
            _, dst = unit_offsets(plan, task, fake_strides, ostr, out_shape)
            fill_offsets(out, dst, state.fill)
            return
        chunk = decode(raw, key)
        if not (chunk.flags.c_contiguous or chunk.flags.f_contiguous):
            chunk = np.ascontiguousarray(chunk)
        src, dst = unit_offsets(plan, task, elem_strides(chunk), ostr, out_shape)
        copy_offsets(chunk, src, out, dst)

    return on_chunk
