"""Reads of sharded arrays at inner-chunk granularity (and what shard writes share).

The plan is made over the *inner* chunk grid and its tasks grouped by shard.  A read
fetches, per shard, the index (one ranged read) and then only the inner chunks it needs
(coalesced byte ranges) — or the whole shard in one request when most of it is needed.
Through a store with tagged reads (obstore) the index is kept with the shard's ETag and
later reads of that shard are one request conditional on it (:func:`_ranged_spans`).
Writes are in :mod:`exzarr.array.shard_write`.

On a high-latency store (object stores) several shards are read at once
(:func:`~exzarr.array.fetch.io_parallelism`, which also bounds the raw shards held in
memory, give or take a shard per CPU thread still decoding); each task queues its
shard's inner chunks in runs and then runs queued runs of any shard under an
:func:`~exzarr.executor.cpu_gate`, so the CPU threads work while the other shards' requests
are in flight, and a shard that arrives last is decoded by every thread still at work
(taking turns in one process against moto: 0.92 of the time of each task decoding its own
shard alone).  From local files whose inner chunks compiled code decodes whole, the threads'
compiled calls read and decode the ranges themselves (:mod:`exzarr.array.shard_files`).
Elsewhere (other local files, memory) every coalesced range of every shard is
one task on the worker threads (read, then decode its inner chunks): no pause between
shards, and the encoded bytes held beside the output are one bounded range per thread.
The caller plans the shards one by one and reads their indexes while the threads already
decode the first shard's ranges (:func:`~exzarr.executor.run_fed`).  A store whose ranged
reads cost whole reads (a zip of compressed members) has each shard read once, whole, the
next one while this one decodes.
"""

from __future__ import annotations

import itertools
from collections import deque
from operator import floordiv, mul, sub

import numpy as np

from .. import executor
from ..codecs.byte_ranges import CoalescedRange, fetched_bytes
from ..codecs.sharding import MISSING, inner_chunk_label
from ..errors import DecompressionError, where
from .fetch import io_parallelism
from .scratch import byte_scratch

__all__ = ["fetch_inner_chunks", "each_part", "inner_chunk_bytes", "ShardParts"]

#: fetch the whole shard when at least this fraction of its inner chunks is needed
WHOLE_SHARD_FRACTION = 0.5


def _local(coords, shard, cps) -> tuple[int, ...]:
    """An inner chunk's coordinates inside its shard (``map``: ~1.0 against ~1.6 us for
    a generator, paid per inner chunk before a read's threads start)."""
    return tuple(map(sub, coords, map(mul, shard, cps)))


def _inside(coords, chunk, shape) -> bool:
    """Whether the (inner) chunk at ``coords`` lies wholly inside an array of ``shape``."""
    return all((c + 1) * n <= g for c, n, g in zip(coords, chunk, shape))


def _n_inner(cps) -> int:
    return int(np.prod(cps, dtype=np.int64))


def _read_index(state, key, raw_shard=None):
    """(index, whole-shard bytes or None) for shard ``key``; (None, None) if missing."""
    p = state.pipeline
    if raw_shard is not None:
        n = p.index_nbytes
        mv = memoryview(raw_shard)
        if mv.nbytes < n:
            raise DecompressionError(f"shard at {where(state.store, key)} is {mv.nbytes} bytes, "
                                     f"smaller than its {n}-byte index: the shard is truncated",
                                     store=state.store, key=key)
        rng = p.index_byte_range()
        raw_index = mv[mv.nbytes - n:] if rng[0] < 0 else mv[:n]
        return p.decode_index(raw_index, store=state.store, key=key, shard_nbytes=mv.nbytes), mv
    raw_index = state.store.get(key, p.index_byte_range())
    if raw_index is None:
        return None, None
    return p.decode_index(raw_index, store=state.store, key=key), None


