"""Execute a write: coerce + broadcast the value, then per chunk either encode the new
data outright (the selection covers the chunk) or read-modify-write under the chunk's
lock.  A chunk left entirely fill_value is deleted instead of stored (unless
``write_empty_chunks``).  Sharded arrays are written shard by shard from inner chunks
(:mod:`exzarr.array.sharded`)."""

from __future__ import annotations

import numpy as np

from .. import executor
from ..indexing.plan import ChunkPlan, plan_selection
from ..indexing.selection import Selection
from ..kernels.copy import copy_offsets
from ..storage.base import Store
from .casting import broadcast_value, coerce_value
from .allocator import prime
from . import fresh_bytes
from .batch_encode import BatchEncoder, chunk_encoder
from .chunkstore import is_write_empty, store_chunk, store_encoded
from .fetch import io_parallelism, write_batch
from .gather import BasicTuples, basic_view, elem_strides, unit_offsets
from .locks import chunk_lock
from .scratch import allocate, scratch
from .sharded import write_shards
from .state import ArrayState

__all__ = ["write_selection"]


def write_selection(state: ArrayState, sel: Selection, value: object) -> None:
    state.store.check_writable(state.path or None)
    meta = state.meta
    arr = coerce_value(value, meta.dtype, state.where())
    arr = broadcast_value(arr, sel.out_shape, state.where())
    if arr.size == 0:
        return
    if sel.broadcast_axes:  # NumPy: the last of the repeated writes wins
        arr = arr[tuple(slice(-1, None) if a in sel.broadcast_axes else slice(None)
                        for a in range(arr.ndim))]
        sel = sel.collapse_broadcast()
    p = state.pipeline
    sharded = p.supports_partial_decode
    inner = p.inner_chunk_shape  # not None when sharded
    chunks = tuple(inner) if sharded and inner is not None else tuple(meta.chunks)
    plan = plan_selection(sel, chunks)
    direct = encoder = None
    if plan.is_basic:
        put = _basic_putter(plan, basic_view(plan, arr))
        if not sharded:
            verbatim = _encodes_verbatim(state)
            # uncompressed chunks: gathered by the compiled encoder where the store writes
            # the buffer as given (files), else kept as one new bytes object each
            if not verbatim or _writes_buffers(state.store):
                encoder = chunk_encoder(state, put)
            if encoder is None and verbatim:
                direct = put
    else:
        put = _fancy_putter(plan, np.ascontiguousarray(arr))
    shape = tuple(meta.shape)
    if sharded:
        write_shards(state, plan, put, lambda t: plan.covers_chunk(t, shape),
                     put if isinstance(put, _BasicPutter) else None)
        return
    tasks = list(plan)
    with write_batch(state, len(tasks)):
        executor.run(lambda task: _write_chunk(state, plan, task, put, direct, encoder),
                     tasks, parallel=io_parallelism(state.store), store=state.store)


def _encodes_verbatim(state: ArrayState) -> bool:
    """Whether a chunk's encoding is its memory in C order (no codec changes a byte), so a
    fully written chunk can be stored as the bytes of the source block, in one copy."""
    p = state.pipeline
    meta = state.meta
    return (p.zero_copy and meta.order == "C" and p.spec.dtype == meta.dtype
            and tuple(p.spec.shape) == tuple(meta.chunks))


def _writes_buffers(store: Store) -> bool:
    """Whether the store writes the buffers given to ``set_parts`` without keeping them
    (local files), rather than keeping a copy (memory)."""
    return type(store).set_parts is not Store.set_parts


