import threading
import zipfile

import numpy as np
import pytest

from exzarr.errors import ReadOnlyError, StorageError
from exzarr.storage import InvalidKeyError, ZipStore, open_store
from exzarr.testing.stores import StoreTests


class TestZipStore(StoreTests):
    """Pickling a writable store flushes it; the copy reads (see test_pickle_* below)."""

    @pytest.fixture
    def store(self, tmp_path):
        s = ZipStore(tmp_path / "t.zip", mode="w")
        yield s
        s.close()


class TestZipStoreDeflated(StoreTests):
    @pytest.fixture
    def store(self, tmp_path):
        s = ZipStore(tmp_path / "t.zip", mode="w", compression=zipfile.ZIP_DEFLATED)
        yield s
        s.close()


class TestZipStoreReopened(StoreTests):
    """Data written, closed, and re-opened in append mode before the reads."""

    def populate(self, store, items):
        store.set_many(items)
        store.close()
        store._state = ZipStore(store.path, mode="a")._state  # same object, re-opened file

    @pytest.fixture
    def store(self, tmp_path):
        s = ZipStore(tmp_path / "t.zip", mode="w")
        yield s
        s.close()


def _names(path):
    with zipfile.ZipFile(path) as zf:
        return [i.filename for i in zf.infolist()]


def test_rewrite_leaves_no_duplicate_members(tmp_path):
    p = tmp_path / "d.zip"
    with ZipStore(p, mode="w") as s:
        s.set("a/zarr.json", b"1")
        s.set("a/c/0", b"x")
        s.set("a/zarr.json", b"22")
        s.set("gone", b"z")
        s.delete("gone")
    assert sorted(_names(p)) == ["a/c/0", "a/zarr.json"]
    with zipfile.ZipFile(p) as zf:
        assert zf.read("a/zarr.json") == b"22"
        assert zf.testzip() is None
    with ZipStore(p, mode="a") as s:
        s.set("a/c/0", b"y")
        s.set("a/c/1", b"w")
    assert sorted(_names(p)) == ["a/c/0", "a/c/1", "a/zarr.json"]
    with ZipStore(p) as s:
        assert s.get("a/c/0") == b"y" and s.get("a/zarr.json") == b"22"


def test_append_without_rewrite_keeps_archive(tmp_path):
    p = tmp_path / "d.zip"
    with ZipStore(p, mode="w") as s:
        s.set("k", b"1")
    with ZipStore(p, mode="a") as s:
        s.set("j", b"2")
    assert _names(p) == ["k", "j"]


def test_reads_zarr_python_zip(tmp_path):
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "zp.zip"
    zs = zarr.storage.ZipStore(p, mode="w")
    arr = zarr.create_array(zs, name="x", shape=(10, 10), chunks=(5, 5), dtype="i4",
                            compressors=None)
    arr[:] = np.arange(100, dtype="i4").reshape(10, 10)
    zs.close()
    with open_store(p) as s:
        assert isinstance(s, ZipStore) and s.read_only
        keys = sorted(s.list())
        assert "x/zarr.json" in keys and "zarr.json" in keys
        chunk = s.get("x/c/0/0")
        assert np.frombuffer(chunk, "<i4").tolist() == [
            r * 10 + c for r in range(5) for c in range(5)]
        assert s.get("x/c/0/0", (4, 8)) == chunk[4:8]


