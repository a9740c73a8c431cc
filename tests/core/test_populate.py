"""A read over the network that takes several rounds of requests (more chunks, or
shards, than it keeps in flight) maps its fresh output's pages at once
(``allocator.populate``: ``MADV_POPULATE_WRITE``), instead of page by page as the chunks
land over the read.  Page faults are counted (getrusage), not timed; the pages' contents
are kept."""

from __future__ import annotations

import importlib
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import exzarr as ez
from exzarr.array import fetch
from exzarr.array.allocator import populate
from exzarr.storage import MemoryStore

from .test_remote_reads import CHUNKS, SHAPE, Streaming, data

reader = importlib.import_module("exzarr.array.reader")


def _kernel_populates() -> bool:
    """Linux 5.14 or later (``MADV_POPULATE_WRITE``)."""
    if platform.system() != "Linux":
        return False
    major, minor = (int(x) for x in platform.release().split(".")[:2])
    return (major, minor) >= (5, 14)


def test_populate_keeps_contents():
    a = np.arange(3 << 20, dtype=np.int64)[7:]   # (not page-aligned at either end)
    before = a.copy()
    assert populate(a) is _kernel_populates()
    np.testing.assert_array_equal(a, before)
    assert populate(np.empty(0)) is False
    assert populate(np.empty(10, np.uint8)) is False   # no whole page inside


FAULTS = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from exzarr.array.allocator import populate
    a = np.empty(16 << 20, dtype=np.uint8)      # fresh pages, not yet mapped
    if sys.argv[1] == "populate":
        assert populate(a)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a[:] = 1
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


@pytest.mark.skipif(not _kernel_populates(), reason="MADV_POPULATE_WRITE: Linux 5.14+")
def test_populated_pages_take_no_faults_when_written():
    def faults(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True,
                             text=True, check=True, env={"NUMPY_MADVISE_HUGEPAGE": "0",
                                                         "PATH": ""})
        return int(out.stdout.strip())
    pages = (16 << 20) // 4096
    assert faults("plain") > pages // 2               # written page by page, each faults
    assert faults("populate") < pages // 20           # mapped already


def _store(n_in_flight: int = 32) -> Streaming:
    s = Streaming(delay=0)
    s.requests_in_flight = n_in_flight
    return s


def test_waits_long_only_for_several_rounds_of_requests_to_a_remote_store():
    s = _store()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4")   # 24 x 16 = 384 chunks
    state = z._state
    whole = reader.plan_selection(z[...].selection, CHUNKS)
    assert whole.nchunks == 384 and fetch.waits_long(state, whole)
    few = reader.plan_selection(z[0:8, 0:64].selection, CHUNKS)   # 16 chunks, one round
    assert few.nchunks == 16 and not fetch.waits_long(state, few)
    s.requests_in_flight = 8
    assert fetch.waits_long(state, few)
    local = ez.create(MemoryStore(), shape=SHAPE, chunks=CHUNKS, dtype="f4")
    assert not fetch.waits_long(local._state, whole)
    sharded = ez.create(_store(), shape=SHAPE, chunks=CHUNKS, shards=(16, 32), dtype="f4")
    assert whole.nblocks((4, 4)) == 24                          # 6 x 4 shards: one round
    assert not fetch.waits_long(sharded._state, whole)
    sharded.store.requests_in_flight = 8                        # three rounds
    assert fetch.waits_long(sharded._state, whole)
    assert not fetch.waits_long(sharded._state, few)            # 16 inner chunks, 2 shards


@pytest.mark.parametrize("shards", [None, (16, 32)])
@pytest.mark.parametrize("codec", ["zstd", None])
def test_a_long_read_populates_its_fresh_output_and_reads_right(monkeypatch, codec, shards):
    s = _store(32 if shards is None else 8)   # 384 chunks, or 24 shards: several rounds
    a = data()
    compressors = None if codec is None else {"name": "zstd", "configuration": {"level": 1}}
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=shards, dtype="f4", fill_value=-1,
                  compressors=compressors)
    z[...] = a
    a[20:24, 40:48] = z[20:24, 40:48] = -1   # a chunk of fill_value only: not stored
    seen: list[tuple[tuple[int, ...], bool]] = []

    def spy(out: np.ndarray) -> bool:
        seen.append((out.shape, populate(out)))
        return seen[-1][1]
    monkeypatch.setattr(reader, "populate", spy)
    monkeypatch.setattr(reader, "POPULATE_FROM", 0)   # (the test's array is small)
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), a)
        assert seen == [(SHAPE, _kernel_populates())]
        np.testing.assert_array_equal(z[0:8, 0:64].read(), a[0:8, 0:64])  # in one round
        out = np.zeros(SHAPE, "f4")
        z.read(out=out)                                # the caller's own output
        np.testing.assert_array_equal(out, a)
    assert len(seen) == 1
    monkeypatch.setattr(reader, "POPULATE_FROM", 4 << 20)
    z.read()                                           # below the size that pays
    assert len(seen) == 1
