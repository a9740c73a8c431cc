"""The end of a sharded read from a local directory: the last inner chunks are read one
per task (``sharded.TAIL_CHUNKS`` per thread), not in the coalesced ranges of several,
so the threads finish together; the data is the same.  Both routes: the compiled one
(``array/shard_files``: each range a job of ``read_scatter``) and the Python one (each
range a task that reads it and calls ``decode_scatter``: a store without files for
compiled code)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import exzarr as ez
from exzarr import config
from exzarr.storage import LocalStore
from exzarr.codecs.byte_ranges import CoalescedRange
from exzarr.codecs.direct import native_zstd
from exzarr.kernels import jit

sharded = importlib.import_module("exzarr.array.sharded")


def ranges(*sizes: int) -> list[CoalescedRange]:
    """Ranges of ``sizes[k]`` parts each, parts of 10 bytes with 5-byte gaps, tags
    ``(range, part)``."""
    out, at = [], 100
    for k, n in enumerate(sizes):
        parts = tuple(((k, j), 15 * j, 15 * j + 10) for j in range(n))
        out.append(CoalescedRange((at, at + 15 * n - 5), parts))
        at += 15 * n + 1000
    return out


def test_tail_start_takes_whole_ranges_from_the_end():
    found = ranges(5, 3, 2)
    assert sharded._tail_start(found, 0) == 3
    assert sharded._tail_start(found, 1) == 2
    assert sharded._tail_start(found, 2) == 2
    assert sharded._tail_start(found, 3) == 1
    assert sharded._tail_start(found, 5) == 1
    assert sharded._tail_start(found, 6) == 0
    assert sharded._tail_start(found, 99) == 0
    assert sharded._tail_start([], 4) == 0


@pytest.mark.parametrize("sizes, n", [((4, 1, 3), 2), ((4, 1, 3), 4), ((4, 1, 3), 5),
                                      ((4, 1, 3), 8), ((4, 1, 3), 20), ((6,), 2), ((), 3),
                                      ((2, 2), 0)])
def test_split_tail_cuts_the_last_parts_one_per_range_and_keeps_every_byte(sizes, n):
    found = ranges(*sizes)
    data = bytes(range(256)) * 40
    cut = sharded._split_tail(found, n)
    tags = [tag for r in found for tag, _, _ in r.parts]
    assert [tag for r in cut for tag, _, _ in r.parts] == tags  # every part, in order
    singles = min(n, len(tags))
    assert all(len(r.parts) == 1 for r in cut[len(cut) - singles:])
    before = max(0, len(cut) - singles - 1)  # the ranges before the tail, as they were
    assert cut[:before] == found[:before]
    want = {tag: data[r.byte_range[0] + a:r.byte_range[0] + b]
            for r in found for tag, a, b in r.parts}
    for r in cut:
        got = data[r.byte_range[0]:r.byte_range[1]]
        assert len(got) == max(b for _, _, b in r.parts)  # no byte read past the last part
        for tag, a, b in r.parts:
            assert got[a:b] == want[tag]


needs_kernel = pytest.mark.skipif(
    native_zstd() is None or not jit.numba_available() or not config.get().jit,
    reason="needs numcodecs' libzstd bound and Numba on")


class NoDirect(LocalStore):
    """Local files without compiled reads: the Python route."""

    def direct_reads(self, keys):
        return None


@pytest.fixture(params=["compiled", "python"])
def route(request, spy_kernel, monkeypatch):
    """(store class, sizes()): the parts per range (inner chunks per job or task) of the
    reads made since, on the route asked for."""
    if request.param == "python":
        calls = spy_kernel("exzarr.kernels.decode_scatter", "decode_scatter", 5)
        assert_all = lambda: all(done == given for given, done in calls)  # noqa: E731
        return NoDirect, lambda: (assert_all() and None) or [g for g, _ in calls]
    monkeypatch.setattr(importlib.import_module("exzarr.array.shard_files"),
                        "MIN_INNER_BYTES", 0)  # (small inner chunks here)
    mod = importlib.import_module("exzarr.kernels.read_scatter")
    real = mod.read_scatter
    jobs: dict[int, list[int]] = {}  # per shard's jobs (each thread's call sees them all)

    def spy(*args):
        jobs[id(args[5])] = np.diff(args[5]).tolist()  # (first: frames per job)
        return real(*args)
    monkeypatch.setattr(mod, "read_scatter", spy)
    return LocalStore, lambda: [n for sizes in jobs.values() for n in sizes]


@needs_kernel
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_last_inner_chunks_are_read_one_per_task(tmp_path, route, monkeypatch, threads):
    monkeypatch.setattr(sharded, "TAIL_MIN_BYTES", 256)  # (inner chunks of 8x8 float32)
    store, sizes_of = route
    z, d = stored(tmp_path, store)
    with config.set(threads=threads):
        np.testing.assert_array_equal(z[KEY].read(), d[KEY])
    sizes = sizes_of()
    assert sum(sizes) == 8 * 12
    tail = sharded.TAIL_CHUNKS * threads
    assert sizes.count(1) == tail  # the end, one inner chunk per task
    assert len(sizes) == 4 + tail  # the rest in one range per shard
    if threads == 1 or store is LocalStore:  # (the jobs: in the order they are made)
        assert sizes[-tail:] == [1] * tail


@needs_kernel
def test_small_inner_chunks_stay_in_their_ranges(tmp_path, route):
    """Below ``TAIL_MIN_BYTES`` an inner chunk decodes faster than a task costs: the
    ranges stay whole (here one per shard)."""
    store, sizes_of = route
    z, d = stored(tmp_path, store)
    np.testing.assert_array_equal(z[KEY].read(), d[KEY])
    assert sorted(sizes_of()) == [24, 24, 24, 24]


KEY = (slice(3, 61), slice(5, 90))  # 8 rows of 12 inner chunks of 8x8, across 4 shards


def stored(tmp_path, store=LocalStore):
    d = (np.random.default_rng(1).standard_normal((64, 96)) * 9).round(1).astype("f4")
    z = ez.create(store(str(tmp_path / "a.zarr")), shape=d.shape, chunks=(8, 8),
                  shards=(32, 48), dtype="f4",
                  compressor={"name": "zstd", "configuration": {"level": 1}})
    z[...] = d
    return z, d
