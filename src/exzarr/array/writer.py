"""Execute a write: coerce + broadcast the value, then per chunk either encode the new
data outright (the selection covers the chunk) or read-modify-write under the chunk's
lock.  A chunk left entirely fill_value is deleted instead of stored (unless
``write_empty_chunks``).  Sharded arrays are written shard by shard from inner chunks
(:mod:`exzarr.array.shard_write`)."""

from __future__ import annotations

import contextlib

import numpy as np

from .. import executor
from ..indexing.plan import ChunkPlan, plan_selection
from ..indexing.selection import Selection
from ..kernels.copy import copy_offsets
from ..storage.base import Store
from ..storage.direct_writes import DirectWrites
from .casting import broadcast_value, coerce_value
from .allocator import prime
from . import fresh_bytes
from .batch_encode import BatchEncoder, chunk_encoder
from .chunkstore import is_write_empty, store_chunk, store_encoded
from .fetch import io_parallelism, write_batch
from .gather import BasicTuples, basic_view, elem_strides, unit_offsets
from .locks import chunk_lock, chunk_locks
from .scratch import allocate, scratch
from .shard_write import write_shards
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
            # the buffer as given (files) or keeps a bytes object the encoder can fill in
            # place (memory), else kept as one new bytes object each (NumPy's copy, which
            # holds the GIL); groups of up to 1 MiB of chunks only where the frames wait in
            # this thread's buffer to be written (not when the store keeps them as they
            # are made, or the compiled call writes each to its file as it is made)
            store = state.store
            in_place = store.keeps_values and fresh_bytes.available()
            if not verbatim or _writes_buffers(store) or in_place:
                encoder = chunk_encoder(state, put, group_size(
                    plan.nchunks, io_parallelism(store, p.spec.nbytes) or executor.threads(),
                    None if in_place or store.writes_directly else p.spec.nbytes))
            if verbatim:
                direct = put  # (chunks the encoder does not take)
    else:
        put = _fancy_putter(plan, np.ascontiguousarray(arr))
    shape = tuple(meta.shape)
    if sharded:
        write_shards(state, plan, put, lambda t: plan.covers_chunk(t, shape),
                     put if isinstance(put, _BasicPutter) else None)
        return
    tasks = list(plan)
    parallel = io_parallelism(state.store, p.spec.nbytes)
    with write_batch(state, len(tasks)):
        if encoder is None:
            executor.run(lambda task: _write_chunk(state, plan, task, put, direct),
                         tasks, parallel=parallel, store=state.store)
            return
        # more tasks than threads (uploads in flight): the encoding runs on the threads,
        # one group at a time each, while the other tasks' uploads wait on the network
        gate = executor.cpu_gate() if parallel is not None else None
        groups = executor.tapered(tasks, encoder.per_call, parallel)
        executor.run(lambda group: _write_group(state, plan, group, put, direct, encoder,
                                                gate),
                     groups, parallel=parallel, store=state.store)


