"""Chunk writes to a remote (batching) store keep several uploads in flight, more than
the CPU threads; local stores write on the configured threads."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import exzarr as ez
from exzarr.array.fetch import REMOTE_WRITES_IN_FLIGHT
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
        assert store.most <= REMOTE_WRITES_IN_FLIGHT
    else:
        assert store.most <= 2
