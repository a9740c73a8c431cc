"""Shared pytest suites every :class:`~exzarr.storage.Store` implementation must pass.

Subclass one and provide a ``store`` fixture that yields a fresh, empty store::

    import pytest
    from exzarr.testing.stores import StoreTests

    class TestMyStore(StoreTests):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(tmp_path / "data")
            yield s
            s.close()

:class:`StoreTests` needs a writable store and checks reads, writes, deletes, listing,
byte ranges, batches, unusual keys, concurrency and read-only views.  For a store that
cannot write (``supports_writes = False``, e.g. HTTP), subclass
:class:`ReadableStoreTests` and override :meth:`ReadableStoreTests.populate` to put the
test data where the store will find it.
"""

from __future__ import annotations

import threading

import pytest

from ..errors import ReadOnlyError
from ..storage.base import Store
from ..storage.keys import InvalidKeyError

__all__ = ["ReadableStoreTests", "StoreTests"]

VALUE = bytes(range(256)) * 4  # 1024 bytes, every byte value, position-dependent

#: (start, stop) -> expected slice; includes open-ended, suffix and past-the-end ranges
RANGES = [
    (0, 10), (5, 10), (100, 612), (1000, 1024), (1023, 1024), (0, 1),
    (10, None), (0, None), (1023, None),
    (-1, None), (-16, None), (-1024, None), (-5000, None),
    (1000, 5000), (1024, None), (1024, 2048), (5000, None), (5000, 6000),
    (7, 7), (9, 3), (10, -10), (-20, -10),
]

UNICODE_KEYS = ["grüße/daten", "数据/块/0.0", "ключ", "emoji-\U0001F600/x", "a b/c d"]
NESTED_KEY = "/".join(f"level{i}" for i in range(24)) + "/c/0/0/0"