def group_size(ntasks: int, threads: int, nbytes: int | None = None) -> int:
    """Chunks per compiled encoding call of an unsharded write of ``ntasks`` chunks: up to
    :data:`GROUP_MAX`, leaving each of ``threads`` threads four groups or more to
    balance; where the frames are gathered in the thread's buffer and then written
    (``nbytes``: a chunk's size), no more than :data:`GROUP_BYTES` of chunks."""
    most = GROUP_MAX if nbytes is None else min(GROUP_MAX, GROUP_BYTES // max(1, nbytes))
    return max(1, min(most, ntasks // (4 * max(1, threads))))


#: the most chunks of an unsharded write encoded in one compiled call (the Python around
#: a call, ~50 µs after a 1 MiB chunk has left the caches cold, is paid once per group)
GROUP_MAX = 8
#: ... and the most bytes of chunks per call where the frames are then written from the
#: thread's buffer: the writes copy them while they are still in the caches (groups of
#: eight 1 MiB chunks wrote a local disk 1.1x slower, paired against zarrs)
GROUP_BYTES = 1 << 20


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


def _write_group(state, plan: ChunkPlan, tasks: list, put,
                 direct: _BasicPutter | None, encoder: BatchEncoder,
                 gate: executor.Gate | None = None) -> None:
    """Write ``tasks``' chunks: those the write covers whole encoded and stored with one
    compiled call (:mod:`exzarr.array.batch_encode`; under ``gate`` if given), the rest
    (and any the call refuses) one by one."""
    # a task that takes its chunk whole (every element, in order) covers a chunk inside
    # the array: an edge chunk the array's end clips has fewer elements to take
    bases = encoder.bases(tasks)
    if bases.min() >= 0:
        whole, rest = tasks, []
    else:
        taken = bases >= 0
        whole = [t for t, w in zip(tasks, taken.tolist()) if w]
        rest = [t for t, w in zip(tasks, taken.tolist()) if not w]
        bases = bases[taken]
    if whole:
        rest = _encode_whole(state, whole, encoder, bases, gate) + rest
    for task in rest:
        _write_chunk(state, plan, task, put, direct)


def _encode_whole(state, tasks: list, encoder: BatchEncoder, bases: np.ndarray,
                  gate: executor.Gate | None = None) -> list:
    """Encode and store chunks the write covers whole (``bases``: their
    :meth:`~exzarr.array.batch_encode.BatchEncoder.bases`) in one compiled call (under
    ``gate``, not the uploads); the tasks it left out (nothing stored for them)."""
    prime()
    check_fill = not is_write_empty(state)
    store = state.store
    keys = [state.chunk_key(task.coords) for task in tasks]
    frames: list
    if store.keeps_values and fresh_bytes.available():
        # each frame is made in the bytes object the store keeps: no copy
        with gate or contextlib.nullcontext():
            frames = encoder.encode_values(tasks, check_fill=check_fill, bases=bases)
        keep = store.set
    elif (files := store.direct_writes(keys)) is not None:  # (None: not a local store)
        return _write_files(store, tasks, keys, files, encoder, check_fill, bases)
    else:
        with gate or contextlib.nullcontext():
            done = encoder.encode(list(zip(tasks, keys)), check_fill=check_fill, minimum=1,
                                  bases=bases)
        frames = [done[key] for key in keys[:len(done)]]

        def keep(k, buf) -> None:  # this thread's buffer: written or copied before returning
            store.set_parts(k, [buf])
    for key, frame in zip(keys, frames):
        with chunk_lock(store.url, key):
            if frame is None:  # all fill_value
                store.delete(key)
            else:
                keep(key, frame)
    return tasks[len(frames):]


def _write_files(store: Store, tasks: list, keys: list[str], files: DirectWrites,
                 encoder: BatchEncoder, check_fill: bool, bases: np.ndarray) -> list:
    """:func:`_encode_whole` where the compiled call writes each frame to its file (local
    files), under the chunks' locks; the tasks it did not write."""
    with chunk_locks(store.url, keys):
        try:
            written, sizes = encoder.encode_files(tasks, files.args, check_fill=check_fill,
                                                  bases=bases)
        finally:
            files.finish()
        for key, size in zip(keys, sizes):
            if size < 0:  # all fill_value
                store.delete(key)
    return tasks[written:]


def _new_chunk(state, coords=None) -> np.ndarray:
    meta = state.meta
    shape = tuple(meta.chunks)
    if coords is not None and state.chunk_extent(coords) == shape:
        return scratch(shape, meta.dtype, meta.order)  # fully overwritten, then encoded
    return allocate(shape, meta.dtype, meta.order, fill=state.fill)


def _write_chunk(state, plan: ChunkPlan, task, put,
                 direct: _BasicPutter | None = None) -> None:
    key = state.chunk_key(task.coords)
    covers = plan.covers_chunk(task, tuple(state.meta.shape))
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
