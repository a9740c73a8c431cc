"""The one place that owns threads.

Every multi-chunk read or write goes through :func:`run` (side effects, all tasks)
or :func:`imap` (results as they complete, at most ``max_inflight`` tasks in flight so
memory stays bounded).  One task, or ``threads == 1``, runs inline on the caller's
thread with no thread hop.  Tasks run with the caller's ``exzarr.config`` settings.  A
store that must stay on the caller's thread right now (``store.serial_now()``, e.g. a
SQLite store inside a transaction) makes everything run inline.  Tasks must not submit
work to the executor themselves (nested calls run inline).  A :func:`prefetch` task may
call :func:`run`/:func:`imap` (they use the worker threads); a :func:`prefetch` nested in
a prefetch task runs inline, so the I/O threads never wait on each other.  Work that runs
with more tasks than CPU threads (uploads or downloads to a high-latency store) holds a
:func:`cpu_gate` around its CPU-bound part, so the CPU threads stay busy while the other
tasks wait on the network; such wide runs have a pool of their own, so the CPU pool's
few threads (each with its own scratch buffers) do the CPU-bound runs.

The pools are fork-safe: a child process created by ``os.fork`` (e.g. a PyTorch
``DataLoader`` worker) starts with no pools and creates its own on first use.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Generator, Iterable, Iterator, TypeVar

from . import config as _config
from .storage.base import Store

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["run", "run_fed", "imap", "prefetch", "threads", "cpu_gate", "Gate",
           "tapered"]

#: the worker pools: "cpu" for runs of up to :func:`threads` tasks, "wide" for runs with
#: more tasks than threads (each mostly waiting on a high-latency store): (pool, size)
_pools: dict[str, tuple[ThreadPoolExecutor, int]] = {}
_pool_lock = threading.Lock()
_worker = threading.local()


def threads() -> int:
    return max(1, int(_config.get().threads))


class Gate:
    """``with gate: ...`` lets at most ``n`` holders through at once: a semaphore whose
    waits and hand-overs happen in C (``queue.SimpleQueue`` of ``n`` tokens), where
    ``threading.Semaphore`` runs a Python condition variable for every acquire and release
    (1.9 against 0.3 us a pass with no one waiting; it is taken once per chunk of a
    remote read or write, by dozens of threads at once)."""

    __slots__ = ("_tokens", "_n")

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"a gate needs at least one holder, not {n}")
        self._n = n
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(n):
            self._tokens.put(None)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Take a place (waiting, unless not ``blocking``, at most ``timeout`` seconds):
        whether one was taken."""
        try:
            self._tokens.get(blocking, timeout)
        except queue.Empty:
            return False
        return True

    def release(self) -> None:
        """Give a place back (one taken with :meth:`acquire`)."""
        if self._tokens.qsize() >= self._n:
            raise ValueError(f"a gate of {self._n} released more often than taken")
        self._tokens.put(None)

    def __enter__(self) -> None:
        self._tokens.get()

    def __exit__(self, *exc: object) -> None:
        self._tokens.put(None)


def cpu_gate() -> Gate:
    """A gate (``with gate: ...``) that lets at most :func:`threads` holders through at
    once.  Tasks of one :func:`run` with more parallelism than threads (each mostly waiting
    on a request) hold it around their encoding or decoding: the CPU work runs on as many
    threads as configured, in full, while the other tasks' requests are in flight, instead
    of every task's CPU work sharing the cores at once and all requests waiting for it."""
    return Gate(threads())


def _get_pool(n: int) -> ThreadPoolExecutor:
    """A pool of at least ``n`` worker threads.  Runs of more tasks than :func:`threads`
    get a wide pool of their own, so CPU-bound runs keep landing on the few threads of the
    CPU pool: each thread keeps its own scratch buffers and codec contexts
    (:mod:`exzarr.array.scratch`), which would otherwise pile up on every thread of the
    wide pool."""
    kind = "wide" if n > threads() else "cpu"
    with _pool_lock:
        pool, size = _pools.get(kind, (None, 0))
        if pool is None or size < n:
            old = pool
            pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"exzarr-{kind}",
                                      initializer=_mark_worker)
            _pools[kind] = (pool, n)
            if old is not None:
                old.shutdown(wait=False)
        return pool


