import threading

import pytest

from exzarr.storage import MemoryStore, open_store
from exzarr.testing.stores import StoreTests


class TestMemoryStore(StoreTests):
    @pytest.fixture
    def store(self):
        return MemoryStore()


def test_same_name_same_data():
    a = MemoryStore("shared-name-test")
    b = MemoryStore("shared-name-test")
    a.set("k", b"v")
    assert b.get("k") == b"v"
    c = open_store("memory://shared-name-test", mode="r")
    assert c.get("k") == b"v" and c.read_only
    assert a.url == "memory://shared-name-test"
    MemoryStore.discard("shared-name-test")
    assert MemoryStore("shared-name-test").get("k") is None
    MemoryStore.discard("shared-name-test")


def test_anonymous_stores_are_distinct_and_reachable_by_url():
    a, b = MemoryStore(), MemoryStore()
    a.set("k", b"1")
    assert b.get("k") is None
    assert a.url != b.url
    assert open_store(a.url).get("k") == b"1"


def test_bad_names():
    assert MemoryStore("/a/b/").url == "memory://a/b"
    for bad in ["", "/", 3]:
        with pytest.raises(ValueError):
            MemoryStore(bad)


def test_threads_share_named_store():
    name = "thread-shared"
    MemoryStore.discard(name)

    def w(i):
        MemoryStore(name).set(f"k{i}", b"x")

    ts = [threading.Thread(target=w, args=(i,)) for i in range(16)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert len(list(MemoryStore(name).list())) == 16
    MemoryStore.discard(name)
