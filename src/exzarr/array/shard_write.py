"""Writes of sharded arrays: each touched shard rebuilt from its inner chunks.

Covered inner chunks are encoded from the new data, partially written ones are
read-modify-written, untouched ones keep their stored bytes; a shard the write covers
wholly is built without reading it.  A shard is one task on the worker threads (on a
high-latency store several at once, each encoding under an
:func:`~exzarr.executor.cpu_gate` while the others upload), under its chunk lock from
the read of its old bytes to the write of the new ones.

Elsewhere (local files, memory), when a write has few shards for the threads (fewer than
:data:`SPLIT_BELOW` per thread), the inner chunks of each shard it covers wholly are
encoded in pieces of :data:`PIECE_CHUNKS` (smaller ones at the end,
:func:`~exzarr.executor.tapered`), each piece a task of its own, and the thread that
finishes a shard's last piece builds and stores the shard.  With one task per shard
a write of 4 shards on 2 threads ran as long as the slower thread's two shards: on a
shared machine the threads' speeds differ by 10-30 % over a write, and one thread
waited for the other (4 shards of 64 MiB, zstd: the threads finished 50-450 ms apart).
"""

from __future__ import annotations

import threading

import numpy as np

from .. import executor
from ..metadata.chunk_grid import grid_shape
from .allocator import prime
from .scratch import allocate, scratch
from .batch_encode import BatchEncoder, batch_encoder
from .chunkstore import is_write_empty
from .fetch import io_parallelism, write_batch
from .locks import chunk_lock
from .sharded import _inner_bytes, _inside, _local, _read_index

__all__ = ["write_shards", "PIECE_CHUNKS", "SPLIT_BELOW"]

#: inner chunks per piece of a wholly covered shard encoded as a task of its own
PIECE_CHUNKS = 32
#: shards are split in pieces when a write has fewer than this many shards per thread
SPLIT_BELOW = 4


def write_shards(state, plan, put, covers, source=None) -> None:
    """Apply ``put(task, inner_chunk_array)`` to every inner-chunk task, shard by shard
    (``source``: the writer's basic putter, whose whole inner chunks may be encoded in
    batches, :mod:`exzarr.array.batch_encode`)."""
    prime()  # inner chunks are encoded here, not through chunkstore.store_chunk
    groups = list(plan.by_block(state.pipeline.chunks_per_shard))
    gate = executor.cpu_gate()
    batch = batch_encoder(state, source)
    parallel = io_parallelism(state.store, state.pipeline.spec.nbytes)
    work: list = [(None, shard, tasks) for shard, tasks in groups]
    buffers = None
    if (batch is not None and parallel is None and executor.threads() > 1
            and len(groups) < SPLIT_BELOW * executor.threads()):
        work = _split(state, groups, covers)
        buffers = _Buffers(PIECE_CHUNKS * batch.room)

    def one(item) -> None:
        pieces, shard, tasks = item
        if pieces is None:
            _write_shard(state, shard, tasks, put, covers, gate, batch)
        else:
            assert batch is not None and buffers is not None  # (pieces only when split)
            _write_piece(state, pieces, shard, tasks, put, batch, buffers)

    with write_batch(state, len(groups)):
        executor.run(one, work, parallel=parallel, store=state.store)


def _valid(state, shard) -> list[tuple[int, ...]]:
    """The local coordinates of the shard's inner chunks that lie in the array's grid."""
    p = state.pipeline
    cps = p.chunks_per_shard
    grid = grid_shape(tuple(state.meta.shape), p.inner_spec.shape)
    return [lc for lc in np.ndindex(*cps)
            if all(s * n + c < g for s, n, c, g in zip(shard, cps, lc, grid))]


def _covered(state, shard, tasks, covers) -> set[tuple[int, ...]]:
    cps = state.pipeline.chunks_per_shard
    return {_local(t.coords, shard, cps) for t in tasks if covers(t)}


class _Buffers:
    """The output buffers of a write's pieces, each reused once its shard is stored (its
    pages stay faulted in: a fresh buffer per piece cost ~10 % more CPU in page faults)."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes
        self.free: list[np.ndarray] = []
        self.lock = threading.Lock()

    def take(self) -> np.ndarray:
        with self.lock:
            if self.free:
                return self.free.pop()
        return allocate((self.nbytes,), np.dtype(np.uint8))

    def give(self, bufs: list[np.ndarray]) -> None:
        with self.lock:
            self.free.extend(bufs)


class _Pieces:
    """The encoded inner chunks of one wholly covered shard, gathered piece by piece, and
    the buffers their frames are in."""

    __slots__ = ("key", "inner", "bufs", "left", "lock")

    def __init__(self, key: str, n: int) -> None:
        self.key, self.left = key, n
        self.inner: dict[tuple[int, ...], object] = {}
        self.bufs: list[np.ndarray] = []
        self.lock = threading.Lock()

    def add(self, encoded: dict, buf: np.ndarray) -> bool:
        """Add one piece's inner chunks (frames in ``buf``); True for the last piece."""
        with self.lock:
            self.inner.update(encoded)
            self.bufs.append(buf)
            self.left -= 1
            return self.left == 0


