"""executor.run_stream: items that arrive one by one are handled as they arrive, on the
worker threads, with the iterator advanced by one worker at a time; errors stop the rest
and close the iterator."""

from __future__ import annotations

import threading
import time

import pytest

import exzarr as ez
from exzarr import executor


def test_items_are_handled_as_they_arrive_on_the_workers():
    handled: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    t0 = time.perf_counter()

    def arrive():
        for i in range(6):
            time.sleep(0.03)                    # each item waits on "the network"
            yield i

    def fn(i):
        with lock:
            handled.append((i, time.perf_counter() - t0, threading.current_thread().name))
    with ez.config.set(threads=2):
        executor.run_stream(fn, arrive())
    assert sorted(i for i, _, _ in handled) == list(range(6))
    first = next(at for i, at, _ in handled if i == 0)
    assert first < 0.03 * 6 * 0.8               # not after the last item arrived
    assert all(name.startswith("exzarr") for _, _, name in handled)


def test_an_item_error_stops_the_rest_and_closes_the_iterator():
    closed = []
    taken = []

    def items():
        try:
            for i in range(1000):
                taken.append(i)
                yield i
        finally:
            closed.append(True)

    def fn(i):
        if i == 3:
            raise KeyError(i)
        time.sleep(0.001)
    with ez.config.set(threads=2), pytest.raises(KeyError):
        executor.run_stream(fn, items())
    assert closed == [True]
    assert len(taken) < 20


def test_an_iterator_error_is_raised():
    def items():
        yield 1
        raise ValueError("stream broke")
    with ez.config.set(threads=2), pytest.raises(ValueError, match="stream broke"):
        executor.run_stream(lambda i: None, items())


def test_one_thread_runs_inline_in_order_and_closes():
    seen, closed = [], []

    def items():
        try:
            yield from range(5)
        finally:
            closed.append(True)
    with ez.config.set(threads=1):
        executor.run_stream(seen.append, items())
    assert seen == list(range(5)) and closed == [True]