def _inner_spans(state, key, index, whole, locals_: list[tuple]) -> list[tuple[memoryview, list]]:
    """The given inner chunks' encoded bytes as ``[(buffer, [(coords, start, stop)])]``:
    spans of ``whole`` (the shard, already read) or of the coalesced ranges fetched now.
    Empty inner chunks are in no span."""
    p = state.pipeline
    if whole is not None:
        spans = []
        for lc, (off, n) in zip(locals_, p.inner_entries(index, locals_)):
            if off != MISSING:
                if off + n > whole.nbytes:
                    raise DecompressionError(f"inner chunk {lc} of the shard at "
                                             f"{where(state.store, key)} lies past its end; the "
                                             f"shard is truncated", store=state.store, key=key)
                spans.append((lc, off, off + n))
        return [(whole, spans)] if spans else []
    ranges, _ = p.plan_inner_reads(index, locals_)
    if not ranges:
        return []
    if len(ranges) == 1:  # (one inner chunk, or one run of them: a plain ranged read)
        values = [state.store.get(key, ranges[0].byte_range)]
    else:
        values = state.store.get_ranges([(key, r.byte_range) for r in ranges])
    return _fetched_spans(state, key, ranges, values)


def _fetched_spans(state, key, ranges, values) -> list[tuple[memoryview, list]]:
    """``[(buffer, parts)]`` of coalesced ``ranges`` of shard ``key`` and the ``values``
    fetched for them (each checked to hold its whole range)."""
    return [(_checked(state, key, r, v), list(r.parts)) for r, v in zip(ranges, values)]


#: reads of one shard under a cached index before it is read without one (a shard that
#: changes between every index read and the read of its inner chunks)
TAGGED_ATTEMPTS = 3


def _ranged_spans(state, key, locals_: list[tuple]) -> list[tuple[memoryview, list]]:
    """:func:`_inner_spans` of the given inner chunks, read by ranges.  Through a store with
    tagged reads, the shard's index is kept (``state.shard_indexes``) with the shard's
    version, and the inner chunks are read only while the shard is still that version: one
    request where the index is cached, and index and inner chunks always of one version."""
    store = state.store
    if store.supports_tagged_reads:
        p = state.pipeline
        cache = state.shard_indexes
        for _ in range(TAGGED_ATTEMPTS):
            hit = cache.get(key)
            if hit is None:
                raw, tag = store.get_tagged(key, p.index_byte_range())
                if raw is None:
                    return []
                index = p.decode_index(raw, store=store, key=key)
                if tag is None:
                    return _inner_spans(state, key, index, None, locals_)
                cache.put(key, index, tag)
            else:
                index, tag = hit
            ranges, _ = p.plan_inner_reads(index, locals_)
            if not ranges:
                if hit is None:
                    return []  # empty inner chunks, by an index just read
                cache.discard(key, tag)  # a kept index cannot vouch for them: read it again
                continue
            values = store.get_ranges_tagged(key, [r.byte_range for r in ranges], tag)
            if values is not None:
                return _fetched_spans(state, key, ranges, values)
            cache.discard(key, tag)  # the shard changed (or went) since its index was read
    index, _ = _read_index(state, key)
    return [] if index is None else _inner_spans(state, key, index, None, locals_)


def _inner_bytes(state, key, index, whole, locals_: list[tuple]) -> dict[tuple, object]:
    """Encoded bytes of the given inner chunks (absent = empty inner chunk)."""
    return {lc: buf[a:b] for buf, spans in _inner_spans(state, key, index, whole, locals_)
            for lc, a, b in spans}


def _checked(state, key: str, rng, value) -> memoryview:
    """``value``, fetched for the coalesced range ``rng``, as bytes (it must hold it all)."""
    if value is None:
        raise DecompressionError(f"the shard at {where(state.store, key)} disappeared while "
                                 f"being read; retry the read", store=state.store, key=key)
    try:
        return fetched_bytes(rng, value)
    except ValueError as e:
        raise DecompressionError(f"short read from the shard at {where(state.store, key)}: "
                                 f"{e}; the shard is truncated", store=state.store, key=key) from None


def each_part(on_chunk):
    """``many(buffer, parts)`` made of one ``on_chunk(task, buffer[start:stop], label)``
    call per part ``(task, start, stop, label)``."""
    def many(buf, parts) -> None:
        for task, start, stop, label in parts:
            on_chunk(task, buf[start:stop], label)
    return many


def _reads_whole(state, wanted: int) -> bool:
    """Whether a read of ``wanted`` inner chunks of a shard reads the shard whole: the store
    has no ranged reads, or most of its inner chunks are wanted."""
    return (not state.store.supports_byte_ranges
            or wanted >= WHOLE_SHARD_FRACTION * _n_inner(state.pipeline.chunks_per_shard))


