"""Reads from a high-latency (remote) store keep several requests in flight: a sharded
read fetches several shards at once (a bounded number of raw shards in memory) and
decodes them on the CPU threads while the others download; a chunked read fetches the
next batch while decoding this one.  Failures in the middle stay typed errors naming
the store and key.  (Counts and bounds only: no timing is asserted.)"""

from __future__ import annotations

import importlib
import threading
import time
import weakref

import numpy as np
import pytest

import exzarr as ez
from exzarr import executor
from exzarr.array import sharded
from exzarr.array import fetch
from exzarr.errors import DecompressionError, StorageError
from exzarr.kernels import jit
from exzarr.storage import MemoryStore

shard_files = importlib.import_module("exzarr.array.shard_files")
shard_plan = importlib.import_module("exzarr.array.shard_plan")

SHAPE, CHUNKS, SHARDS = (96, 128), (4, 8), (16, 32)   # 6 x 4 = 24 shards of 4 x 4 inner chunks


def data(shape=SHAPE):
    return (np.arange(int(np.prod(shape))) % 997).astype("f4").reshape(shape)


class RemoteLike(MemoryStore):
    """A high-latency store: each read waits a little and is counted; whole values come
    back as numpy buffers so the test can see how many are alive at once."""

    high_latency = True

    def __init__(self, *a, delay: float = 0.005, **kw):
        super().__init__(*a, **kw)
        self.delay = delay
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.live = 0          # whole shard buffers not yet freed
        self.most_live = 0
        self.requests: list[tuple] = []
        self.fail: dict[str, BaseException] = {}

    def _enter(self, what, key, rng=None):
        with self.lock:
            self.requests.append((what, key, rng))
            self.now += 1
            self.most = max(self.most, self.now)
        if key in self.fail:
            with self.lock:
                self.now -= 1
            raise self.fail[key]
        time.sleep(self.delay)

    def _leave(self):
        with self.lock:
            self.now -= 1

    def _dead(self):
        with self.lock:
            self.live -= 1

    def get(self, key, byte_range=None):
        if not key.startswith("c/"):
            return super().get(key, byte_range)
        self._enter("get", key, byte_range)
        try:
            return super().get(key, byte_range)
        finally:
            self._leave()

    def get_buffer(self, key):
        self._enter("get_buffer", key)
        try:
            v = super().get(key)
        finally:
            self._leave()
        if v is None:
            return None
        buf = np.frombuffer(v, dtype=np.uint8).copy()
        with self.lock:
            self.live += 1
            self.most_live = max(self.most_live, self.live)
        weakref.finalize(buf, self._dead)
        return memoryview(buf)

    def get_ranges(self, requests):
        return [self.get(k, r) for k, r in requests]


def make(store, **kw):
    z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4",
                  fill_value=-1, **kw)
    z[...] = data()
    store.requests.clear()
    store.most = store.most_live = 0
    return z


def test_full_sharded_read_has_several_shards_in_flight_and_bounded_memory():
    s = RemoteLike()
    z = make(s)
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), data())
    assert [w for w, _, _ in s.requests] == ["get_buffer"] * 24   # one GET per shard
    assert s.most > 2                           # more requests in flight than CPU threads
    assert s.most <= s.requests_in_flight
    assert 1 <= s.most_live <= s.requests_in_flight   # raw shards held at once: bounded


def test_sharded_read_keeps_the_stores_limit_and_the_byte_budget(monkeypatch):
    s = RemoteLike()
    z = make(s)
    s.requests_in_flight = 3                    # a store that takes 3 requests at a time
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), data())
    assert 2 <= s.most <= 3
    assert s.most_live <= 3
    # shards of 16 x 32 float32 (2 KiB raw): a budget of two shards' bytes leaves the
    # threads' count (2), however many requests the store would take
    s.requests_in_flight = 32
    s.most = s.most_live = 0
    monkeypatch.setattr(fetch, "REMOTE_BYTES_IN_FLIGHT", 2 * 16 * 32 * 4)
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), data())
    assert s.most <= 2
    assert s.most_live <= 2