_io_pool: ThreadPoolExecutor | None = None


def prefetch(fn: Callable[[T], R], items: Iterable[T], *, ahead: int = 1,
             store: Store | None = None) -> Generator[R, None, None]:
    """``fn(item)`` for each item in order, computed up to ``ahead`` items in advance on a
    dedicated I/O thread, so fetching the next unit overlaps with decoding this one on
    the worker threads (which stay free for CPU work).  ``close()`` it (or drop it) to stop
    early: tasks not started are cancelled and running ones waited for."""
    global _io_pool
    items = list(items)
    nested = getattr(_worker, "active", False) or getattr(_worker, "io", False)
    if len(items) <= 1 or _n_threads(None, store) <= 1 or nested:
        for item in items:
            yield fn(item)
        return
    with _pool_lock:
        if _io_pool is None:
            _io_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="exzarr-io",
                                          initializer=_mark_io)
        pool = _io_pool
    fn = _with_caller_config(fn)
    pending: deque[Future[R]] = deque()
    it = iter(items)
    try:
        for item in it:
            pending.append(pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # Stopped early (break, exception, garbage collection): drop what has not
        # started and wait for what has, so no task outlives the iteration.
        for f in pending:
            f.cancel()
        if pending:
            wait(list(pending))


def _mark_worker() -> None:
    _worker.active = True


def _mark_io() -> None:
    _worker.io = True


def _reset_after_fork() -> None:
    """In a forked child the parent's pool threads do not exist: forget the pools (and a
    lock some parent thread may have held at fork time) so first use creates new ones."""
    global _io_pool, _pool_lock
    _pools.clear()
    _io_pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _inline(n_items: int, n_threads: int) -> bool:
    return n_threads <= 1 or n_items <= 1 or getattr(_worker, "active", False)


def _n_threads(parallel: int | None, store: Store | None) -> int:
    if store is not None and store.serial_now():
        return 1
    return parallel or threads()


def _with_caller_config(fn: Callable[[T], R]) -> Callable[[T], R]:
    """``fn`` wrapped to run under the calling thread's configuration."""
    cfg = _config.get()

    def call(item: T) -> R:
        with _config.use(cfg):
            return fn(item)
    return call


def run(fn: Callable[[T], None], items: Iterable[T], *, parallel: int | None = None,
        store: Store | None = None, stop_on_error: bool = False) -> None:
    """Call ``fn`` on every item, in parallel; re-raise the first error after all finish
    (with ``stop_on_error``, after the first error the workers take no more items, as the
    inline loop stops: e.g. reads, which need not ask a failing server for every key)."""
    items = list(items)
    n = _n_threads(parallel, store)
    if _inline(len(items), n):
        for item in items:
            fn(item)
        return
    # n workers pull the items from one shared iterator: never more than n run at once
    # (the shared pool may be larger, grown by an earlier call with more parallelism), the
    # workers never wait for the caller, and a slow item does not hold up a fixed batch.
    # (Tasks write into preallocated outputs or per-thread scratch, so memory is bounded.)
    cfg = _config.get()
    it = iter(items)
    lock = threading.Lock()
    failed = False

    def work() -> None:
        nonlocal failed
        with _config.use(cfg):  # the caller's settings, once per worker (not per item)
            while True:
                with lock:
                    item = _DONE if failed else next(it, _DONE)
                if item is _DONE:
                    return
                try:
                    fn(item)  # type: ignore[arg-type]
                except BaseException:
                    failed = stop_on_error
                    raise
    pool = _get_pool(n)
    futures = [pool.submit(work) for _ in range(min(n, len(items)))]
    wait(futures)
    for f in futures:
        f.result()  # re-raise the first error


_DONE = object()


#: how long :func:`run_fed`'s caller waits for a helper to take the first item (a pool
#: busy with other calls may not start one soon: then the caller goes on making items)
_HANDOFF_WAIT = 0.002


def run_fed(fn: Callable[[T], None], items: Iterable[T], *, store: Store | None = None) -> None:
    """:func:`run` of items that take work to make (e.g. a generator that reads a shard's
    index before it yields that shard's tasks): the caller makes them while
    ``threads - 1`` workers already take the first ones, then takes its share of the rest,
    so the threads start on the first item instead of waiting for the last one to be made
    (the caller waits until a helper has taken the first item before it makes the next).
    The first error, of an item or of making them, stops the rest (items not yet taken
    are dropped, none is made after it) and is re-raised once the running items finish."""
    n = _n_threads(None, store)
    if n <= 1 or getattr(_worker, "active", False):
        for item in items:
            fn(item)
        return
    cfg = _config.get()
    queue: deque[T] = deque()
    ready = threading.Condition()
    made = failed = False

    def take() -> Any:
        with ready:
            while not queue and not made and not failed:
                ready.wait()
            if not queue or failed:
                return _DONE
            ready.notify_all()  # (the caller may wait for its first item to be taken)
            return queue.popleft()

    def stop() -> None:
        nonlocal failed
        with ready:
            failed = True
            ready.notify_all()

    def work() -> None:
        with _config.use(cfg):
            while (item := take()) is not _DONE:
                try:
                    fn(item)
                except BaseException:
                    stop()
                    raise

    pool = _get_pool(n)
    helpers = [pool.submit(work) for _ in range(n - 1)]
    try:
        try:
            first = True
            for item in items:
                with ready:
                    if failed:
                        break
                    queue.append(item)
                    ready.notify()
                    if first:
                        # the first item starts now, not when this thread next lets go of
                        # the GIL (a helper woken to take it needs it), while the next
                        # items are made
                        ready.wait_for(lambda: not queue or failed, timeout=_HANDOFF_WAIT)
                        first = False
        except BaseException:
            stop()
            raise
        finally:
            with ready:
                made = True
                ready.notify_all()
        _worker.active = True  # (the caller runs its share as a worker: nested calls inline)
        try:
            work()
        finally:
            _worker.active = False
    finally:
        # a helper not started yet (the pool busy with other calls) has nothing left to
        # do: withdrawn, not waited for (a cancelled future counts as done only once a
        # pool thread has dequeued it)
        started = [f for f in helpers if not f.cancel()]
        wait(started)
    for f in started:
        f.result()  # re-raise a helper's error


def tapered(items: list[T], size: int, parallel: int | None = None) -> list[list[T]]:
    """``items`` in groups of ``size`` for :func:`run`, the last ``threads x size`` of
    them in groups of a quarter of that: the workers take the groups in order, so with the
    small ones last the threads finish together (at the end a thread waits for at most one
    small group, not a whole one: 4-9 % of two threads' time in writes of 32 groups of
    eight zstd chunks)."""
    if size <= 1:
        return [[item] for item in items]
    tail = min(len(items), (parallel or threads()) * size)
    head = len(items) - tail
    small = max(1, size // 4)
    return ([items[i:min(i + size, head)] for i in range(0, head, size)]
            + [items[i:i + small] for i in range(head, len(items), small)])


def imap(fn: Callable[[T], R], items: Iterable[T], *, parallel: int | None = None,
         ordered: bool = True, max_inflight: int | None = None,
         store: Store | None = None) -> Iterator[R]:
    """Results of ``fn`` over ``items`` with at most ``max_inflight`` (default
    ``parallel``) tasks submitted and not yet consumed."""
    n = _n_threads(parallel, store)
    if n <= 1 or getattr(_worker, "active", False):
        for item in items:
            yield fn(item)
        return
    fn = _with_caller_config(fn)
    limit = max_inflight or n
    pool = _get_pool(n)
    it = iter(items)
    pending: deque[Future[R]] = deque()
    try:
        for item in it:
            pending.append(pool.submit(fn, item))
            if len(pending) >= limit:
                yield from _drain(pending, ordered)
        while pending:
            yield from _drain(pending, ordered)
    finally:
        for f in pending:
            f.cancel()
        if pending:
            wait(list(pending))


def _drain(pending: deque[Future[R]], ordered: bool) -> Iterator[R]:
    """Yield the next result (ordered), or every result finished by now (unordered)."""
    if ordered:
        yield pending.popleft().result()
        return
    done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
    for f in done:
        pending.remove(f)
        yield f.result()