def _whole_shard(state, key) -> tuple:
    """(index, the shard's bytes) of shard ``key`` read whole ((None, None): missing); its
    index is then kept for later ranged reads, through a store with versions."""
    raw, tag = state.store.get_buffer_tagged(key)  # tag: None without versions
    index, whole = _read_index(state, key, raw) if raw is not None else (None, None)
    if index is not None and tag is not None:  # later ranged reads: one request
        state.shard_indexes.put(key, index, tag)
    return index, whole


def _shard_spans(state, key, locals_: list[tuple]) -> list[tuple[memoryview, list]]:
    """:func:`_inner_spans` of the given inner chunks of shard ``key``: the whole shard read
    when :func:`_reads_whole`, else by ranges."""
    if _reads_whole(state, len(locals_)):
        index, whole = _whole_shard(state, key)
        return [] if index is None else _inner_spans(state, key, index, whole, locals_)
    return _ranged_spans(state, key, locals_)


class ShardParts:
    """The inner chunks a read takes from one buffer (a whole shard), as arrays: the
    tasks, their plan indices ``at`` and the ``starts``/``stops`` of their bytes in the
    buffer.  It is also the sequence of ``(task, start, stop, label)`` parts that
    ``many`` handlers take (:func:`each_part`), with each label (for messages) made only
    when a part is taken out: a whole-shard read of 64 inner chunks makes no strings.
    Slices are ShardParts."""

    __slots__ = ("tasks", "at", "starts", "stops", "key", "local")

    def __init__(self, tasks: list, at: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                 key: str, local: np.ndarray) -> None:
        self.tasks, self.at, self.starts, self.stops = tasks, at, starts, stops
        self.key, self.local = key, local  # (``local``: each one's coordinates in the shard)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return ShardParts(self.tasks[k], self.at[k], self.starts[k], self.stops[k],
                              self.key, self.local[k])
        return (self.tasks[k], int(self.starts[k]), int(self.stops[k]),
                inner_chunk_label(self.key, self.local[k].tolist()))

    def __iter__(self):
        return (self[k] for k in range(len(self.tasks)))


def _shard_parts(state, key, shard, tasks: list, index, whole) -> tuple[list, ShardParts]:
    """``(empty, parts)`` of ``tasks`` (inner chunks of ``shard`` in plan order) in the
    shard's bytes ``whole`` by its ``index`` (decoded with the shard's size, so every entry
    lies inside it: :func:`_read_index`), found in array operations: the empty ones as
    ``(task, label)``, the others as :class:`ShardParts` (in the tasks' order)."""
    cps = state.pipeline.chunks_per_shard
    n, m = len(tasks), len(cps)
    coords = np.fromiter(itertools.chain.from_iterable(t.coords for t in tasks),
                         dtype=np.int64, count=n * m).reshape(n, m)
    local = coords - np.multiply(shard, cps, dtype=np.int64)
    flat = np.ravel_multi_index(tuple(local.T), cps) if m else np.zeros(n, dtype=np.intp)
    entries = index.reshape(-1, 2)[flat]
    offsets, sizes = entries[:, 0], entries[:, 1]  # (inside ``whole``: checked with the index)
    present = offsets != MISSING
    at = np.fromiter((t.index for t in tasks), dtype=np.int64, count=n)
    if present.all():
        empty: list = []
    else:
        empty = [(tasks[i], inner_chunk_label(key, local[i].tolist()))
                 for i in np.flatnonzero(~present).tolist()]
        keep = np.flatnonzero(present)
        tasks = [tasks[i] for i in keep.tolist()]
        at, local, offsets, sizes = at[keep], local[keep], offsets[keep], sizes[keep]
    starts = offsets.astype(np.int64)
    return empty, ShardParts(tasks, at, starts, starts + sizes.astype(np.int64), key, local)


def inner_chunk_bytes(state, coords: tuple[int, ...]) -> tuple[memoryview | None, str]:
    """One inner chunk's encoded bytes (None: an empty inner chunk or a missing shard),
    read as :func:`fetch_inner_chunks` reads it, and its label for messages."""
    cps = state.pipeline.chunks_per_shard
    shard = tuple(map(floordiv, coords, cps))
    key = state.chunk_key(shard)
    lc = _local(coords, shard, cps)
    label = inner_chunk_label(key, lc)
    for buf, parts in _shard_spans(state, key, [lc]):
        for _, a, b in parts:
            return buf[a:b], label
    return None, label