def test_the_last_shard_to_arrive_is_decoded_on_every_thread(monkeypatch):
    """Each task queues its shard's inner chunks in runs and then runs queued runs of
    any shard under the CPU gate: a shard that arrives last (its request slow) while
    others still decode is shared by the threads still at work, not left to the one
    that fetched it (before, each task decoded its own shard alone: this fails)."""
    s = RemoteLike()
    z = make(s)
    slow, enter = "c/0/0", s._enter

    def slow_enter(what, key, rng=None):
        enter(what, key, rng)
        if key == slow:
            time.sleep(0.3)
    monkeypatch.setattr(s, "_enter", slow_enter)
    threads_of: dict[str, set] = {}
    orig = sharded.fetch_inner_chunks
    lock, at_once = threading.Lock(), {"now": 0, "most": 0}

    def spy(state, plan, on_chunk, many=None):
        def seen(buf, run):
            with lock:
                at_once["now"] += 1
                at_once["most"] = max(at_once["most"], at_once["now"])
            for _, _, _, label in run:
                threads_of.setdefault(label.split(" ")[0], set()).add(threading.get_ident())
                time.sleep(0.002)           # decoding takes a while
            with lock:
                at_once["now"] -= 1
            return many(buf, run)
        return orig(state, plan, on_chunk, seen)
    monkeypatch.setattr(importlib.import_module("exzarr.array.reader"),
                        "fetch_inner_chunks", spy)
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), data())
    assert len(threads_of) == 24
    # more than one thread took runs of the last shard (which threads hold the gate's two
    # places from one run to the next is the scheduler's choice), never more than two at once
    assert len(threads_of[slow]) >= 2
    assert 1 <= at_once["most"] <= 2


def test_after_a_failed_shard_request_no_more_shards_are_requested():
    """A full read whose first shard's request fails does not go on to ask for every
    other shard before the error comes back: the requests in flight finish, no more
    start (without the stop, the other tasks would take the remaining shards)."""
    s = RemoteLike(delay=0.03)                  # the others long beside the failing one
    z = make(s)
    s.requests_in_flight = 4
    s.fail["c/0/0"] = StorageError("down", store=s, key="c/0/0")   # the first one asked
    with ez.config.set(threads=2), pytest.raises(StorageError, match="down"):
        z.read()
    shards = {k for w, k, _ in s.requests if w == "get_buffer"}
    assert "c/0/0" in shards
    assert len(shards) <= 4 < 24                # those in flight when the first failed


def test_partial_reads_across_shards_are_concurrent_and_coalesced():
    s = RemoteLike()
    z = make(s)
    # a quarter of the inner chunks of 4 (then 6) shards: an index read + one coalesced
    # range per shard
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z[9:11, :].read(), data()[9:11, :])
        np.testing.assert_array_equal(z[:, 3].read(), data()[:, 3])
    n_shards = 4 + 6
    assert len(s.requests) == 2 * n_shards
    assert {w for w, _, _ in s.requests} == {"get"}
    assert s.most > 2


def test_missing_shards_in_a_remote_read_read_as_fill_value():
    s = RemoteLike()
    z = make(s)
    for key in ("c/1/1", "c/4/2"):
        s.delete(key)
    expected = data()
    expected[16:32, 32:64] = -1
    expected[64:80, 64:96] = -1
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), expected)
        np.testing.assert_array_equal(z[9:11, :].read(), expected[9:11, :])