class _BasicPutter:
    """Copies a basic-plan task's block of the source into a chunk buffer; ``block``
    gives the block itself when the task covers its chunk exactly (no copy)."""

    __slots__ = ("tuples", "src")

    def __init__(self, plan: ChunkPlan, src: np.ndarray):
        self.tuples = BasicTuples(plan)
        self.src = src

    def __call__(self, task, chunk: np.ndarray) -> None:
        inner, outer = self.tuples(task)
        chunk[inner] = self.src[outer]

    def block(self, task, shape: tuple[int, ...]) -> np.ndarray | None:
        """The source block that is the whole chunk ``task`` (of ``shape``), or None."""
        if self.tuples.whole_chunk_origin(task) is None:
            return None
        _, outer = self.tuples(task)
        b = self.src[outer + (Ellipsis,)]  # a view even when 0-d (never a NumPy scalar)
        return b if b.shape == shape and b.dtype == self.src.dtype else None


def _basic_putter(plan: ChunkPlan, src: np.ndarray) -> _BasicPutter:
    return _BasicPutter(plan, src)


def _fancy_putter(plan: ChunkPlan, src: np.ndarray):
    sstr = elem_strides(src)

    def put(task, chunk):
        c_off, s_off = unit_offsets(plan, task, elem_strides(chunk), sstr, src.shape)
        copy_offsets(src, s_off, chunk, c_off)
    return put


def _encoded_whole(state, key: str, task, encoder: BatchEncoder) -> bool:
    """Encode and store a chunk the write covers whole in one compiled call (zstd chunks,
    :mod:`exzarr.array.batch_encode`); False: not taken, nothing was stored."""
    if state.chunk_extent(task.coords) != tuple(state.meta.chunks) \
            or encoder.origin(task) is None:
        return False
    prime()
    check_fill = not is_write_empty(state)
    store = state.store
    if store.keeps_values and fresh_bytes.available():
        # the frame is made in the bytes object the store keeps: no copy
        taken, frame = encoder.encode_value(task, check_fill=check_fill)
        keep = store.set
    else:
        done = encoder.encode([(task, key)], check_fill=check_fill, minimum=1)
        taken, frame = key in done, done.get(key)

        def keep(k, buf) -> None:  # this thread's buffer: written or copied before returning
            store.set_parts(k, [buf])
    if not taken:
        return False
    with chunk_lock(store.url, key):
        if frame is None:  # all fill_value
            store.delete(key)
        else:
            keep(key, frame)
    return True


def _new_chunk(state, coords=None) -> np.ndarray:
    meta = state.meta
    shape = tuple(meta.chunks)
    if coords is not None and state.chunk_extent(coords) == shape:
        return scratch(shape, meta.dtype, meta.order)  # fully overwritten, then encoded
    return allocate(shape, meta.dtype, meta.order, fill=state.fill)


def _write_chunk(state, plan: ChunkPlan, task, put, direct: _BasicPutter | None = None,
                 encoder: BatchEncoder | None = None) -> None:
    key = state.chunk_key(task.coords)
    covers = plan.covers_chunk(task, tuple(state.meta.shape))
    if covers and encoder is not None and _encoded_whole(state, key, task, encoder):
        return
    if covers and direct is not None:
        shape = tuple(state.meta.chunks)
        block = direct.block(task, shape) if state.chunk_extent(task.coords) == shape else None
        if block is not None:
            # uncompressed: the stored value is the block's memory, copied once
            store = state.store
            if _writes_buffers(store):
                # the store writes buffers as given (local files): copy into this thread's
                # scratch (NumPy copies without holding the GIL) and write from there
                buf = scratch(shape, block.dtype)
                buf[...] = block
                data: bytes | np.ndarray = buf
            else:
                data = block.tobytes()  # kept by the store: one copy into new bytes
            with chunk_lock(store.url, key):
                store_encoded(state, key, data, block.dtype)
            return
    with chunk_lock(state.store.url, key):
        raw = None if covers else state.store.get(key)
        if raw is None:
            chunk = _new_chunk(state, task.coords if covers else None)
        else:
            meta = state.meta
            out = scratch(tuple(meta.chunks), meta.dtype) if meta.order == "C" else None
            chunk = state.pipeline.decode(raw, store=state.store, key=key, out=out)
        put(task, chunk)
        store_chunk(state, key, chunk, existed=covers or raw is not None)