def fetch_inner_chunks(state, plan, on_chunk, many=None) -> None:
    """Call ``on_chunk(task, raw_inner_or_None, label)`` for every inner-chunk task, or
    ``many(buffer, [(task, start, stop, label)])`` for those cut from one fetched buffer
    (a memoryview of bytes) when ``many`` is given."""
    p = state.pipeline
    cps = p.chunks_per_shard
    many = many or each_part(on_chunk)
    in_flight = io_parallelism(state.store, p.spec.nbytes)
    if in_flight is None and state.store.supports_byte_ranges:
        _read_ranges(state, plan.by_block(cps), on_chunk, many)
        return

    def fetch(item):
        """(key, the empty inner chunks' (task, label), [(buffer, parts)]) of one shard."""
        shard, tasks = item
        key = state.chunk_key(shard)
        if _reads_whole(state, len(tasks)):
            index, whole = _whole_shard(state, key)
            if index is None:  # a missing shard: fill_value
                return key, [(t, inner_chunk_label(key, _local(t.coords, shard, cps)))
                             for t in tasks], []
            empty, parts = _shard_parts(state, key, shard, tasks, index, whole)
            return key, empty, [(whole, parts)] if len(parts) else []
        labelled = {_local(t.coords, shard, cps): t for t in tasks}
        batches = []
        for buf, found in _ranged_spans(state, key, list(labelled)):
            batch = []
            for lc, a, b in found:
                batch.append((labelled.pop(lc), a, b, inner_chunk_label(key, lc)))
            batches.append((buf, batch))
        empty = [(t, inner_chunk_label(key, lc)) for lc, t in labelled.items()]
        return key, empty, batches

    def deliver(fetched, ways: int = 1) -> list:
        """The calls that hand one shard's inner chunks over, each buffer's parts cut in
        ``ways`` runs (to share them among as many threads)."""
        _, empty, batches = fetched
        calls = [lambda t=t, label=label: on_chunk(t, None, label) for t, label in empty]
        for buf, parts in batches:
            step = max(1, -(-len(parts) // ways))
            calls.extend(lambda b=buf, run=parts[i:i + step]: many(b, run)
                         for i in range(0, len(parts), step))
        return calls

    items = list(plan.by_block(cps))
    if in_flight is None or len(items) == 1:
        # stores whose ranged reads cost whole reads (each shard read whole, the next while
        # this one decodes on all threads), or one shard of a remote store (inline)
        for fetched in executor.prefetch(fetch, items, ahead=1, store=state.store):
            executor.run(lambda call: call(), deliver(fetched, executor.threads()),
                         store=state.store)
            del fetched  # released before the next shard is awaited
    else:
        # each task fetches a shard, queues its inner chunks in runs and then, holding the
        # CPU gate, runs queued runs of any shard until none are left: the last shards to
        # arrive are decoded by every thread still at work, not one thread each
        gate = executor.cpu_gate()
        queued: deque = deque()
        ways = 2 * executor.threads()

        def fetch_decode(item):
            queued.extend(deliver(fetch(item), ways))
            while True:
                with gate:
                    try:
                        call = queued.popleft()
                    except IndexError:
                        return
                    call()
        # after the first error no more shards are requested (as for chunk reads)
        executor.run(fetch_decode, items, parallel=in_flight, store=state.store,
                     stop_on_error=True)


#: on a local store, inner chunks are read in coalesced ranges of at most this many bytes,
#: each range one task: the ranges of every shard share the worker threads (no pause
#: between shards) and the encoded bytes held beside the output stay ``threads`` ranges
RANGE_TASK_BYTES = 2 << 20


def longest_job(inner_nbytes: int) -> int:
    """The most bytes of a shard read into a thread's buffer at once: a coalesced range
    (:data:`RANGE_TASK_BYTES`) or one inner chunk of ``inner_nbytes`` whose frame grew in
    compression, with room to spare.  A range an index claims is longer (hostile, or
    damaged) is read through :meth:`~exzarr.storage.Store.get`, which reads only what the
    file holds (the shard is then found truncated), not into a buffer of that size."""
    return max(RANGE_TASK_BYTES, inner_nbytes + inner_nbytes // 2 + (64 << 10))


#: ... but the last ``TAIL_CHUNKS x threads`` inner chunks of such a read are read one per
#: task, so that the threads finish together instead of one waiting for the other's last
#: range (a range of a region's row of inner chunks is several of them), when an inner
#: chunk holds ``TAIL_MIN_BYTES`` or more (decoding it costs more than a task)
TAIL_CHUNKS = 2
TAIL_MIN_BYTES = 64 << 10


def _tail_start(found: list[CoalescedRange], n: int) -> int:
    """Where the ranges begin that hold the last ``n`` or more parts of ``found``."""
    cut, parts = len(found), 0
    while cut and parts < n:
        cut -= 1
        parts += len(found[cut].parts)
    return cut


def _split_tail(found: list[CoalescedRange], n: int) -> list[CoalescedRange]:
    """``found`` with its last ``n`` parts (inner chunks) in ranges of one part each, in
    the same order (a range they start inside keeps its first parts)."""
    head = list(found)
    singles: list[CoalescedRange] = []
    while head and len(singles) < n:
        r = head.pop()
        keep = max(0, len(r.parts) - (n - len(singles)))
        start = r.byte_range[0]
        singles[:0] = [CoalescedRange((start + a, start + b), ((tag, 0, b - a),))
                       for tag, a, b in r.parts[keep:]]
        if keep:
            head.append(CoalescedRange(
                (start, start + max(b for _, _, b in r.parts[:keep])), r.parts[:keep]))
    return head + singles


def _read_ranges(state, items, on_chunk, many) -> None:
    """Read the inner chunks of low-latency stores: each shard's index (in order, one
    small read each), then every coalesced range of that shard as one task that reads its
    bytes and decodes its inner chunks.  ``items``, ``(shard, tasks)``, may be made as they
    are taken (:meth:`~exzarr.indexing.plan.ChunkPlan.by_block`): the threads start on the
    first shard's ranges while the next shards are planned and their indexes read
    (:func:`~exzarr.executor.run_fed`).  The last shard's last inner chunks are read one
    per task (:data:`TAIL_CHUNKS`)."""
    p = state.pipeline
    cps = p.chunks_per_shard
    tail = TAIL_CHUNKS * executor.threads() if p.inner_spec.nbytes >= TAIL_MIN_BYTES else 0

    def ranges():
        blocks = iter(items)
        block = next(blocks, None)
        while block is not None:
            shard, group = block
            # (the labels for messages are made by the workers, not here)
            key = state.chunk_key(shard)
            tasks_at = {_local(t.coords, shard, cps): t for t in group}
            index, _ = _read_index(state, key)
            if index is None:
                block = next(blocks, None)
                yield key, None, tasks_at
                continue
            found, missing = p.plan_inner_reads(index, list(tasks_at), max_size=RANGE_TASK_BYTES)
            if missing:
                yield key, None, {lc: tasks_at[lc] for lc in missing}
            cut = _tail_start(found, tail)
            for r in found[:cut]:
                yield key, r, tasks_at
            block = next(blocks, None)  # (the next shard's tasks: made here, when needed)
            last = found[cut:] if block is not None else _split_tail(found[cut:], tail)
            for r in last:
                yield key, r, tasks_at

    store = state.store
    into = store.reads_into
    most = longest_job(p.inner_spec.nbytes)

    def one(item) -> None:
        key, rng, tasks_at = item
        if rng is None:  # empty inner chunks (or a missing shard): fill_value
            for lc, t in tasks_at.items():
                on_chunk(t, None, inner_chunk_label(key, lc))
            return
        if into and rng.nbytes <= most:  # into this thread's buffer, decoded before the next
            start = rng.byte_range[0]
            out = byte_scratch(rng.nbytes)
            got = store.read_into(key, start, out)
            value = None if got is None else out[:got]
        else:
            value = store.get(key, rng.byte_range)
        buf = _checked(state, key, rng, value)
        many(buf, [(tasks_at[lc], a, b, inner_chunk_label(key, lc)) for lc, a, b in rng.parts])

    executor.run_fed(one, ranges(), store=state.store)