# the whole array (whole-shard reads) and two rows crossing shard row 3 (ranged reads)
@pytest.mark.parametrize("region", [(slice(None), slice(None)), (slice(49, 51), slice(None))])
def test_truncated_shard_mid_read_is_a_typed_error_naming_store_and_key(region):
    s = RemoteLike()
    z = make(s)
    raw = s.get("c/3/1")
    s.set("c/3/1", raw[: len(raw) // 3])
    with ez.config.set(threads=2), pytest.raises(DecompressionError) as e:
        z[region].read()
    assert "c/3/1" in str(e.value) and s.url in str(e.value)


def test_storage_failure_mid_read_is_raised_typed():
    s = RemoteLike()
    z = make(s)
    s.fail["c/2/3"] = StorageError(f"failed to read {s.url}/c/2/3", store=s, key="c/2/3")
    with ez.config.set(threads=2), pytest.raises(StorageError, match="c/2/3"):
        z.read()


def test_sharded_write_encodes_on_the_cpu_threads_only(monkeypatch):
    """Uploads to a high-latency store run more at once than the CPU threads, but each
    shard's encoding happens inside the CPU gate, never more than ``threads`` at once."""
    state = {"now": 0, "most": 0}
    lock = threading.Lock()
    real_gate = executor.cpu_gate

    class CountingGate:
        def __init__(self):
            self.gate = real_gate()

        def __enter__(self):
            self.gate.acquire()
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])

        def __exit__(self, *exc):
            with lock:
                state["now"] -= 1
            self.gate.release()

    monkeypatch.setattr(executor, "cpu_gate", CountingGate)
    s = RemoteLike()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    with ez.config.set(threads=2):
        z[...] = data()
        np.testing.assert_array_equal(z.read(), data())
    assert 1 <= state["most"] <= 2


def test_cpu_gate_admits_the_configured_threads():
    with ez.config.set(threads=3):
        gate = executor.cpu_gate()
    for _ in range(3):
        assert gate.acquire(blocking=False)
    assert not gate.acquire(blocking=False)
    assert not gate.acquire(timeout=0.01)
    gate.release()
    with gate:  # the place released is taken again, and given back on leaving
        assert not gate.acquire(blocking=False)
    assert gate.acquire(blocking=False)
    for _ in range(3):  # every place back
        gate.release()
    with pytest.raises(ValueError, match="released more often than taken"):
        gate.release()
    with pytest.raises(ValueError, match="at least one"):
        executor.Gate(0)


