"""Bytes objects filled in place (``array/fresh_bytes``): what a compressor writes into
and an in-memory store keeps."""

from __future__ import annotations

import gc
import importlib
import sys
import tracemalloc

import numpy as np
import pytest

fresh_bytes = importlib.import_module("exzarr.array.fresh_bytes")
FreshBytes = fresh_bytes.FreshBytes

pytestmark = pytest.mark.skipif(not fresh_bytes.available(),
                                reason="bytes objects cannot be filled in place here")


@pytest.mark.parametrize("n, size", [(100, 5), (1 << 20, 3), (1 << 20, 520_000),
                                     (64, 64), (1 << 20, 1 << 20), (10, 0)])
def test_take_gives_the_bytes_written(n, size):
    f = FreshBytes(n)
    want = np.random.default_rng(n + size).integers(0, 256, n, dtype=np.uint8)
    f.array[:] = want
    value = f.take(size)
    assert type(value) is bytes and value == want[:size].tobytes()
    assert f.array is None
    if size:  # (the empty bytes object is shared by the interpreter)
        assert sys.getrefcount(value) == 2  # this name and the call's argument: no leak
    assert value + b"!" == want[:size].tobytes() + b"!" and hash(value) == hash(bytes(value))


def test_take_twice_is_an_error():
    f = FreshBytes(8)
    f.array[:] = 1
    f.take(8)
    with pytest.raises(RuntimeError, match="twice"):
        f.take(8)


def test_objects_dropped_or_taken_and_dropped_are_freed():
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(64):
            f = FreshBytes(1 << 20)
            f.array[:16] = 7
            if i % 2:
                value = f.take(500_000)
                del value
            del f
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1 << 20  # 64 MiB allocated in all, none of it kept


def test_unavailable_interpreter(monkeypatch):
    monkeypatch.setattr(fresh_bytes, "_api", lambda: None)
    assert not fresh_bytes.available()
    with pytest.raises(RuntimeError, match="cannot be filled in place"):
        FreshBytes(8)
