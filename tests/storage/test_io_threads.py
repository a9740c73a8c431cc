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


# -- stream_all ---------------------------------------------------------------------------
def test_stream_hands_results_over_as_they_finish_not_in_order():
    """A slow call holds up only itself: the fast ones come out first."""
    def call(i, secs):
        def run():
            time.sleep(secs)
            return i
        return run
    calls = [(0, call(0, 0.3))] + [(i, call(i, 0.01)) for i in range(1, 9)]
    t0 = time.perf_counter()
    got = []
    for tag, r in io_threads.stream_all(calls, 3):
        got.append((tag, r, time.perf_counter() - t0))
    assert sorted(t for t, _, _ in got) == list(range(9))
    assert all(tag == r for tag, r, _ in got)
    assert got[-1][0] == 0                      # the slow one last
    assert max(at for tag, _, at in got if tag) < got[-1][2]   # the rest did not wait


@pytest.mark.parametrize("limit", [1, 3])
def test_stream_keeps_limit_in_flight_and_returns_failures(limit):
    f = _InFlight()
    calls = ((i, f.call(i, fail=(i == 4))) for i in range(10))
    out = dict(io_threads.stream_all(calls, limit))
    assert sorted(out) == list(range(10))
    assert isinstance(out[4], KeyError) and out[4].args == (4,)
    assert all(out[i] == i * 10 for i in range(10) if i != 4)
    assert f.most <= limit
    assert f.most >= min(limit, 2)
    assert threading.current_thread().name not in f.threads   # the consumer only consumes


def test_stream_starts_no_more_than_twice_the_limit_ahead_of_a_slow_consumer():
    started = []

    def call(i):
        def run():
            started.append(i)
            return i
        return run
    it = io_threads.stream_all(((i, call(i)) for i in range(100)), 4)
    next(it)
    time.sleep(0.1)                             # the consumer dawdles
    assert len(started) <= 2 * 4 + 1
    rest = [tag for tag, _ in it]
    assert len(rest) == 99 and len(started) == 100


def test_closing_a_stream_early_starts_nothing_more():
    f = _InFlight()
    started = []

    def call(i):
        def run():
            started.append(i)
            return f.call(i)()
        return run
    it = io_threads.stream_all(((i, call(i)) for i in range(50)), 3)
    next(it)
    it.close()                                  # waits for the running calls
    n = len(started)
    assert n <= 2 * 3 + 1
    time.sleep(0.05)
    assert len(started) == n and f.now == 0


def test_an_error_making_the_calls_is_raised_after_the_running_ones():
    def calls():
        yield 0, lambda: 0
        raise ValueError("no more")
    with pytest.raises(ValueError, match="no more"):
        list(io_threads.stream_all(calls(), 2))