class BatchCounting(MemoryStore):
    """Counts get_many batches in flight (a chunked read on a batching store)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lock = threading.Lock()
        self.batches: list[int] = []
        self.now = self.most = 0

    def get_many(self, keys):
        keys = list(keys)
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.002)
            return super().get_many(keys)
        finally:
            with self.lock:
                self.now -= 1
                self.batches.append(len(keys))


def test_chunked_read_fetches_batches_ahead_one_at_a_time():
    s = BatchCounting()
    a = data()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4")
    z[...] = a
    s.batches.clear()
    with ez.config.set(threads=2, batch_size=10):
        np.testing.assert_array_equal(z.read(), a)
    n = (SHAPE[0] // CHUNKS[0]) * (SHAPE[1] // CHUNKS[1])
    assert sum(s.batches) == n and max(s.batches) <= 10
    assert s.most <= 2   # fetched ahead on the I/O threads, at most two batches at once


class Streaming(MemoryStore):
    """A high-latency store read by many threads at once (``threaded_gets``, as
    obstore's): array reads take one key per task from it; every read waits a little, one
    chunk's a long time; records the keys read and the most reads at once."""

    high_latency = True
    threaded_gets = True

    def __init__(self, *a, slow: str = "", delay: float = 0.002, **kw):
        super().__init__(*a, **kw)
        self.slow = slow
        self.delay = delay
        self.read: list[str] = []
        self.fail: dict[str, BaseException] = {}
        self.lock = threading.Lock()
        self.now = self.most = 0

    def get_many(self, keys):
        raise AssertionError("a streaming store's chunks are read one key per task")

    def get(self, key, byte_range=None):
        if not key.startswith("c/"):
            return super().get(key, byte_range)
        with self.lock:
            self.read.append(key)
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if key in self.fail:
                raise self.fail[key]
            time.sleep(0.2 if key == self.slow else self.delay)
            return super().get(key, byte_range)
        finally:
            with self.lock:
                self.now -= 1


def test_chunked_read_of_a_streaming_store_decodes_chunks_as_they_arrive(monkeypatch):
    s = Streaming(slow="c/0/0")
    a = data()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4", fill_value=-1)
    z[...] = a
    s.delete("c/5/5")                           # a missing chunk reads as fill_value
    a[20:24, 40:48] = -1
    decoded = []

    def spy(state, plan, on_chunk):
        def seen(task, raw, key):
            decoded.append(key)
            return on_chunk(task, raw, key)
        return fetch.fetch_chunks(state, plan, seen)
    monkeypatch.setattr(importlib.import_module("exzarr.array.reader"), "fetch_chunks", spy)
    s.read.clear()
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), a)
    n = (SHAPE[0] // CHUNKS[0]) * (SHAPE[1] // CHUNKS[1])
    assert sorted(s.read) == sorted(set(s.read)) and len(s.read) == n   # every chunk once
    assert len(decoded) == n
    assert decoded[-1] == "c/0/0"               # the slow one held up none of the others
    assert 2 < s.most <= 32                     # more reads at once than threads


def test_a_streamed_read_of_large_chunks_keeps_fewer_in_flight(monkeypatch):
    """The raw chunks a read holds stay within the byte budget: with chunks of 4 x 8
    float32 (128 B) and a budget of 4 chunks, 4 reads at once at most (and the threads'
    count at least)."""
    s = Streaming()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4")
    z[...] = data()
    s.requests_in_flight = 32
    asked: list[int | None] = []    # the parallelism of each read's run
    run = fetch.executor.run

    def spy(fn, items, *, parallel=None, store=None, **kw):
        if store is s:
            asked.append(parallel)
        return run(fn, items, parallel=parallel, store=store, **kw)
    monkeypatch.setattr(fetch.executor, "run", spy)
    with ez.config.set(threads=2):
        z.read()
        monkeypatch.setattr(fetch, "REMOTE_BYTES_IN_FLIGHT", 4 * 4 * 8 * 4)
        s.most = 0
        np.testing.assert_array_equal(z.read(), data())
        assert s.most <= 4
        monkeypatch.setattr(fetch, "REMOTE_BYTES_IN_FLIGHT", 1)
        s.most = 0
        z.read()
        assert s.most <= 2
    assert asked == [32, 4, 2]


class Buffers(Streaming):
    """A store read by threads whose chunks come as read-only views of its own buffers
    (``get_buffer``, as obstore's, without a copy into ``bytes``); ``get`` of a chunk is
    refused, so a read that copies shows up."""

    def get(self, key, byte_range=None):
        if key.startswith("c/") and byte_range is None:
            raise AssertionError(f"{key} read with get, not get_buffer")
        return super().get(key, byte_range)

    def get_buffer(self, key):
        v = super().get(key)  # (Streaming's: its delays and records for chunks too)
        if v is None:
            return None
        view = memoryview(np.frombuffer(v, dtype=np.uint8).copy())
        return view.toreadonly()


@pytest.mark.parametrize("key", [np.s_[...], np.s_[3:47, 5:66], np.s_[::3, 7:60:5],
                                 np.s_[[1, 50, 95], 3:9], np.s_[21, 42], np.s_[22, 3],
                                 np.s_[20:23, 41:45], np.s_[1:3, 9:12]])
@pytest.mark.parametrize("codec", ["zstd", "blosc", None])
def test_reads_of_a_store_read_by_threads_take_its_buffers_without_a_copy(key, codec):
    s = Buffers()
    a = data()
    compressors = {"zstd": {"name": "zstd", "configuration": {"level": 1}},
                   "blosc": {"name": "blosc", "configuration": {"cname": "lz4"}},
                   None: None}[codec]
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4", fill_value=-1,
                  compressors=compressors)
    z[...] = a
    with pytest.raises(AssertionError, match="not get_buffer"):  # (it refuses copies)
        s.get("c/0/0")
    MemoryStore.delete(s, "c/5/5")  # a missing chunk reads as fill_value
    a[20:24, 40:48] = -1
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z[key].read(), a[key])


def test_a_wrapper_of_a_store_read_by_threads_is_read_one_key_per_task():
    """A wrapper (here retries) takes the inner store's ``threaded_gets``: reads through it
    still run one key per task, many at once (its ``get_many`` is never asked)."""
    from exzarr.storage import RetryingStore
    s = Streaming()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4")
    z[...] = data()
    wrapped = RetryingStore(s)
    assert wrapped.threaded_gets and wrapped.high_latency
    s.read.clear()
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(ez.open(wrapped, mode="r+").read(), data())
    assert sorted(s.read) == sorted(set(s.read)) and len(s.read) == 24 * 16   # each once
    assert s.most > 2


