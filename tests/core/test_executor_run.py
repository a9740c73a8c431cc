"""executor.run and executor.run_spawning: every item (and every item spawned) runs once,
on the caller's thread and the pool's, an error is re-raised once no task is running,
and calls into the executor from a task run inline."""

from __future__ import annotations

import threading
import time

import pytest

import exzarr as ez
from exzarr import executor


def _tree(depth: int, width: int):
    """``fn`` spawning ``width`` children per item down to ``depth``, and the record of
    the items run (with the thread that ran each)."""
    seen: list[tuple[tuple[int, ...], int]] = []
    lock = threading.Lock()

    def fn(item: tuple[int, ...]):
        time.sleep(0.001)
        with lock:
            seen.append((item, threading.get_ident()))
        if len(item) < depth:
            return [item + (i,) for i in range(width)]
        return None
    return fn, seen


def _all(depth: int, width: int, roots: int) -> list[tuple[int, ...]]:
    level = [(r,) for r in range(roots)]
    out = list(level)
    while level and len(level[0]) < depth:
        level = [x + (i,) for x in level for i in range(width)]
        out.extend(level)
    return sorted(out)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_run_spawning_runs_every_item_and_every_spawned_item_once(threads):
    fn, seen = _tree(depth=3, width=3)
    with ez.config.set(threads=threads):
        executor.run_spawning(fn, [(0,), (1,)])
    assert sorted(item for item, _ in seen) == _all(3, 3, 2)
    if threads == 1:
        assert {t for _, t in seen} == {threading.get_ident()}
    else:
        assert len({t for _, t in seen}) > 1  # the spawned items were shared out


def test_spawned_items_start_while_other_items_are_still_being_planned():
    """One slow 'plan' item and one that spawns: the spawned items run on the other
    threads before the slow one is over."""
    ran_during: list[bool] = []
    slow_done = threading.Event()

    def fn(item):
        if item == "slow":
            time.sleep(0.2)
            slow_done.set()
            return None
        if item == "spawns":
            return [f"child{i}" for i in range(4)]
        ran_during.append(not slow_done.is_set())
        return None

    with ez.config.set(threads=2):
        executor.run_spawning(fn, ["slow", "spawns"])
    assert len(ran_during) == 4 and all(ran_during)


@pytest.mark.parametrize("threads", [1, 3])
def test_run_spawning_reraises_after_the_other_threads_stopped(threads):
    done: list[str] = []

    def fn(item):
        if item == "bad":
            raise ValueError("bad item")
        if item == "spawns":
            return ["a", "b"]
        time.sleep(0.01)
        done.append(item)
        return None

    with ez.config.set(threads=threads), pytest.raises(ValueError, match="bad item"):
        executor.run_spawning(fn, ["x", "spawns", "bad", "y"])
    # what ran, ran once and was over by the raise (items not begun then are dropped)
    snapshot = list(done)
    assert len(snapshot) == len(set(snapshot)) and "x" in snapshot
    time.sleep(0.05)
    assert done == snapshot


@pytest.mark.parametrize("spawning", [False, True])
def test_the_caller_takes_part_and_nested_calls_run_inline(spawning):
    caller = threading.get_ident()
    ran: list[tuple[int, int]] = []
    lock = threading.Lock()

    def inner(i):
        with lock:
            ran.append((i, threading.get_ident()))

    def fn(i):
        time.sleep(0.02)
        me = threading.get_ident()
        executor.run(inner, [me, me])  # inline: on this very thread
        return None

    items = list(range(6))
    with ez.config.set(threads=2):
        if spawning:
            executor.run_spawning(fn, items)
        else:
            executor.run(fn, items)
    assert len(ran) == 12 and all(i == t for i, t in ran)
    assert caller in {t for _, t in ran}  # the caller ran some of the items


def test_run_reraises_after_the_other_threads_stopped_when_the_caller_fails():
    caller = threading.get_ident()
    done: list[int] = []

    def fn(i):
        if threading.get_ident() == caller and i < 100:
            raise RuntimeError("failed on the caller")
        time.sleep(0.005)
        done.append(i)

    with ez.config.set(threads=2), pytest.raises(RuntimeError, match="on the caller"):
        executor.run(fn, list(range(10)))
    # what the other thread took ran once and was over by the raise
    snapshot = list(done)
    assert len(snapshot) == len(set(snapshot))
    time.sleep(0.05)
    assert done == snapshot
