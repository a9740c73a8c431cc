"""Fetch the stored chunks of a plan and hand each to a callback, in parallel.

High-latency stores that many threads read best at once (``threaded_gets``, e.g. S3
through obstore) are read one key per task, many requests in flight, each chunk decoded
on the thread that received it as soon as it arrives; other stores that batch
(``get_many`` overridden, e.g. fsspec's object stores, SQLite) get many keys per round
trip, the next batch in flight while this one decodes (at most two batches of raw chunks
in memory); other stores are read one key per task on the worker threads so fetch and
decode overlap.  One chunk runs inline with no thread hop.
"""

from __future__ import annotations

import contextlib
from typing import Callable

from .. import config as _config
from .. import executor
from ..storage.base import Store

__all__ = ["fetch_chunks", "is_batched", "io_parallelism", "whole_reader", "write_batch",
           "waits_long", "REMOTE_BYTES_IN_FLIGHT"]

#: the most bytes of chunk (or shard) values a write or a sharded read keeps in flight on
#: a high-latency store (each task holds one chunk group or shard): with large chunks
#: fewer requests run at once than the store would take, so memory stays bounded
REMOTE_BYTES_IN_FLIGHT = 128 << 20
#: a write of this many chunk (or shard) values or more runs as one store write batch
#: (:meth:`~exzarr.storage.Store.write_batch`); fewer would not repay its set-up
BATCH_WRITES_FROM = 8


def is_batched(store) -> bool:
    return type(store).get_many is not Store.get_many


def io_parallelism(store, item_bytes: int | None = None) -> int | None:
    """How many chunk (or shard) writes, or shard reads, to run at once: ``None`` (the
    configured threads) for local stores; for high-latency ones as many as the store
    keeps requests in flight (:attr:`~exzarr.storage.Store.requests_in_flight`, e.g. an
    object store's ``concurrency``), fewer where that many items of ``item_bytes`` would
    hold more than :data:`REMOTE_BYTES_IN_FLIGHT`, never fewer than the threads (tasks hold
    an :func:`executor.cpu_gate` while they compute, so the CPU work runs on the configured
    threads while the other tasks' requests are in flight)."""
    if not getattr(store, "high_latency", False) or store.serial_now():
        return None
    n = max(1, int(getattr(store, "requests_in_flight", 1)))
    if item_bytes:
        n = min(n, max(1, REMOTE_BYTES_IN_FLIGHT // int(item_bytes)))
    return max(executor.threads(), n)


def write_batch(state, nvalues: int) -> contextlib.AbstractContextManager[None]:
    """The store's write batch (under the array's path) around a write of ``nvalues``
    chunks or shards from :data:`BATCH_WRITES_FROM` on, else a context that does
    nothing."""
    if nvalues < BATCH_WRITES_FROM:
        return contextlib.nullcontext()
    return state.store.write_batch(state.path)


def reads_per_key(store) -> bool:
    """Whether the store waits on the network and takes many single-key reads at once
    from threads (:attr:`~exzarr.storage.Store.threaded_gets`, e.g. obstore's)."""
    return bool(getattr(store, "high_latency", False)
                and getattr(store, "threaded_gets", False))


def whole_reader(store) -> Callable:
    """What reads a whole chunk of ``store``: its ``get_buffer`` where it is read by threads
    (:func:`reads_per_key`: obstore's hands out the view of its own buffer, where ``get``
    copies it into ``bytes``), else its ``get``."""
    return store.get_buffer if reads_per_key(store) else store.get


def waits_long(state, plan) -> bool:
    """Whether a read of ``plan`` (over chunks, or a sharded array's inner chunks) asks a
    high-latency store in several rounds: more chunks (or shards) than the read keeps in
    flight (:func:`io_parallelism`), so it takes several round trips, and an output made
    for it is worth mapping at once (:func:`~exzarr.array.allocator.populate`)."""
    p = state.pipeline
    in_flight = io_parallelism(state.store, p.spec.nbytes)
    if in_flight is None:
        return False
    n = plan.nblocks(p.chunks_per_shard) if p.supports_partial_decode else plan.nchunks
    return n > in_flight


def fetch_chunks(state, plan, on_chunk: Callable) -> None:
    """Call ``on_chunk(task, raw_or_None, key)`` for every task of ``plan``."""
    store = state.store
    tasks = list(plan)
    if len(tasks) == 1:
        key = state.chunk_key(tasks[0].coords)
        on_chunk(tasks[0], whole_reader(store)(key), key)
        return
    if reads_per_key(store):
        # each of ``limit`` tasks reads one chunk and decodes it on its own thread as soon
        # as it arrives (under the CPU gate: ``threads`` decode at once while the other
        # requests are in flight): one slow request holds up only its task, where a batch
        # waits for its slowest one, and no chunk is handed between threads (a stream to
        # the workers took ~50 % more thread switches and ~10 % more CPU per chunk); the
        # raw chunks held: one per task, fewer tasks for large chunks
        limit = io_parallelism(store, state.pipeline.spec.nbytes)
        by_key: dict[str, list] = {}
        for t in tasks:
            by_key.setdefault(state.chunk_key(t.coords), []).append(t)
        gate = executor.cpu_gate()
        get = whole_reader(store)

        def fetch_decode(key: str) -> None:
            raw = get(key)
            with gate:
                for t in by_key[key]:
                    on_chunk(t, raw, key)
        # after the first error no request is started
        executor.run(fetch_decode, list(by_key), parallel=limit, store=store,
                     stop_on_error=True)
        return
    if is_batched(store):
        size = max(1, _config.get().batch_size)

        def get(batch: list) -> tuple[list, dict]:
            keys = [state.chunk_key(t.coords) for t in batch]
            return list(zip(batch, keys)), store.get_many(keys)

        batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        for items, values in executor.prefetch(get, batches, ahead=1, store=store):
            executor.run(lambda tk: on_chunk(tk[0], values.get(tk[1]), tk[1]), items,
                         store=store)
            del items, values  # not held while the next batches download
        return

    def one(task):
        key = state.chunk_key(task.coords)
        on_chunk(task, store.get(key), key)

    executor.run(one, tasks, store=store)
