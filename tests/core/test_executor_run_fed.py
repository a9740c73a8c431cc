"""executor.run_fed: items run while later ones are still being made, every item once,
errors re-raised after all finish, and never stuck when the pool is busy."""

from __future__ import annotations

import threading

import pytest

import exzarr as ez
from exzarr import executor


def test_the_first_items_run_while_the_rest_are_made():
    started = threading.Event()
    done: list[int] = []
    lock = threading.Lock()

    def make():
        yield 0
        # item 0 must start on a worker before item 1 is made
        assert started.wait(10), "no worker took the first item while items were made"
        yield from range(1, 20)

    def fn(i: int) -> None:
        if i == 0:
            started.set()
        with lock:
            done.append(i)

    with ez.config.set(threads=2):
        executor.run_fed(fn, make())
    assert sorted(done) == list(range(20))


def test_one_thread_runs_on_the_caller_in_order():
    seen: list[tuple[int, int]] = []
    with ez.config.set(threads=1):
        executor.run_fed(lambda i: seen.append((i, threading.get_ident())), iter(range(5)))
    assert seen == [(i, threading.get_ident()) for i in range(5)]


def test_an_item_error_stops_the_rest_and_is_raised_after_the_running_ones():
    done: list[int] = []
    made: list[int] = []
    lock = threading.Lock()
    errors = threading.Event()

    def make():
        for i in range(200):
            made.append(i)
            if i > 3:
                errors.wait(10)  # (item 3 has failed by now, or the test fails below)
            yield i

    def fn(i: int) -> None:
        if i == 3:
            errors.set()
            raise ValueError("item 3")
        with lock:
            done.append(i)

    with ez.config.set(threads=2), pytest.raises(ValueError, match="item 3"):
        executor.run_fed(fn, make())
    after = list(done)
    assert 3 not in after and len(made) < 200  # no item made after the error was seen
    assert len(done) < 199
    assert done == after  # nothing still running once it returned


def test_an_error_making_the_items_is_raised_after_the_running_ones():
    done: list[int] = []
    lock = threading.Lock()

    def make():
        yield from range(4)
        raise OSError("index unreadable")

    def fn(i: int) -> None:
        with lock:
            done.append(i)

    with ez.config.set(threads=2), pytest.raises(OSError, match="index unreadable"):
        executor.run_fed(fn, make())
    after = list(done)
    assert set(after) <= {0, 1, 2, 3}
    assert done == after


def test_the_caller_runs_everything_when_the_pool_is_busy():
    release = threading.Event()
    with ez.config.set(threads=2):
        # every pool thread held by another call
        blocker = threading.Thread(
            target=lambda: executor.run(lambda _: release.wait(30), range(2)))
        blocker.start()
        try:
            seen: list[int] = []
            executor.run_fed(seen.append, iter(range(6)))
            assert seen == list(range(6))  # all on the caller, in order
        finally:
            release.set()
            blocker.join(30)


def test_nested_calls_in_an_item_run_inline():
    inner_threads: list[int] = []

    def fn(i: int) -> None:
        me = threading.get_ident()
        executor.run(lambda _: inner_threads.append(threading.get_ident() == me), range(3))

    with ez.config.set(threads=2):
        executor.run_fed(fn, iter(range(4)))
    assert inner_threads == [True] * 12