def test_zarr_python_reads_ours(tmp_path):
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "ours.zip"
    src = zarr.storage.MemoryStore()
    a = zarr.create_array(src, name="y", shape=(6,), chunks=(3,), dtype="f8")
    a[:] = np.arange(6.0)
    import asyncio

    async def items():
        return {k: (await src.get(k, zarr.core.buffer.default_buffer_prototype())).to_bytes()
                async for k in src.list()}

    with ZipStore(p, mode="w") as s:
        s.set_many(asyncio.run(items()))
        s.set("y/c/0", s.get("y/c/0"))  # a rewrite: the archive must still have one member
    assert _names(p).count("y/c/0") == 1
    g = zarr.open_group(zarr.storage.ZipStore(p, mode="r"), mode="r")
    assert g["y"][:].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_refuses_escaping_member_names(tmp_path):
    p = tmp_path / "evil.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("zarr.json", b"{}")
        zf.writestr("../escape", b"x")
    with pytest.raises(InvalidKeyError) as e:
        ZipStore(p)
    assert "../escape" in str(e.value) and "escape the archive" in str(e.value)
    p2 = tmp_path / "abs.zip"
    with zipfile.ZipFile(p2, "w") as zf:
        zf.writestr("/etc/passwd", b"x")
    with pytest.raises(InvalidKeyError):
        ZipStore(p2)
    with ZipStore(tmp_path / "ok.zip", mode="w") as s:
        for bad in ["../x", "/abs", "a/../../b"]:
            with pytest.raises(InvalidKeyError):
                s.set(bad, b"1")


def test_directory_entries_are_not_keys(tmp_path):
    p = tmp_path / "dirs.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a/", b"")
        zf.writestr("a/zarr.json", b"{}")
    with ZipStore(p) as s:
        assert list(s.list()) == ["a/zarr.json"]


def test_modes_and_errors(tmp_path):
    with pytest.raises(StorageError) as e:
        ZipStore(tmp_path / "missing.zip")
    assert "missing.zip" in str(e.value)
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(StorageError) as e:
        ZipStore(tmp_path / "bad.zip")
    assert "bad.zip" in str(e.value)
    with ZipStore(tmp_path / "t.zip", mode="w") as s:
        s.set("k", b"1")
    with ZipStore(tmp_path / "t.zip") as s:
        with pytest.raises(ReadOnlyError):
            s.set("k", b"2")
    with ZipStore(tmp_path / "t.zip", mode="w") as s:  # "w" truncates
        assert list(s.list()) == []
    s = ZipStore(tmp_path / "t.zip", mode="a")
    s.close()
    s.close()  # idempotent
    with pytest.raises(StorageError):
        s.get("k")
    with pytest.raises(ValueError):
        ZipStore(tmp_path / "t.zip", mode="x")


def test_open_store_urls(tmp_path):
    p = tmp_path / "u.zip"
    with open_store(f"zip://{p}", mode="w") as s:
        assert isinstance(s, ZipStore)
        s.set("k", b"v")
    with open_store(str(p), mode="r") as s:
        assert s.get("k") == b"v"
        assert s.url == f"zip://{p.as_posix()}"


def test_threads_read_and_write(tmp_path):
    with ZipStore(tmp_path / "th.zip", mode="w") as s:
        def w(t):
            for i in range(50):
                s.set(f"{t}/{i}", bytes([t]) * i)
                assert s.get(f"{t}/{i}") == bytes([t]) * i
        ts = [threading.Thread(target=w, args=(t,)) for t in range(6)]
        [t.start() for t in ts]
        [t.join() for t in ts]
    with ZipStore(tmp_path / "th.zip") as s:
        assert len(list(s.list())) == 300


def test_pickle_read_only(tmp_path):
    import pickle
    with ZipStore(tmp_path / "p.zip", mode="w") as s:
        s.set("k", b"v")
    with ZipStore(tmp_path / "p.zip") as r:
        clone = pickle.loads(pickle.dumps(r))
        assert clone.get("k") == b"v" and clone.read_only
        with pytest.raises(ReadOnlyError, match="mode='r'"):
            clone.set("k", b"w")
        clone.close()