class ReadableStoreTests:
    """Read-side tests; data is put in place with :meth:`populate`."""

    #: a "directory" (a prefix of other keys) reads as missing; static HTTP servers
    #: answer a directory URL with a listing page, so HTTP suites set this False
    directories_are_missing = True

    def populate(self, store: Store, items: dict[str, bytes]) -> None:
        """Make ``items`` readable through ``store`` (default: ``store.set_many``)."""
        store.set_many(items)

    # -- get ---------------------------------------------------------------------
    def test_is_a_store(self, store):
        assert isinstance(store, Store)
        assert isinstance(store.url, str) and store.url
        assert store.url in repr(store)

    def test_get_missing_is_none(self, store):
        assert store.get("missing") is None
        assert store.get("no/such/key") is None
        assert store.get("missing", (0, 10)) is None
        assert store.get("missing", (-4, None)) is None
        assert store.get("missing", (3, 3)) is None
        assert store.exists("missing") is False
        assert store.getsize("missing") is None

    def test_get_values(self, store):
        items = {"zarr.json": b'{"zarr_format": 3}', "a/c/0": VALUE, "a/c/1": b"x"}
        self.populate(store, items)
        for k, v in items.items():
            assert store.get(k) == v
            assert store.exists(k)
            assert store.getsize(k) == len(v)

    def test_whole_buffer_and_its_version(self, store):
        """get_buffer / get_buffer_tagged give the value; the tag is None unless the
        store names versions, and then it is get_tagged's and changes with the value."""
        self.populate(store, {"k": VALUE})
        assert store.get_buffer("missing") is None
        assert store.get_buffer_tagged("missing") == (None, None)
        assert bytes(store.get_buffer("k")) == VALUE
        buf, tag = store.get_buffer_tagged("k")
        assert bytes(buf) == VALUE
        if not store.supports_tagged_reads:
            assert tag is None
            return
        assert isinstance(tag, str) and tag == store.get_tagged("k")[1]
        if store.read_only or not store.supports_writes:
            return
        store.set("k", VALUE[::-1])
        buf, tag2 = store.get_buffer_tagged("k")
        assert bytes(buf) == VALUE[::-1] and tag2 and tag2 != tag

    def test_read_unless_changed(self, store):
        """get_unless: None while the value is the version named (the caller holds it),
        else the value and its tag; (None, None) once it is gone.  Without version tags
        it reads the value again."""
        self.populate(store, {"k": VALUE})
        value, tag = store.get_tagged("k")
        if tag is None:
            assert store.get_unless("k", "any") == (VALUE, None)
            return
        assert store.get_unless("k", tag) is None
        assert store.get_unless("k", tag + "x") == (VALUE, tag)
        if store.read_only or not store.supports_writes:
            return
        store.set("k", VALUE[::-1])
        changed, tag2 = store.get_unless("k", tag)
        assert changed == VALUE[::-1] and tag2 and tag2 != tag
        store.delete("k")
        assert store.get_unless("k", tag2) == (None, None)

    def test_get_returns_bytes(self, store):
        self.populate(store, {"k": b"abc"})
        assert type(store.get("k")) is bytes
        assert type(store.get("k", (1, 2))) is bytes

    def test_empty_value(self, store):
        self.populate(store, {"empty": b""})
        assert store.get("empty") == b""
        assert store.exists("empty")
        assert store.getsize("empty") == 0
        for r in [(0, 10), (0, None), (-5, None), (3, None), (2, 2)]:
            assert store.get("empty", r) == b"", r

    def test_directory_like_key_is_missing(self, store):
        if not self.directories_are_missing:
            pytest.skip("this back end serves directory URLs as values (listing pages)")
        self.populate(store, {"dir/child": b"1"})
        assert store.get("dir") is None
        assert store.read_into("dir", 0, memoryview(bytearray(4))) is None
        assert store.exists("dir") is False

    # -- byte ranges --------------------------------------------------------------
    def test_byte_ranges(self, store):
        self.populate(store, {"v": VALUE})
        for start, stop in RANGES:
            assert store.get("v", (start, stop)) == VALUE[start:stop], (start, stop)

    def test_read_into(self, store):
        """``read_into`` gives what a ranged ``get`` gives, into the caller's buffer."""
        self.populate(store, {"v": VALUE, "s": b"0123456789"})
        n = len(VALUE)
        for start, size in [(0, 16), (1000, 4000), (n - 5, 5), (n - 5, 50), (n, 8),
                            (n + 100, 8), (0, n)]:
            out = memoryview(bytearray(b"\xee" * (size + 3)))[:size]
            got = store.read_into("v", start, out)
            want = VALUE[start:start + size]
            assert got == len(want), (start, size)
            assert bytes(out[:got]) == want, (start, size)
            assert bytes(out[got:]) == b"\xee" * (size - got)  # nothing past the value
        assert store.read_into("missing", 0, memoryview(bytearray(4))) is None
        with pytest.raises(ValueError):
            store.read_into("s", -2, memoryview(bytearray(4)))

    def test_byte_range_none_is_whole_value(self, store):
        self.populate(store, {"v": VALUE})
        assert store.get("v", None) == VALUE

    def test_byte_ranges_small_value(self, store):
        self.populate(store, {"s": b"0123456789"})
        for r in [(2, 5), (5, None), (-3, None), (8, 100), (-100, None), (10, None), (11, 20)]:
            assert store.get("s", r) == b"0123456789"[r[0]:r[1]], r

    def test_large_value(self, store):
        big = bytes(range(251)) * 8000  # ~2 MB, not a power of two
        self.populate(store, {"big/c/0": big})
        assert store.get("big/c/0") == big
        assert store.get("big/c/0", (1_000_003, 1_500_007)) == big[1_000_003:1_500_007]
        assert store.get("big/c/0", (-12345, None)) == big[-12345:]

    # -- batches ------------------------------------------------------------------
    def test_get_many(self, store):
        items = {f"g/c/{i}": bytes([i]) * (i + 1) for i in range(25)}
        items["g/empty"] = b""
        self.populate(store, items)
        want = list(items) + ["g/missing", "nope"]
        got = store.get_many(want)
        assert set(got) == set(want)
        for k in items:
            assert got[k] == items[k], k
        assert got["g/missing"] is None and got["nope"] is None
        assert store.get_many([]) == {}

    def test_get_ranges(self, store):
        self.populate(store, {"r/a": VALUE, "r/b": b"0123456789", "r/e": b""})
        reqs = [("r/a", (0, 4)), ("r/b", None), ("r/missing", (0, 4)), ("r/a", (-8, None)),
                ("r/b", (3, None)), ("r/b", (8, 100)), ("r/b", (50, None)), ("r/a", (1020, 1030)),
                ("r/e", (0, 1)), ("r/a", None), ("r/a", (0, 4)), ("r/missing", None),
                ("r/b", (-100, None)), ("r/a", (5, 5))]
        vals = {"r/a": VALUE, "r/b": b"0123456789", "r/e": b""}
        got = store.get_ranges(reqs)
        assert len(got) == len(reqs)
        for (k, r), g in zip(reqs, got):
            if k not in vals:
                assert g is None, (k, r)
            else:
                assert g == (vals[k] if r is None else vals[k][r[0]:r[1]]), (k, r)
        assert store.get_ranges([]) == []

    def test_get_ranges_many(self, store):
        items = {f"m/c/{i}": bytes([i % 256]) * 100 + bytes(range(100)) for i in range(40)}
        self.populate(store, items)
        reqs = [(k, (-100, None) if i % 2 else (90, 110)) for i, k in enumerate(items)]
        got = store.get_ranges(reqs)
        for (k, r), g in zip(reqs, got):
            assert g == items[k][r[0]:r[1]], (k, r)

    # -- keys ---------------------------------------------------------------------
    def test_unicode_keys(self, store):
        items = {k: k.encode() for k in UNICODE_KEYS}
        self.populate(store, items)
        for k, v in items.items():
            assert store.get(k) == v, k
            assert store.get(k, (1, 3)) == v[1:3], k
        assert store.get_many(list(items)) == items

    def test_deeply_nested_key(self, store):
        self.populate(store, {NESTED_KEY: b"deep"})
        assert store.get(NESTED_KEY) == b"deep"
        assert store.get(NESTED_KEY, (-2, None)) == b"ep"

    def test_dotted_names_are_keys(self, store):
        items = {".zarray": b"{}", "a/.zattrs": b"{}", "a/0.0": b"1", "a..b": b"2"}
        self.populate(store, items)
        for k, v in items.items():
            assert store.get(k) == v, k

    # -- read only ----------------------------------------------------------------
    def test_read_only_view_refuses_writes(self, store):
        self.populate(store, {"ro/k": b"data"})
        ro = store.with_read_only(True)
        assert ro.read_only
        assert ro.get("ro/k") == b"data"
        with pytest.raises(ReadOnlyError) as e:
            ro.set("ro/k", b"other")
        assert "read-only" in str(e.value) and "ro/k" in str(e.value)
        with pytest.raises(ReadOnlyError):
            ro.set_many({"ro/x": b"1"})
        with pytest.raises(ReadOnlyError):
            ro.delete("ro/k")
        with pytest.raises(ReadOnlyError):
            ro.delete_prefix("ro/")
        assert ro.get("ro/k") == b"data"
        assert store.get("ro/k") == b"data"
        assert isinstance(ro.with_read_only(True), Store)


