"""Blocking client calls of one batch, run side by side on a process-wide pool of I/O
threads.

A batched read or write of an object store (:class:`~exzarr.storage.obstore_store.
ObstoreStore`) is many independent requests, each one blocking call into a client that
waits on the network without the GIL.  :func:`run_all` runs them with at most ``limit``
in flight: ``limit - 1`` pool threads and the caller each take the next call of the batch
until none is left, so a batch costs one task per thread, not one future per request, and
no event loop: measured against moto with 64 KiB objects, ~0.9 ms of client CPU per GET
this way, against ~1.2 ms through obstore's async calls on an event-loop thread (two
hand-overs between threads per request, and a coroutine, a semaphore and a future each).

The pool's threads are made on demand, up to :data:`MAX_THREADS` (batches running at the
same time share them; a batch whose helpers have not started when the caller has done
every call withdraws them), and live as long as the process.  A child made by
``os.fork`` starts without a pool and makes its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["run_all", "MAX_THREADS"]

T = TypeVar("T")

#: the most I/O threads in a process (together for every batch running at a time)
MAX_THREADS = 64

_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """This process's pool (made on first use; a new one after a fork)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(MAX_THREADS, thread_name_prefix="exzarr-io"))
        return _pool[1]


def run_all(calls: Sequence[Callable[[], T]], limit: int) -> list[T | Exception]:
    """Every call's result, in order, or the exception it raised (returned, not raised:
    the caller judges each failure); at most ``limit`` (>= 1) calls at a time, the
    caller's thread running some of them."""
    n = len(calls)
    out: list[T | Exception] = [None] * n  # type: ignore[list-item]  # all set below
    taken = iter(range(n))
    take = threading.Lock()

    def drain() -> None:
        while True:
            with take:
                i = next(taken, None)
            if i is None:
                return
            try:
                out[i] = calls[i]()
            except Exception as exc:  # noqa: BLE001 - returned to the caller, who judges it
                out[i] = exc

    helpers = min(max(1, limit), n) - 1
    if helpers > 0:
        pool = _executor()
        futures = [pool.submit(drain) for _ in range(helpers)]
        drain()
        for f in futures:
            if not f.cancel():  # (a helper that never started has nothing to do)
                f.result()
    else:
        drain()
    return out