def test_pickle_writable_flushes_and_the_copy_only_reads(tmp_path):
    """Pickling commits the writer's writes; the unpickled copy reads the committed archive
    and refuses writes with a typed error saying what to do; the owner goes on writing."""
    import pickle
    p = tmp_path / "w.zip"
    s = ZipStore(p, mode="w")
    s.set("a", b"1")
    assert s.dirty and not p.exists()
    data = pickle.dumps(s)
    assert not s.dirty and p.exists()              # flushed by pickling
    clone = pickle.loads(data)
    assert clone.get("a") == b"1" and clone.read_only
    for write in (lambda: clone.set("b", b"2"), lambda: clone.delete("a"), clone.flush,
                  lambda: clone.with_read_only(False).set("b", b"2")):
        with pytest.raises(ReadOnlyError) as e:
            write()
        assert "owner" in str(e.value) and "exzarr copy" in str(e.value)
        assert p.as_posix() in str(e.value)
    s.set("b", b"2")                               # the owner still writes
    assert clone.get("b") is None                  # the copy: the archive as flushed
    s.close()
    clone.close()
    with ZipStore(p) as r:
        assert r.get("a") == b"1" and r.get("b") == b"2"
    # a read-only view of a writer pickles as a plain read-only store (no special error)
    with ZipStore(p, mode="a") as s:
        s.set("c", b"3")
        ro = pickle.loads(pickle.dumps(s.with_read_only(True)))
        assert ro.get("c") == b"3"
        with pytest.raises(ReadOnlyError, match="mode='r'"):
            ro.set("d", b"4")
        ro.close()


def test_pickle_refuses_when_the_flush_fails(tmp_path, monkeypatch):
    import os
    import pickle

    import exzarr.storage.zip as zipmod
    p = tmp_path / "f.zip"
    with ZipStore(p, mode="w") as s:
        s.set("a", b"1")
    before = p.read_bytes()
    s = ZipStore(p, mode="a")
    s.set("a", b"changed")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(zipmod.os, "replace", full_disk)
    with pytest.raises(StorageError, match="cannot pickle") as e:
        pickle.dumps(s)
    assert "No space left" in str(e.value)
    monkeypatch.setattr(zipmod.os, "replace", os.replace)
    assert p.read_bytes() == before                # the committed archive is intact
    assert not s.temp_files()                      # and no working copy is left


# -- process pools and dask's processes scheduler ------------------------------------------
def _read_in_child(node):
    return np.asarray(node if not hasattr(node, "keys") else node["x"])


def _write_in_child(z):
    try:
        z[0, :] = -1
    except ReadOnlyError as exc:
        return f"refused: {exc}"
    return "written"


@pytest.fixture
def zip_array(tmp_path):
    import exzarr as ez
    a = np.arange(60, dtype="i4").reshape(6, 10)
    g = ez.open_group(str(tmp_path / "pp.zip"), mode="w")
    z = g.create_array("x", shape=a.shape, chunks=(4, 3), dtype="i4")
    z[:] = a                                       # not flushed: pickling commits it
    yield a, g, z
    g.store.close()


def test_process_pool_reads_zip_opened_for_writing(zip_array, tmp_path):
    import concurrent.futures as cf
    import multiprocessing as mp

    import exzarr as ez
    a, g, z = zip_array
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        np.testing.assert_array_equal(pool.submit(_read_in_child, z).result(), a)
        np.testing.assert_array_equal(pool.submit(_read_in_child, z[1:5, ::2]).result(),
                                      a[1:5, ::2])
        np.testing.assert_array_equal(pool.submit(_read_in_child, g).result(), a)
        got = pool.submit(_write_in_child, z).result()
        assert got.startswith("refused") and "exzarr copy" in got
        z[5, :] = 99                               # the owner writes after the children read
        a[5, :] = 99
        np.testing.assert_array_equal(pool.submit(_read_in_child, z).result(), a)
    g.store.close()
    r = ez.open_array(str(tmp_path / "pp.zip"), path="x", mode="r")
    np.testing.assert_array_equal(r.read(), a)     # nothing committed is lost, no -1 row
    r.store.close()


def test_dask_processes_scheduler_on_a_zip_array(zip_array, tmp_path):
    da = pytest.importorskip("dask.array")
    import exzarr as ez
    a, g, z = zip_array
    x = da.from_array(z, chunks=(4, 3))
    assert int(x.sum().compute(scheduler="processes")) == int(a.sum())
    np.testing.assert_array_equal((x * 2).compute(scheduler="processes"), a * 2)
    with pytest.raises(ReadOnlyError, match="exzarr copy"):   # writes from workers: refused
        da.store(da.zeros(a.shape, chunks=(4, 3), dtype="i4"), z, lock=False,
                 scheduler="processes")
    g.store.close()
    r = ez.open_array(str(tmp_path / "pp.zip"), path="x", mode="r")
    np.testing.assert_array_equal(r.read(), a)
    r.store.close()


