"""Chunk writes to a remote (batching) store keep several uploads in flight, more than
the CPU threads and no more than the store takes (``requests_in_flight``) or the byte
budget allows, while the encoding itself runs on the configured threads; local stores
write on the configured threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import exzarr as ez
from exzarr.array import batch_encode, fetch
from exzarr.storage import MemoryStore


class SlowStore(MemoryStore):
    """Each set waits a little, like an upload; records how many run at once."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def set(self, key, value):
        if key.startswith("c/") or key.startswith("c."):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(0.01)
            with self.lock:
                self.now -= 1
        return super().set(key, value)


class RemoteLikeStore(SlowStore):
    high_latency = True  # what object stores (fsspec, obstore) declare


class RemoteUploadStore(RemoteLikeStore):
    keeps_values = False  # an upload copies the frame (as object stores do)


@pytest.mark.parametrize("cls, shards", [(RemoteLikeStore, None), (RemoteLikeStore, (8, 64)),
                                         (SlowStore, None)])
def test_uploads_in_flight(cls, shards):
    store = cls()
    kw = {"shards": shards} if shards else {}
    z = ez.create(store, shape=(64, 64), chunks=(4, 64) if shards is None else (2, 64),
                  dtype="f4", **kw)
    data = np.arange(64 * 64, dtype="f4").reshape(64, 64)
    with ez.config.set(threads=2):
        z[:] = data
    np.testing.assert_array_equal(z.read(), data)
    if cls is RemoteLikeStore:
        assert store.most > 2
        assert store.most <= store.requests_in_flight
    else:
        assert store.most <= 2


def _write_many(store, threads=2):
    z = ez.create(store, shape=(256, 64), chunks=(4, 64), dtype="f4", compressor="zstd")
    data = np.arange(256 * 64, dtype="f4").reshape(256, 64)
    with ez.config.set(threads=threads):
        z[:] = data
    np.testing.assert_array_equal(z.read(), data)


def test_uploads_fill_what_the_store_takes():
    store = RemoteLikeStore()       # 64 chunks, 10 ms per upload
    store.requests_in_flight = 16
    _write_many(store)
    assert 8 < store.most <= 16     # well past the threads, within the store's limit
    store = RemoteLikeStore()
    store.requests_in_flight = 3
    _write_many(store)
    assert store.most == 3


def test_uploads_in_flight_stay_within_the_byte_budget(monkeypatch):
    # chunks of 4 x 64 float32 (1 KiB): a budget of 4 chunks leaves 4 tasks at most
    monkeypatch.setattr(fetch, "REMOTE_BYTES_IN_FLIGHT", 4 * 4 * 64 * 4)
    store = RemoteLikeStore()
    _write_many(store)
    assert 2 < store.most <= 4


def test_encoding_runs_on_the_configured_threads_while_uploads_wait(monkeypatch):
    """Many uploads in flight, but never more encodings at once than threads."""
    lock = threading.Lock()
    now, most = [0], [0]
    orig = batch_encode.BatchEncoder.encode

    def counted(self, *a, **kw):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            time.sleep(0.002)   # long enough for other tasks to try at the same time
            return orig(self, *a, **kw)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(batch_encode.BatchEncoder, "encode", counted)
    store = RemoteUploadStore()
    _write_many(store)
    assert store.most > 2           # uploads in flight beyond the threads
    assert 1 <= most[0] <= 2        # encodings: the threads' count
