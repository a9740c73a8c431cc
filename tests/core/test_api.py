"""Module-level functions, store arguments and modes."""

import numpy as np
import pytest

import exzarr as ez
from exzarr import errors
from exzarr.storage import MemoryStore


def test_store_argument_forms(tmp_path):
    p = tmp_path / "a.zarr"
    z = ez.create(p.as_uri(), shape=(3,), dtype="i2")  # file:// URL
    z[:] = [1, 2, 3]
    assert ez.open(str(p)).read().tolist() == [1, 2, 3]  # plain path
    assert ez.open(p).read().tolist() == [1, 2, 3]       # os.PathLike
    m = ez.create("memory://api-shared", shape=(2,), dtype="f4", overwrite=True)
    m[:] = 4
    assert ez.open("memory://api-shared").read().tolist() == [4.0, 4.0]  # same name, same data
    s = MemoryStore()
    ez.create(s, shape=(1,), dtype="u1")[0] = 9
    assert ez.open(s).read().tolist() == [9]


def test_modes(tmp_path):
    p = str(tmp_path / "m.zarr")
    with pytest.raises(errors.NodeNotFoundError):
        ez.open(p, mode="r")
    with pytest.raises(errors.NodeNotFoundError):
        ez.open(p, mode="r+")
    z = ez.open(p, mode="a", shape=(4,), dtype="i4")      # a: creates when missing
    z[:] = 1
    assert ez.open(p, mode="a").read().tolist() == [1, 1, 1, 1]
    with pytest.raises(errors.NodeExistsError):
        ez.open(p, mode="w-", shape=(4,), dtype="i4")
    z2 = ez.open(p, mode="w", shape=(2,), dtype="i4")     # w: replaces
    assert z2.shape == (2,) and z2.read().tolist() == [0, 0]
    r = ez.open(p, mode="r")
    assert r.read_only
    with pytest.raises(errors.ReadOnlyError):
        r[:] = 5
    ez.open(p, mode="r+")[:] = 5
    assert ez.open(p).read().tolist() == [5, 5]
    with pytest.raises(ValueError):
        ez.open(p, mode="x")


def test_constructors():
    a = ez.array(np.arange(6).reshape(2, 3), MemoryStore(), chunks=(1, 2))
    assert a.dtype == np.int64 and a.read().tolist() == [[0, 1, 2], [3, 4, 5]]
    assert ez.zeros(shape=(2, 2), dtype="f4").read().sum() == 0
    assert ez.ones(shape=(2, 2), dtype="f4").read().sum() == 4
    f = ez.full(shape=(3,), fill_value=np.nan, dtype="f8")
    assert np.isnan(f.read()).all() and list(f.stored_chunks()) == []
    e = ez.empty(shape=(5,), dtype="i1")
    assert e.shape == (5,) and e.fill_value == 0


def test_auto_chunks_are_bounded():
    z = ez.create(MemoryStore(), shape=(10_000, 10_000), dtype="f8")
    assert np.prod(z.chunks) * 8 <= 1 << 20
    assert all(c >= 1 for c in z.chunks)


def test_write_empty_chunks_option():
    s = MemoryStore()
    z = ez.create(s, shape=(4,), chunks=(2,), dtype="i4", write_empty_chunks=True)
    z[:] = 0
    assert len(list(z.stored_chunks())) == 2
    z2 = ez.create(MemoryStore(), shape=(4,), chunks=(2,), dtype="i4")
    z2[:] = 5
    z2[0:2] = 0  # a chunk that becomes all fill_value is deleted
    assert list(z2.stored_chunks()) == [(1,)]
    with ez.config.set(write_empty_chunks=True):
        z2[0:2] = 0
    assert list(z2.stored_chunks()) == [(0,), (1,)]


def test_attrs_write_through_and_json_only(tmp_path):
    p = str(tmp_path / "at.zarr")
    z = ez.create(p, shape=(2,), dtype="i4", attributes={"a": 1})
    z.attrs["b"] = [1, 2]
    z.attrs.update(c="x")
    assert ez.open(p).attrs.asdict() == {"a": 1, "b": [1, 2], "c": "x"}
    with pytest.raises(errors.InvalidMetadataError) as ei:
        z.attrs["bad"] = np.arange(3)
    assert "JSON" in str(ei.value)
    del z.attrs["a"]
    assert "a" not in ez.open(p).attrs


def test_config_threads():
    with ez.config.set(threads=1):
        assert ez.config.get().threads == 1
    with pytest.raises(TypeError):
        with ez.config.set(nope=1):
            pass
    z = ez.create(MemoryStore(), shape=(40, 40), chunks=(5, 5), dtype="i4")
    for n in (1, 2, 4):
        with ez.config.set(threads=n):
            z[...] = n
            assert (z.read() == n).all()


def test_properties():
    z = ez.create(MemoryStore(), shape=(5, 6), chunks=(2, 4), dtype=">f8", zarr_format=2,
                  order="F", dimension_separator="/")
    assert z.ndim == 2 and z.size == 30 and z.nbytes == 240 and z.nchunks == 6
    assert z.order == "F" and z.zarr_format == 2 and z.path == ""
    assert z.codecs["compressor"]["id"] == "zstd"
    z[...] = np.arange(30).reshape(5, 6)
    assert sorted(z.store.list())[:3] == [".zarray", ".zattrs", "0/0"]
    assert z[4, 5].read() == 29.0


def test_config_reaches_worker_threads():
    z = ez.create(MemoryStore(), shape=(9, 9), chunks=(3, 3), dtype="i4")
    with ez.config.set(write_empty_chunks=True, threads=2):
        z[:] = 0
    assert len(list(z.stored_chunks())) == 9


def test_multi_chunk_write_inside_sqlite_transaction(tmp_path):
    from exzarr.storage import SQLiteStore
    with SQLiteStore(str(tmp_path / "t.db"), timeout=3) as st:
        z = ez.create(st, shape=(4, 4), chunks=(2, 2), dtype="i4")
        with st.transaction():
            z[:] = 9
            assert (z.read() == 9).all()
        try:
            with st.transaction():
                z[:] = 1
                raise RuntimeError("abort")
        except RuntimeError:
            pass
        assert (z.read() == 9).all()  # the aborted transaction left nothing behind
