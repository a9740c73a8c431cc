"""exzarr.storage.io_threads: the blocking calls of a batch, side by side on a pool."""

from __future__ import annotations

import os
import threading
import time

import pytest

from exzarr.storage import io_threads
from exzarr.storage.io_threads import run_all


class _InFlight:
    """Calls that sleep a little and record how many ran at the same time, and where."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.threads: set[str] = set()

    def call(self, value: int, fail: bool = False):
        def run():
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.threads.add(threading.current_thread().name)
            time.sleep(0.02)
            with self.lock:
                self.now -= 1
            if fail:
                raise KeyError(value)
            return value * 10
        return run


def test_results_in_order_and_failures_returned_not_raised():
    f = _InFlight()
    calls = [f.call(i, fail=(i % 5 == 3)) for i in range(17)]
    out = run_all(calls, 4)
    assert len(out) == 17
    for i, r in enumerate(out):
        if i % 5 == 3:
            assert isinstance(r, KeyError) and r.args == (i,)
        else:
            assert r == i * 10


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_at_most_limit_in_flight_and_the_caller_takes_part(limit):
    f = _InFlight()
    out = run_all([f.call(i) for i in range(12)], limit)
    assert out == [i * 10 for i in range(12)]
    assert f.most <= limit
    assert f.most >= min(limit, 2)  # side by side (12 calls of 20 ms: helpers get to run)
    assert threading.current_thread().name in f.threads
    assert len(f.threads) <= limit


def test_empty_and_single_batches_stay_on_the_caller():
    assert run_all([], 8) == []
    f = _InFlight()
    assert run_all([f.call(7)], 8) == [70]
    assert f.threads == {threading.current_thread().name}


def test_batches_from_many_threads_at_once_all_complete():
    results: dict[int, list] = {}

    def batch(j: int) -> None:
        f = _InFlight()
        results[j] = run_all([f.call(j * 100 + i) for i in range(6)], 3)

    threads = [threading.Thread(target=batch, args=(j,)) for j in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {j: [(j * 100 + i) * 10 for i in range(6)] for j in range(8)}


def test_a_forked_child_makes_its_own_pool(monkeypatch):
    parent = io_threads._executor()
    # what a child created by os.fork sees: the parent's pool recorded under another pid
    monkeypatch.setattr(io_threads, "_pool", (os.getpid() + 1, parent))
    child = io_threads._executor()
    assert child is not parent
    assert io_threads._pool == (os.getpid(), child)
    assert run_all([lambda: 1, lambda: 2], 2) == [1, 2]
    child.shutdown()