def test_a_failed_request_in_a_stream_is_a_typed_error():
    s = Streaming()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4")
    z[...] = data()
    s.fail["c/3/2"] = StorageError("read of store 'x', key 'c/3/2' failed", store=s,
                                   key="c/3/2")
    with ez.config.set(threads=2), pytest.raises(StorageError, match="c/3/2"):
        z.read()


def test_after_a_failed_request_no_more_are_started():
    """A read whose first chunk's request fails (after the store's retries) does not go
    on to ask for every other chunk before the error comes back: the requests in flight
    finish, no more start (the other workers would otherwise take the rest)."""
    s = Streaming(delay=0.03)                   # the others long beside the failing one
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, dtype="f4")
    z[...] = data()
    n = (SHAPE[0] // CHUNKS[0]) * (SHAPE[1] // CHUNKS[1])
    s.fail["c/0/0"] = StorageError("down", store=s, key="c/0/0")   # the first one asked
    s.requests_in_flight = 4
    s.read.clear()
    with ez.config.set(threads=2), pytest.raises(StorageError, match="down"):
        z.read()
    assert len(s.read) <= 4 < n                 # those in flight when the first failed


class RangeTracking(MemoryStore):
    """A local-like store (not high latency) whose ranged reads of inner chunks come back
    as buffers the test can see alive: how many fetched ranges are held at once, and how
    big each was."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lock = threading.Lock()
        self.live = self.most_live = 0
        self.sizes: list[int] = []

    def _dead(self):
        with self.lock:
            self.live -= 1

    def get(self, key, byte_range=None):
        v = super().get(key, byte_range)
        if v is None or byte_range is None or byte_range[0] < 0 or not key.startswith("c/"):
            return v  # whole values, shard indexes (the suffix) and metadata
        buf = np.frombuffer(v, dtype=np.uint8).copy()
        weakref.finalize(buf, self._dead)
        with self.lock:
            self.live += 1
            self.most_live = max(self.most_live, self.live)
            self.sizes.append(buf.nbytes)
        return memoryview(buf)


def test_local_partial_reads_across_shards_hold_one_range_per_thread():
    s = RangeTracking()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1)
    z[...] = data()
    with ez.config.set(threads=2):
        # rows 9-10 of 4 shards (a quarter of their inner chunks): one coalesced range each
        np.testing.assert_array_equal(z[9:11, :].read(), data()[9:11, :])
    assert len(s.sizes) == 4
    assert 1 <= s.most_live <= 2  # a range is released once decoded: one per thread at most


def test_local_full_reads_of_shards_are_read_in_bounded_ranges(monkeypatch):
    s = RangeTracking()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1,
                  compressor=None)
    z[...] = data()
    inner = 4 * 8 * 4  # bytes of one uncompressed inner chunk
    monkeypatch.setattr(sharded, "RANGE_TASK_BYTES", 3 * inner)
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z[...].read(), data())
    # every inner chunk read once, in ranges of at most 3 of them, at most one per thread
    assert sum(s.sizes) == 24 * 16 * inner
    assert max(s.sizes) <= 3 * inner and len(s.sizes) == 24 * 6  # 16 = 3+3+3+3+3+1
    assert 1 <= s.most_live <= 2


class VanishingShard(MemoryStore):
    """A local-like store whose shard ``c/3/1`` is deleted right after its index is read
    (a concurrent delete between the index and the inner chunks)."""

    def get(self, key, byte_range=None):
        v = super().get(key, byte_range)
        if key == "c/3/1" and byte_range is not None and byte_range[0] < 0:
            self.delete(key)
        return v


@pytest.mark.parametrize("region", [(slice(None), slice(None)), (slice(49, 51), slice(None))])
def test_local_shard_truncated_or_deleted_mid_read_is_a_typed_error(region, tmp_path):
    for store in (ez.storage.LocalStore(str(tmp_path / "a.zarr")), MemoryStore()):
        z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1)
        z[...] = data()
        raw = store.get("c/3/1")
        # 10 bytes of inner chunks, then the index (at the end) as it was: every inner
        # chunk the read needs lies past the end
        store.set("c/3/1", raw[:10] + raw[-(4 * 4 * 16 + 4):])
        with ez.config.set(threads=2), pytest.raises(DecompressionError) as e:
            z[region].read()
        assert "c/3/1" in str(e.value) and "truncated" in str(e.value)
    s = VanishingShard()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1)
    z[...] = data()
    with ez.config.set(threads=2), pytest.raises(DecompressionError, match="c/3/1.*retry"):
        z[region].read()


class _CountingLocal(ez.storage.LocalStore):
    """A local store that counts ``read_into`` calls and can delete a shard right after
    its index is read; ``direct=False``: no files for compiled code to read (the Python
    route of ``array/sharded``, not that of ``array/shard_files``)."""

    def __init__(self, root, vanish=None, direct=True):
        super().__init__(root)
        self.into_calls, self.vanish, self.direct = 0, vanish, direct

    def direct_reads(self, keys):
        return super().direct_reads(keys) if self.direct else None

    def get(self, key, byte_range=None):
        v = super().get(key, byte_range)
        if key == self.vanish and byte_range is not None and byte_range[0] < 0:
            self.delete(key)
        return v

    def read_into(self, key, start, out):
        self.into_calls += 1
        return super().read_into(key, start, out)


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("threads", [1, 3])
def test_local_sharded_reads_go_into_a_reused_buffer(tmp_path, threads, direct, monkeypatch):
    """Local shards' coalesced ranges are read into each thread's buffer (by compiled code,
    or by ``read_into`` from Python), decoded before the next range overwrites it: every
    region reads as NumPy says."""
    monkeypatch.setattr(shard_files, "MIN_INNER_BYTES", 0)  # (small inner chunks here)
    store = _CountingLocal(str(tmp_path / "a.zarr"), direct=direct)
    z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1)
    d = data()
    z[...] = d
    rng = np.random.default_rng(5)
    with ez.config.set(threads=threads):
        for _ in range(12):
            r0, c0 = rng.integers(0, SHAPE[0] - 1), rng.integers(0, SHAPE[1] - 1)
            r1, c1 = rng.integers(r0 + 1, SHAPE[0] + 1), rng.integers(c0 + 1, SHAPE[1] + 1)
            np.testing.assert_array_equal(z[r0:r1, c0:c1].read(), d[r0:r1, c0:c1])
    assert (store.into_calls == 0) == (direct and jit.enabled())


def test_memory_store_reads_ranges_with_get(monkeypatch):
    """A store without ``reads_into`` is never asked to read into a buffer."""
    store = MemoryStore()
    assert not store.reads_into
    z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1)
    z[...] = data()
    monkeypatch.setattr(MemoryStore, "read_into", lambda *a: pytest.fail("read_into called"))
    np.testing.assert_array_equal(z[5:40, 3:90].read(), data()[5:40, 3:90])


@pytest.mark.parametrize("direct", [True, False])
def test_local_shard_deleted_after_its_index_is_a_typed_error(tmp_path, direct, monkeypatch):
    """A shard deleted between the read of its index and that of its inner chunks: read
    through the store (the Python route), or by the compiled planning (``direct``: deleted
    once its batch is planned)."""
    monkeypatch.setattr(shard_files, "MIN_INNER_BYTES", 0)
    store = _CountingLocal(str(tmp_path / "a.zarr"), vanish="c/3/1", direct=direct)
    z = ez.create(store, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4", fill_value=-1)
    z[...] = data()
    planned = shard_plan.CompiledShards._plan

    def plan_then_delete(self, s0, s1):
        out = planned(self, s0, s1)
        if store.exists("c/3/1") and "c/3/1" in {self._key(s) for s in range(s0, s1)}:
            store.delete("c/3/1")
        return out
    monkeypatch.setattr(shard_plan.CompiledShards, "_plan", plan_then_delete)
    with ez.config.set(threads=2), pytest.raises(DecompressionError, match="c/3/1.*retry"):
        z[49:51, :].read()


ZSTD = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}


def test_whole_shard_reads_with_empty_inner_chunks_and_partial_boxes():
    """Shards read whole (most of their inner chunks wanted) hand their inner chunks over
    as arrays (:class:`~exzarr.array.sharded.ShardParts`): empty inner chunks read as
    fill_value, boxes that take part of an inner chunk, every thread count."""
    s = RemoteLike()
    z = make(s, compressor=ZSTD)
    expected = data()
    z[4:8, 8:16] = -1          # one inner chunk all fill_value: not stored
    z[20:24, 0:8] = -1         # and two more, in another shard
    expected[4:8, 8:16] = expected[20:24, 0:8] = -1
    s.requests.clear()
    for threads in (1, 2, 3):
        with ez.config.set(threads=threads):
            np.testing.assert_array_equal(z.read(), expected)
            np.testing.assert_array_equal(z[1:95, 3:127].read(), expected[1:95, 3:127])
    assert {w for w, _, _ in s.requests} == {"get_buffer"}  # (every shard read whole)


def test_shard_parts_are_parts_with_labels_made_when_taken():
    from exzarr.array.sharded import ShardParts
    tasks = ["t0", "t1", "t2"]
    parts = ShardParts(tasks, np.array([5, 6, 7]), np.array([0, 10, 30]),
                       np.array([10, 30, 31]), "c/1/2", np.array([[0, 1], [0, 2], [3, 0]]))
    assert len(parts) == 3
    assert list(parts) == [("t0", 0, 10, "c/1/2 (inner chunk (0, 1))"),
                           ("t1", 10, 30, "c/1/2 (inner chunk (0, 2))"),
                           ("t2", 30, 31, "c/1/2 (inner chunk (3, 0))")]
    tail = parts[1:]
    assert isinstance(tail, ShardParts) and tail.at.tolist() == [6, 7]
    assert tail[1] == ("t2", 30, 31, "c/1/2 (inner chunk (3, 0))")


#: the bytes of a shard's index in :func:`make`'s arrays: 4 x 4 (offset, nbytes) uint64
#: pairs and a crc32c, at the shard's end
INDEX_BYTES = 16 * 16 + 4


def _shard_index(raw: bytes) -> np.ndarray:
    """A copy of the (offset, nbytes) rows of a shard's index, in C order of its inner
    chunks."""
    return np.frombuffer(raw[-INDEX_BYTES:-4], dtype="<u8").reshape(16, 2).copy()


def test_a_damaged_inner_chunk_in_a_whole_shard_read_is_named_in_the_error():
    """The compiled decoder refuses a frame that is not zstd; the checked route then says
    which inner chunk of which shard (the label made only now)."""
    s = RemoteLike()
    z = make(s, compressor=ZSTD)
    raw = bytearray(s.get("c/1/1"))
    off = int(_shard_index(bytes(raw))[1 * 4 + 2, 0])  # inner chunk (1, 2)
    raw[off:off + 4] = b"\0\0\0\0"  # not a zstd frame's magic number
    s.set("c/1/1", bytes(raw))
    with ez.config.set(threads=2), pytest.raises(DecompressionError) as e:
        z.read()
    assert "c/1/1 (inner chunk (1, 2))" in str(e.value) and s.url in str(e.value)


def test_an_index_entry_past_the_shards_end_is_a_typed_error():
    """An index whose entry points past the shard's end (a damaged index with a valid
    checksum) is refused naming the shard, before any decoding."""
    from exzarr.codecs.checksum import crc32c_value
    s = RemoteLike()
    z = make(s, compressor=ZSTD)
    raw = s.get("c/2/0")
    index = _shard_index(raw)
    index[1 * 4 + 1, 1] = len(raw)  # inner chunk (1, 1): longer than the whole shard
    body = index.tobytes()
    s.set("c/2/0", raw[:-INDEX_BYTES] + body + crc32c_value(body).to_bytes(4, "little"))
    with ez.config.set(threads=2), pytest.raises(DecompressionError) as e:
        z.read()
    assert "c/2/0" in str(e.value) and "past the end" in str(e.value)


# -- chunked reads from a store read by threads: placement first ----------------------------
reader = importlib.import_module("exzarr.array.reader")


def _count_placements(monkeypatch) -> list[bool]:
    """The answers of every compiled placement (``placed``) of the reads that follow."""
    answers: list[bool] = []
    real = reader._placer

    def counting(scatter):
        placed = real(scatter)
        if placed is None:
            return None

        def spy(task, raw):
            answers.append(placed(task, raw))
            return answers[-1]
        return spy
    monkeypatch.setattr(reader, "_placer", counting)
    return answers


@pytest.mark.parametrize("key", [np.s_[...], np.s_[3:47, 5:66], np.s_[::2, 7:60:3],
                                 np.s_[9, :], np.s_[:, 33], np.s_[44:, 1:]])
@pytest.mark.parametrize("threads", [1, 2])
def test_streamed_chunked_reads_place_chunks_first_where_none_goes_straight_in(
        key, threads, monkeypatch):
    """A chunk whose box cannot be decoded straight into the output (the output's rows are
    wider than a chunk's) is placed by the compiled call before its slices and view are
    made: edge chunks, a missing chunk (fill_value), strides and int indices read as
    NumPy does, and each stored chunk is placed once (never tried twice)."""
    s = Streaming(delay=0)
    a = (np.arange(50 * 70) % 251).astype("f4").reshape(50, 70)
    z = ez.create(s, shape=a.shape, chunks=(8, 16), dtype="f4", fill_value=-1,
                  compressor=ZSTD)
    z[...] = a
    s.delete("c/2/1")
    a[16:24, 16:32] = -1
    answers = _count_placements(monkeypatch)
    s.read.clear()
    with ez.config.set(threads=threads):
        np.testing.assert_array_equal(z[key], a[key])
    stored = [k for k in s.read if k != "c/2/1"]
    assert len(set(s.read)) == len(s.read)
    if jit.enabled():
        # (chunks of one zstd block are never decoded only in part: every stored chunk is
        # placed, once)
        assert all(answers) and len(answers) == len(stored)
        if key is Ellipsis:
            assert len(stored) == 34


def test_streamed_reads_of_chunks_as_wide_as_the_array_decode_straight_into_it(monkeypatch):
    """Chunks that span whole rows of the output are decoded straight into it (no
    placement call for a whole chunk; the edge chunk, shorter, is placed)."""
    s = Streaming(delay=0)
    a = (np.arange(55 * 16) % 251).astype("f4").reshape(55, 16)
    z = ez.create(s, shape=a.shape, chunks=(8, 16), dtype="f4", compressor=ZSTD)
    z[...] = a
    answers = _count_placements(monkeypatch)
    s.read.clear()
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z.read(), a)
    assert len(s.read) == 7
    if jit.enabled():
        assert answers == [True]   # the last chunk (7 of its 8 rows in the array)


def test_a_damaged_chunk_placed_first_is_named_in_the_error():
    s = Streaming(delay=0)
    z = ez.create(s, shape=(50, 70), chunks=(8, 16), dtype="f4", compressor=ZSTD)
    z[...] = np.ones((50, 70), "f4")
    s.set("c/3/2", b"\0\0\0\0" + s.get("c/3/2")[4:])  # not a zstd frame's magic number
    with ez.config.set(threads=2), pytest.raises(DecompressionError) as e:
        z.read()
    assert "c/3/2" in str(e.value) and s.url in str(e.value)


@pytest.mark.parametrize("shape,chunks,whole", [
    ((10, 16), (2, 8), False),     # a chunk is half a row of the output
    ((10, 8), (2, 8), True),       # whole rows
    ((10, 1, 8), (2, 1, 8), True),  # a length-1 dimension between
    ((4, 10, 8), (1, 2, 8), True),  # one plane's whole rows
    ((4, 10, 8), (2, 2, 8), False),  # rows of two planes: not one run
    ((12,), (4,), True),
    ((3, 8), (4, 8), False),        # the output smaller than a chunk
])
def test_whole_chunk_regions_contiguous(shape, chunks, whole):
    view = np.empty(shape, "f4")
    assert reader._whole_regions_contiguous(view, chunks) is whole
    assert reader._whole_regions_contiguous(view[..., ::2], chunks) is False
