"""The shard-index cache of array handles (exzarr.array.index_cache) and the store calls it
rests on: stores without tagged reads never use it (their reads name no version, and a
conditional read is refused, not faked).  Its use against a real S3 server (kept indexes,
rewrites by other handles) is tested in tests/storage/test_obstore.py."""

from __future__ import annotations

import numpy as np
import pytest

import exzarr as ez
from exzarr.array.index_cache import ShardIndexCache
from exzarr.errors import StorageError
from exzarr.storage import MemoryStore


def _index(n: int) -> np.ndarray:
    return np.zeros((n, 2), dtype="<u8")  # n inner chunks: 16 n bytes


def test_entries_are_evicted_least_recently_used_within_the_byte_bound():
    c = ShardIndexCache(max_bytes=3 * 16 * 4)           # three 4-chunk indexes
    for k in "abc":
        c.put(k, _index(4), f"t{k}")
    assert c.get("a") is not None                        # "a" is now the most recent
    c.put("d", _index(4), "td")
    assert len(c) == 3 and c.get("b") is None            # "b" went, "a" stayed
    assert c.get("a")[1] == "ta" and c.get("d")[1] == "td"
    c.put("e", _index(20), "te")                         # larger than the bound: not kept
    assert c.get("e") is None and len(c) == 3


def test_discard_only_drops_the_version_it_names():
    c = ShardIndexCache()
    c.put("k", _index(2), "v1")
    c.discard("k", "v0")                                 # an older reader's stale version
    assert c.get("k")[1] == "v1"
    c.put("k", _index(2), "v2")                          # replaced in place
    c.discard("k", "v1")
    assert c.get("k")[1] == "v2"
    c.discard("k")
    assert c.get("k") is None
    c.put("k", _index(2), "v3")
    c.clear()
    assert len(c) == 0


def test_stores_without_tagged_reads_name_no_version_and_refuse_conditions():
    s = MemoryStore()
    s.set("k", b"0123456789")
    assert s.supports_tagged_reads is False
    assert s.get_tagged("k", (-3, None)) == (b"789", None)
    assert s.get_tagged("gone") == (None, None)
    with pytest.raises(StorageError, match="cannot make reads conditional"):
        s.get_ranges_tagged("k", [(0, 2)], "etag")


def test_sharded_reads_on_other_stores_keep_no_index():
    z = ez.create("memory://", shape=(32, 32), chunks=(4, 4), shards=(16, 16), dtype="i4")
    data = np.arange(32 * 32, dtype="i4").reshape(32, 32)
    z[...] = data
    assert z[5, 7].read() == data[5, 7] and z[20:22, 3:9].read().tolist() == \
        data[20:22, 3:9].tolist()
    assert len(z._state.shard_indexes) == 0