def test_writes_reach_the_archive_only_on_flush_or_close(tmp_path):
    """The archive at path is never written in place: until flush()/close() it is the
    previous archive, complete and readable (what a crash would leave)."""
    p = tmp_path / "a.zip"
    with ZipStore(p, mode="w") as s:
        s.set("k", b"1")
        assert not p.exists() and s.dirty
    before = p.read_bytes()
    s = ZipStore(p, mode="a")
    assert not s.dirty and s.temp_files() == []
    s.set("k", b"2")
    s.set("j", b"3")
    s.delete("k")
    assert p.read_bytes() == before and len(s.temp_files()) == 1
    with ZipStore(p) as r:  # another reader sees the committed archive
        assert r.get("k") == b"1" and r.get("j") is None
    assert s.get("j") == b"3" and s.get("k") is None
    s.flush()
    assert not s.dirty and s.temp_files() == []
    with ZipStore(p) as r:
        assert sorted(r.list()) == ["j"]
    s.set("k", b"4")  # after a flush, writes go on
    s.close()
    assert sorted(_names(p)) == ["j", "k"]


def test_mode_w_keeps_the_old_archive_until_close(tmp_path):
    p = tmp_path / "a.zip"
    with ZipStore(p, mode="w") as s:
        s.set("old", b"1")
    s = ZipStore(p, mode="w")
    s.set("new", b"2")
    with ZipStore(p) as r:
        assert list(r.list()) == ["old"]
    s.close()
    assert _names(p) == ["new"]


def test_failed_commit_keeps_the_old_archive(tmp_path, monkeypatch):
    import os as _os

    p = tmp_path / "a.zip"
    with ZipStore(p, mode="w") as s:
        s.set("k", b"1")
    s = ZipStore(p, mode="a")
    s.set("k", b"2")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_os, "replace", refuse)
    with pytest.raises(StorageError) as e:
        s.flush()
    monkeypatch.undo()
    assert "last flush()/close()" in str(e.value) and "a.zip" in str(e.value)
    assert s.closed and s.temp_files() == []
    with ZipStore(p) as r:
        assert r.get("k") == b"1"


def test_unencodable_key_and_huge_ranges(tmp_path):
    with ZipStore(tmp_path / "a.zip", mode="w") as s:
        with pytest.raises(InvalidKeyError) as e:
            s.set("a/\udc80", b"1")
        assert "UTF-8" in str(e.value)
        s.set("k", b"abcdef")
        for a, b in [(2**63, 2**63 + 10), (2**63, None), (-2**63 - 5, None), (0, 2**64)]:
            assert s.get("k", (a, b)) == b"abcdef"[a:b]


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_sharded_reads_of_compressed_members_read_each_shard_once(tmp_path, compression):
    # a range of a deflated member is read by decompressing it from its start: readers
    # must fetch such shards whole (once), not one range after another
    import exzarr as ez

    path = tmp_path / "s.zip"
    a = np.arange(64 * 48, dtype="f4").reshape(64, 48)
    with ZipStore(path, mode="w", compression=compression) as s:
        z = ez.create(s, shape=a.shape, chunks=(8, 8), shards=(32, 24), dtype="f4")
        z[...] = a
    s = ZipStore(path, mode="r")
    assert s.supports_byte_ranges == (compression == zipfile.ZIP_STORED)
    calls = []
    real_get = s.get
    s.get = lambda key, byte_range=None: calls.append((key, byte_range)) or real_get(key, byte_range)
    z = ez.open(s, mode="r")
    with ez.config.set(threads=2):
        np.testing.assert_array_equal(z[...].read(), a)
        np.testing.assert_array_equal(z[3:5, :].read(), a[3:5, :])
    shard_reads = [c for c in calls if c[0].startswith("c/")]
    if compression == zipfile.ZIP_STORED:
        assert any(r is not None for _, r in shard_reads)  # ranged reads of the index, chunks
    else:
        assert all(r is None for _, r in shard_reads)  # every shard read whole
        assert len(shard_reads) == 4 + 2  # once per shard and read
    s.close()