def _split(state, groups, covers) -> list:
    """The work items of a write: the shards it covers wholly in pieces, the others
    whole."""
    whole, split = [], []
    for shard, tasks in groups:
        covered = _covered(state, shard, tasks, covers)
        if len(tasks) <= PIECE_CHUNKS or not all(lc in covered for lc in _valid(state, shard)):
            whole.append((None, shard, tasks))
        else:
            split.append((shard, tasks))
    work: list = whole  # (first: the pieces' smaller tasks balance the threads at the end)
    for k, (shard, tasks) in enumerate(split):
        pieces = (executor.tapered(tasks, PIECE_CHUNKS) if k == len(split) - 1 else
                  [tasks[j:j + PIECE_CHUNKS] for j in range(0, len(tasks), PIECE_CHUNKS)])
        gathered = _Pieces(state.chunk_key(shard), len(pieces))
        work.extend((gathered, shard, piece) for piece in pieces)
    return work


def _write_piece(state, pieces: _Pieces, shard, tasks, put, batch: BatchEncoder,
                 buffers: _Buffers) -> None:
    """Encode one piece of a wholly covered shard (into a buffer of the write's: the
    frames stay until the shard is stored); the last piece's thread stores the shard."""
    covered = _covered(state, shard, tasks, lambda t: True)
    buf = buffers.take()
    try:
        encoded = _encode(state, shard, tasks, covered, {}, put, batch, out=buf)
    except BaseException:
        buffers.give([buf])
        raise
    if pieces.add(encoded, buf):
        parts = _parts(state, pieces.inner)
        with chunk_lock(state.store.url, pieces.key):
            _store(state, pieces.key, parts)
        del parts
        pieces.inner.clear()
        buffers.give(pieces.bufs)


def _write_shard(state, shard, tasks, put, covers, gate, batch=None) -> None:
    key = state.chunk_key(shard)
    valid = _valid(state, shard)
    with chunk_lock(state.store.url, key):
        covered = _covered(state, shard, tasks, covers)
        existing: dict = {}
        if not all(lc in covered for lc in valid):
            raw = state.store.get(key)
            if raw is not None:
                index, whole = _read_index(state, key, raw)
                existing = _inner_bytes(state, key, index, whole, valid)
        with gate:  # (the upload waits outside it)
            inner = dict(existing)
            inner.update(_encode(state, shard, tasks, covered, existing, put, batch))
            parts = _parts(state, inner)
        _store(state, key, parts)


def _encode(state, shard, tasks, covered, existing, put, batch, out=None) -> dict:
    """The encoded inner chunks of ``tasks`` (local coordinates -> frame, None for one
    all fill_value): covered ones inside the array in compiled batches where ``batch``
    takes them, every other one put into its chunk (decoded from ``existing`` when not
    covered) and encoded alone."""
    p = state.pipeline
    cps = p.chunks_per_shard
    spec = p.inner_spec
    shape = tuple(state.meta.shape)
    inner: dict = {}
    each = tasks
    if batch is not None:  # covered inner chunks inside the array, taken whole
        picked = [(t, lc, at) for t, at in zip(tasks, batch.bases(tasks).tolist())
                  if at >= 0 and (lc := _local(t.coords, shard, cps)) in covered
                  and _inside(t.coords, spec.shape, shape)]
        inner.update(batch.encode([(t, lc) for t, lc, _ in picked], out=out,
                                  bases=np.array([at for *_, at in picked], dtype=np.int64)))
        each = [t for t in tasks if _local(t.coords, shard, cps) not in inner]
    for t in each:
        lc = _local(t.coords, shard, cps)
        if lc in covered:
            # an inner chunk inside the array is overwritten whole: this thread's scratch
            # (encoded before the next one is put); at the array's edge the part outside
            # it keeps fill_value
            chunk = scratch(spec.shape, spec.dtype) if _inside(t.coords, spec.shape, shape) \
                else np.full(spec.shape, spec.fill_value, dtype=spec.dtype)
        else:
            chunk = p.decode_inner_chunk(existing.get(lc), lc, store=state.store,
                                         key=state.chunk_key(shard))
        put(t, chunk)
        inner[lc] = p.encode_inner_chunk(chunk)
    return inner


def _parts(state, inner: dict) -> list | None:
    """The parts of a shard of these inner chunks (None: all fill_value), or None when
    every inner chunk is fill_value and empty chunks are not written."""
    inner = {k: v for k, v in inner.items() if v is not None}
    if not inner and not is_write_empty(state):
        return None
    return state.pipeline.encode_shard_parts(inner)


def _store(state, key: str, parts: list | None) -> None:
    """Store shard ``key`` (``parts`` None: delete it).  The caller holds its lock."""
    state.shard_indexes.discard(key)  # (a kept index would fail its check: save a request)
    if parts is None:  # every inner chunk is fill_value
        state.store.delete(key)
        return
    state.store.set_parts(key, parts)
