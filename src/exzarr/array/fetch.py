"""Fetch the stored chunks of a plan and hand each to a callback, in parallel.

Stores that batch (``get_many`` overridden, e.g. remote object stores) get many keys per
round trip, the next batch in flight while this one decodes (at most two batches of raw
chunks in memory); other stores are read one key per task on the worker threads so fetch
and decode overlap.  One chunk runs inline with no thread hop.
"""

from __future__ import annotations

import contextlib
from typing import Callable

from .. import config as _config
from .. import executor
from ..storage.base import Store

__all__ = ["fetch_chunks", "is_batched", "io_parallelism", "write_batch"]

#: chunk/shard writes (and shard reads) in flight on a high-latency (remote) store: each
#: is mostly waiting on the network, so more than the CPU threads keep the connection pool
#: busy; it also bounds the raw shards a read holds at once
REMOTE_WRITES_IN_FLIGHT = 8
#: a write of this many chunk (or shard) values or more runs as one store write batch
#: (:meth:`~exzarr.storage.Store.write_batch`); fewer would not repay its set-up
BATCH_WRITES_FROM = 8


def is_batched(store) -> bool:
    return type(store).get_many is not Store.get_many


def io_parallelism(store) -> int | None:
    """How many chunk (or shard) writes, or shard reads, to run at once: ``None`` (the
    configured threads) for local stores, at least :data:`REMOTE_WRITES_IN_FLIGHT` for
    high-latency ones (whose tasks hold an :func:`executor.cpu_gate` while they compute)."""
    if not getattr(store, "high_latency", False) or store.serial_now():
        return None
    return max(executor.threads(), REMOTE_WRITES_IN_FLIGHT)



def write_batch(state, nvalues: int) -> contextlib.AbstractContextManager[None]:
    """The store's write batch (under the array's path) around a write of ``nvalues``
    chunks or shards from :data:`BATCH_WRITES_FROM` on, else a context that does
    nothing."""
    if nvalues < BATCH_WRITES_FROM:
        return contextlib.nullcontext()
    return state.store.write_batch(state.path)


def fetch_chunks(state, plan, on_chunk: Callable) -> None:
    """Call ``on_chunk(task, raw_or_None, key)`` for every task of ``plan``."""
    store = state.store
    tasks = list(plan)
    if len(tasks) == 1:
        key = state.chunk_key(tasks[0].coords)
        on_chunk(tasks[0], store.get(key), key)
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