class StoreTests(ReadableStoreTests):
    """The full suite for writable stores (``store`` fixture: fresh, empty, writable)."""

    #: threads and writes per thread in the concurrency test (lower them for slow servers)
    concurrent_threads = 8
    concurrent_writes = 12

    def test_writable(self, store):
        assert store.supports_writes and not store.read_only

    def test_set_get_overwrite(self, store):
        store.set("a/zarr.json", b"1")
        assert store.get("a/zarr.json") == b"1"
        store.set("a/zarr.json", b"second value, longer")
        assert store.get("a/zarr.json") == b"second value, longer"
        store.set("a/zarr.json", b"3")
        assert store.get("a/zarr.json") == b"3"
        assert store.getsize("a/zarr.json") == 1
        assert list(store.list()) == ["a/zarr.json"]

    def test_set_bytes_like(self, store):
        store.set("ba", bytearray(b"abc"))
        store.set("mv", memoryview(b"defg")[1:])
        assert store.get("ba") == b"abc"
        assert store.get("mv") == b"efg"

    def test_set_many_and_delete_many(self, store):
        items = {f"sm/{i}": str(i).encode() for i in range(30)}
        store.set_many(items)
        assert store.get_many(list(items)) == items
        store.delete_many([f"sm/{i}" for i in range(10)] + ["sm/missing"])
        assert sorted(store.list()) == sorted(f"sm/{i}" for i in range(10, 30))

    def test_delete(self, store):
        store.set("d/k", b"1")
        store.set("d/j", b"2")
        store.delete("d/k")
        assert store.get("d/k") is None
        assert store.get("d/j") == b"2"
        store.delete("d/k")  # missing: no error
        store.delete("never/was")
        store.delete("d/j")
        assert list(store.list()) == []
        assert list(store.list_dir("")) == []

    def test_delete_prefix(self, store):
        store.set_many({"p/a/0": b"0", "p/a/1": b"1", "p/ab": b"2", "p/b/0": b"3", "q": b"4"})
        store.delete_prefix("p/a/")
        assert sorted(store.list()) == ["p/ab", "p/b/0", "q"]
        store.delete_prefix("")
        assert list(store.list()) == []

    def test_invalid_keys_refused(self, store):
        for bad in ["", "/abs", "trailing/", "a//b", "../escape", "a/../../b", "./x", "nul\x00"]:
            with pytest.raises(InvalidKeyError) as e:
                store.set(bad, b"x")
            assert isinstance(e.value, ValueError)
        assert list(store.list()) == []

    # -- listing --------------------------------------------------------------------
    def test_list_empty(self, store):
        assert list(store.list()) == []
        assert list(store.list_prefix("")) == []
        assert list(store.list_prefix("a/")) == []
        assert list(store.list_dir("")) == []
        assert list(store.list_dir("a/")) == []

    def test_list(self, store):
        keys = ["zarr.json", "a/zarr.json", "a/c/0/0", "a/c/0/1", "a/c/1/0", "b/x", "ab"]
        store.set_many({k: b"v" for k in keys})
        assert sorted(store.list()) == sorted(keys)
        assert sorted(store.list_prefix("")) == sorted(keys)
        assert sorted(store.list_prefix("a/")) == ["a/c/0/0", "a/c/0/1", "a/c/1/0", "a/zarr.json"]
        assert sorted(store.list_prefix("a")) == sorted(k for k in keys if k.startswith("a"))
        assert sorted(store.list_prefix("a/c/0/")) == ["a/c/0/0", "a/c/0/1"]
        assert list(store.list_prefix("zz/")) == []

    def test_list_dir(self, store):
        keys = ["zarr.json", "a/zarr.json", "a/c/0/0", "a/c/0/1", "a/c/1/0", "b/x", "ab"]
        store.set_many({k: b"v" for k in keys})
        assert sorted(store.list_dir("")) == ["a", "ab", "b", "zarr.json"]
        assert sorted(store.list_dir("a/")) == ["c", "zarr.json"]
        assert sorted(store.list_dir("a")) == ["c", "zarr.json"]
        assert sorted(store.list_dir("a/c/")) == ["0", "1"]
        assert sorted(store.list_dir("a/c/0/")) == ["0", "1"]
        assert list(store.list_dir("nope/")) == []
        for name in store.list_dir("a/"):
            assert "/" not in name

    def test_list_unicode(self, store):
        store.set_many({k: b"1" for k in UNICODE_KEYS})
        assert sorted(store.list()) == sorted(UNICODE_KEYS)
        assert list(store.list_prefix("数据/")) == ["数据/块/0.0"]

    # -- concurrency -----------------------------------------------------------------
    def test_concurrent_writers_threads(self, store):
        n, per = self.concurrent_threads, self.concurrent_writes
        shared = [bytes([t]) * 4096 for t in range(n)]
        errors = []
        barrier = threading.Barrier(n)

        def work(t):
            try:
                barrier.wait()
                for i in range(per):
                    store.set(f"t{t}/c/{i}", f"{t}-{i}".encode())
                    store.set("shared/chunk", shared[t])
                    got = store.get("shared/chunk")
                    assert got in shared, "torn read of a concurrently written key"
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors, errors
        for t in range(n):
            for i in range(per):
                assert store.get(f"t{t}/c/{i}") == f"{t}-{i}".encode()
        assert store.get("shared/chunk") in shared
        assert len(list(store.list())) == n * per + 1

    def test_write_batch(self, store):
        """Writes inside write_batch() (nested, from several threads, as a write of many
        chunks does, and outside its prefix) land like any other, and nothing but the
        keys is left after."""
        errors = []

        def work(t):
            try:
                with store.write_batch(f"b/{t}"):  # overlapping batches of several threads
                    for i in range(6):
                        store.set(f"b/{t}/{i}", f"{t}-{i}".encode())
                    store.set_parts(f"b/{t}/parts", [b"ab", memoryview(b"cd")])
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        with store.write_batch("b"):
            store.set("b/first", b"1")
            store.set("elsewhere/k", b"e")  # outside the prefix
            with store.write_batch():
                threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
            store.set("b/first", b"2")  # overwrite inside the batch
        assert not errors, errors
        store.set("b/after", b"3")  # outside any batch
        expected = {f"b/{t}/{i}": f"{t}-{i}".encode() for t in range(3) for i in range(6)}
        expected.update({f"b/{t}/parts": b"abcd" for t in range(3)})
        expected.update({"b/first": b"2", "b/after": b"3", "elsewhere/k": b"e"})
        assert sorted(store.list()) == sorted(expected)
        assert sorted(store.list_dir("b/")) == ["0", "1", "2", "after", "first"]
        assert store.get_many(list(expected)) == expected

    #: the store survives pickling (for process pools and dask workers)
    picklable = True

    def test_pickle_roundtrip(self, store):
        import pickle
        if not self.picklable:
            pytest.skip("this store is documented as not picklable")
        store.set("p/k", b"pickled")
        clone = pickle.loads(pickle.dumps(store))
        assert clone.url == store.url
        assert clone.get("p/k") == b"pickled"
        ro = pickle.loads(pickle.dumps(store.with_read_only(True)))
        assert ro.read_only and ro.get("p/k") == b"pickled"

    def test_read_only_view_sees_writes(self, store):
        ro = store.with_read_only(True)
        store.set("later", b"1")
        assert ro.get("later") == b"1"
        assert store.read_only is False
