"""The Array API array-object surface, checked against array-api-strict."""

import array_api_strict as xp
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.array_api import make_strategies_namespace

import exzarr as ez
from exzarr.storage import MemoryStore

from .counting import CountingStore

xps = make_strategies_namespace(xp)


def store_strict(x):
    a = np.asarray(x)
    chunks = tuple(max(1, (s + 1) // 2) for s in a.shape)
    z = ez.create(MemoryStore(), shape=a.shape, chunks=chunks, dtype=a.dtype)
    z[...] = a
    return z


@given(st.data())
def test_indexing_matches_array_api_strict(data):
    x = data.draw(xps.arrays(dtype=xps.scalar_dtypes(), shape=xps.array_shapes(min_dims=0, max_dims=3, max_side=6)))
    z = store_strict(x)
    key = data.draw(xps.indices(x.shape, allow_newaxis=True))
    want = np.asarray(x[key])
    got = z[key]
    assert got.shape == want.shape
    assert got.ndim == want.ndim and got.size == want.size
    np.testing.assert_array_equal(got.read(), want)


@given(xps.arrays(dtype=xps.real_dtypes(), shape=xps.array_shapes(min_dims=2, max_dims=4, max_side=5)))
def test_attributes_match_array_api_strict(x):
    z = store_strict(x)
    assert z.shape == x.shape and z.ndim == x.ndim and z.size == x.size
    assert z.dtype == np.dtype(np.asarray(x).dtype)
    np.testing.assert_array_equal(np.asarray(z.mT), np.asarray(x.mT))
    if x.ndim == 2:
        np.testing.assert_array_equal(np.asarray(z.T), np.asarray(x.T))
    assert z.device == "cpu" and z.to_device("cpu") is z


def test_namespace_functions_accept_zarrays():
    a = np.arange(12.0).reshape(3, 4)
    z = store_strict(a)
    ns = z.__array_namespace__()
    assert float(ns.sum(z)) == a.sum()
    np.testing.assert_array_equal(ns.matmul(z, z.T), a @ a.T)
    np.testing.assert_array_equal(ns.linalg.matrix_transpose(z), a.T)
    import array_api_compat
    assert array_api_compat.array_namespace(z) is not None


def test_operators_are_lazy_and_numpy_functions_compute():
    a = np.arange(20, dtype="i4").reshape(4, 5)
    z = store_strict(a)
    np.testing.assert_array_equal(z[0:2] + 1, a[0:2] + 1)
    np.testing.assert_array_equal(2 * z, 2 * a)
    np.testing.assert_array_equal(z > 7, a > 7)
    np.testing.assert_array_equal(-z[1], -a[1])
    assert np.mean(z) == a.mean()
    np.testing.assert_array_equal(np.sqrt(z[:, 1]), np.sqrt(a[:, 1]))
    np.testing.assert_array_equal(np.concatenate([z[0:1], z[3:4]]), a[[0, 3]])
    # operators give lazy arrays (issue 10); NumPy's own functions give NumPy results
    assert isinstance(z + 0, ez.ZArray) and (z + 0).is_lazy
    assert isinstance(np.sqrt(z), np.ndarray) and isinstance(np.add(z, 1), np.ndarray)


def test_scalar_conversions_on_0d_views():
    z = store_strict(np.array([[1.5, 2.0], [0.0, 3.0]]))
    assert float(z[0, 0]) == 1.5 and int(z[1, 1]) == 3 and complex(z[0, 1]) == 2 + 0j
    assert bool(z[0, 0]) and not bool(z[1, 0])
    zi = store_strict(np.array([4, 5]))
    assert [10, 20, 30, 40, 50, 60][zi[1]] == 60  # __index__
    with pytest.raises(TypeError):
        float(z[0])


def test_len_iter_and_dlpack():
    a = np.arange(64, dtype="f8").reshape(16, 4)
    s = CountingStore()
    z = ez.create(s, shape=a.shape, chunks=(8, 4), dtype="f8")
    z[...] = a
    s.calls.clear()
    rows = list(z)
    assert len(z) == 16 and len(rows) == 16
    np.testing.assert_array_equal(np.stack(rows), a)
    assert s.reads() == 2  # one fetch per chunk, not per row
    np.testing.assert_array_equal(np.from_dlpack(z[2:5]), a[2:5])
    assert z.__dlpack_device__() == (1, 0)


def test_read_with_xp_and_astype():
    a = np.arange(6, dtype="i2").reshape(2, 3)
    z = store_strict(a)
    r = z.read(xp=xp)
    assert isinstance(r, type(xp.asarray([1])))
    v = z.astype("f8")
    assert v.dtype == np.float64 and "astype" in repr(v)
    np.testing.assert_array_equal(v[1].read(), a[1].astype("f8"))


def test_coordinate_read_fetches_each_chunk_once():
    s = CountingStore()
    z = ez.create(s, shape=(100, 100), chunks=(50, 50), dtype="i4")
    z[...] = np.arange(10000, dtype="i4").reshape(100, 100)
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 50, 500), rng.integers(0, 50, 500)
    s.calls.clear()
    got = z.vindex[rows, cols].read()
    np.testing.assert_array_equal(got, rows * 100 + cols)
    assert s.reads() == 1
    s.calls.clear()
    rows2 = np.concatenate([rows, rows + 50])
    z.vindex[rows2, np.concatenate([cols, cols])] = 0
    assert s.reads() == 2 and s.writes() == 2  # each touched chunk read and written once


def test_repeated_indices_last_write_wins_and_bounds():
    z = store_strict(np.zeros(6, dtype="i4"))
    z[[1, 1, 1]] = [5, 6, 7]
    assert z[1].read() == 7
    with pytest.raises(IndexError) as ei:
        z[[0, 6]]
    assert "axis 0" in str(ei.value) and "size 6" in str(ei.value)


def test_blocks():
    a = np.arange(30).reshape(5, 6)
    z = ez.create(MemoryStore(), shape=a.shape, chunks=(2, 4), dtype=a.dtype)
    z[...] = a
    np.testing.assert_array_equal(z.blocks[1, 1].read(), a[2:4, 4:6])
    np.testing.assert_array_equal(z.blocks[2:, :].read(), a[4:, :])
    z.blocks[0, 0] = -1
    a[0:2, 0:4] = -1
    np.testing.assert_array_equal(z.read(), a)


def test_repr_and_info_of_views():
    z = ez.create(MemoryStore(), shape=(10, 10), chunks=(5, 5), dtype="i4")
    z[0:5, 0:5] = 1
    v = z[2:8:2, ::-1]
    assert "view" in repr(v) and "[2:7:2, 9::-1]" in repr(v)
    info = str(v.info)
    assert "View" in info and "Stored chunks     : 1/4" in info.replace("  ", " ") or "1/4" in info
    assert "(10, 10)" in str(z.info) and "zstd" in str(z.info)


def test_resize_and_append():
    a = np.arange(30, dtype="i4").reshape(5, 6)
    z = ez.create(MemoryStore(), shape=a.shape, chunks=(2, 4), dtype="i4")
    z[...] = a
    z.resize((3, 5))
    np.testing.assert_array_equal(z.read(), a[:3, :5])
    assert all(c[0] < 2 and c[1] < 2 for c in z.stored_chunks())
    z.resize((5, 6))  # growing again shows fill_value, never stale data
    want = np.zeros((5, 6), dtype="i4")
    want[:3, :5] = a[:3, :5]
    np.testing.assert_array_equal(z.read(), want)
    assert z.append(np.ones((2, 6), dtype="i4")) == (7, 6)
    np.testing.assert_array_equal(z[5:].read(), np.ones((2, 6)))
    z.append(np.full((7, 1), 9, dtype="i4"), axis=1)
    assert z.shape == (7, 7) and (z[:, 6].read() == 9).all()


@pytest.mark.parametrize("mask_shape", [(0, 3), (2, 0), (0, 0), (0, 5), (1, 0), (2,)])
def test_empty_boolean_masks_follow_numpy(mask_shape):
    # NumPy (and the Array API suite): a mask dimension of length 0 selects nothing,
    # whatever the axis' length; any other mismatch is an IndexError
    a = np.arange(6.0).reshape(2, 3)
    z = ez.create("memory://", shape=a.shape, chunks=(1, 2), dtype="f8")
    z[...] = a
    m = np.zeros(mask_shape, bool)
    try:
        want = a[m]
    except IndexError:
        with pytest.raises(IndexError):
            z[m].read()
        with pytest.raises(IndexError):
            z[m] = 1.0
        return
    np.testing.assert_array_equal(z[m].read(), want)
    z[m] = 9.0  # selects nothing: nothing changes
    np.testing.assert_array_equal(z[...].read(), a)
