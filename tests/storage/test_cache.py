"""CachingStore passes the shared suite and caches what it should."""

import numpy as np
import pytest

import exzarr as ez
from exzarr.storage import CachingStore, LocalStore, MemoryStore
from exzarr.testing.stores import StoreTests


class TestCachingMemory(StoreTests):
    @pytest.fixture
    def store(self):
        return CachingStore(MemoryStore(), max_bytes=1 << 20)


class TestCachingLocal(StoreTests):
    @pytest.fixture
    def store(self, tmp_path):
        return CachingStore(LocalStore(str(tmp_path / "d")), max_bytes=4096)


class Counting(MemoryStore):
    def __init__(self):
        super().__init__()
        self.gets = 0

    def get(self, key, byte_range=None):
        self.gets += 1
        return super().get(key, byte_range)


def test_hits_skip_the_inner_store_and_writes_stay_coherent():
    inner = Counting()
    s = CachingStore(inner)
    z = ez.create(s, shape=(8, 8), chunks=(4, 4), dtype="i4")
    z[...] = np.arange(64).reshape(8, 8)
    inner.gets = 0
    for _ in range(3):
        assert ez.open(s).read().sum() == np.arange(64).sum()
    assert inner.gets <= 5  # metadata and four chunks fetched at most once
    assert s.cache_stats["hits"] > 0
    z[0, 0] = 100  # a write through the cache is seen at once
    assert ez.open(s)[0, 0].read() == 100


def test_external_changes_need_invalidate_and_lru_bound():
    inner = MemoryStore()
    s = CachingStore(inner, max_bytes=10)
    inner.set("k", b"abc")
    assert s.get("k") == b"abc"
    inner.set("k", b"xyz")  # changed behind the cache's back
    assert s.get("k") == b"abc"
    s.invalidate("k")
    assert s.get("k") == b"xyz"
    inner.set("big", b"0123456789abc")  # larger than the whole cache: never cached
    assert s.get("big") == b"0123456789abc" and "big" not in s._lru
    for i in range(5):
        inner.set(f"x{i}", b"123")
        s.get(f"x{i}")
    assert s._size <= 10
