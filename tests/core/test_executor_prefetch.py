"""executor.prefetch: early close waits for running tasks, nested prefetch runs inline,
and the pools survive os.fork (a child gets fresh ones)."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

import exzarr as ez
from exzarr import executor


def test_closing_early_waits_for_running_tasks_and_cancels_the_rest():
    started, finished = [], []
    gate = threading.Event()

    def task(i: int) -> int:
        started.append(i)
        gate.wait(0.05)
        finished.append(i)
        return i

    with ez.config.set(threads=2):
        it = executor.prefetch(task, range(20), ahead=3)
        assert next(it) == 0
        it.close()
    assert sorted(started) == sorted(finished)      # nothing still running after close
    assert len(started) <= 1 + 3 + 1                # the rest was cancelled


def test_nested_prefetch_runs_inline_instead_of_waiting_on_the_io_threads():
    def inner(i: int) -> int:
        return i * 2

    def outer(i: int) -> list[int]:
        # every io thread busy with an outer task, each starting a prefetch of its own:
        # it must not wait for a free io thread
        return list(executor.prefetch(inner, range(5), ahead=2))

    with ez.config.set(threads=4):
        out = list(executor.prefetch(outer, range(6), ahead=4))
    assert out == [[0, 2, 4, 6, 8]] * 6


def _child(q: "multiprocessing.Queue[object]") -> None:
    with ez.config.set(threads=2):
        q.put(sum(executor.prefetch(lambda i: i, range(10), ahead=2)))
        q.put(sorted(executor.imap(lambda i: i * i, range(10), parallel=2)))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_pools_work_in_a_forked_child():
    with ez.config.set(threads=2):   # the parent's pools exist (and have threads) at fork
        assert list(executor.prefetch(lambda i: i, range(5), ahead=2)) == list(range(5))
        assert sorted(executor.imap(lambda i: i, range(5), parallel=2)) == list(range(5))
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    try:
        assert q.get(timeout=60) == 45
        assert q.get(timeout=60) == [i * i for i in range(10)]
    finally:
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    assert p.exitcode == 0


def test_tapered_groups_end_small_and_keep_every_item_once():
    from exzarr.executor import tapered
    items = list(range(100))
    groups = tapered(items, 8, parallel=2)
    assert [x for g in groups for x in g] == items
    assert [len(g) for g in groups] == [8] * 10 + [4] + [2] * 8  # the last 2 x 8 in twos
    assert tapered(items[:10], 8, parallel=2) == [items[i:i + 2] for i in range(0, 10, 2)]
    assert tapered(items[:3], 1) == [[0], [1], [2]]
    assert tapered([], 8) == []
    with ez.config.set(threads=3):
        assert [len(g) for g in tapered(items, 4)] == [4] * 22 + [1] * 12


def test_wide_runs_get_their_own_pool_and_cpu_runs_stay_on_the_threads():
    """Runs with more tasks than threads (uploads to a high-latency store) run on a wide
    pool of their own; a later CPU-bound run still lands only on the CPU pool's threads
    (each thread keeps its own scratch buffers, which must not pile up on the wide pool's
    many threads)."""
    def names(parallel, n=64):
        seen, lock = set(), threading.Lock()

        def task(_):
            time.sleep(0.002)
            with lock:
                seen.add(threading.current_thread().name)
        with ez.config.set(threads=2):
            executor.run(task, range(n), parallel=parallel)
        return seen

    wide = names(parallel=16)
    assert 2 < len(wide) <= 16 and all(n.startswith("exzarr-wide") for n in wide)
    cpu = set().union(*(names(parallel=None) for _ in range(5)))
    assert cpu and all(n.startswith("exzarr-cpu") for n in cpu)
    assert not cpu & wide
