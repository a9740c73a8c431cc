"""NumPy is the oracle: random arrays, chunkings, dtypes, fill values, orders and
selections, read and written through exzarr, must equal what NumPy gives."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import exzarr as ez
from exzarr.storage.memory import MemoryStore
from exzarr.testing.strategies import (array_data, basic_keys, dtypes, fancy_keys,
                                       orthogonal_keys, shape_and_chunks, vectorized_keys)

pytestmark = pytest.mark.property


@st.composite
def stored_arrays(draw, min_dims=0, max_dims=4):
    shape, chunks = draw(shape_and_chunks(min_dims, max_dims))
    dtype = draw(dtypes())
    fmt = draw(st.sampled_from([2, 3]))
    order = draw(st.sampled_from(["C", "F"])) if fmt == 2 else "C"
    fill = draw(st.sampled_from([0, 1, "nan"]))
    if fill == "nan":
        fill = np.nan if dtype.kind in "fc" else 0
    if dtype.kind == "b":
        fill = bool(fill)
    data = draw(array_data(shape, dtype))
    # the default compressor, none (chunks stored verbatim: the writer's one-copy path) or
    # blosc (decoded straight into the output)
    codec = draw(st.sampled_from(["default", "none", "blosc"]))
    kw = {}
    if codec == "none":
        kw["compressor"] = None
    elif codec == "blosc":
        kw["compressor"] = ({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}
                            if fmt == 2 else {"name": "blosc", "configuration": {
                                "cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                "typesize": dtype.itemsize, "blocksize": 0}})
    z = ez.create(MemoryStore(), shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                  zarr_format=fmt, order=order, **kw)
    z[...] = data
    return z, data


def assert_same(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape
    # v3 arrays are native-endian in memory (endianness lives in the bytes codec)
    assert got.dtype.newbyteorder("=") == want.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, want)


@given(stored_arrays(), st.data())
def test_read_basic(zd, data):
    z, a = zd
    key = data.draw(basic_keys(a.shape))
    assert_same(z[key].read(), a[key])


@given(stored_arrays(), st.data())
def test_view_of_view(zd, data):
    z, a = zd
    k1 = data.draw(basic_keys(a.shape))
    v = z[k1]
    k2 = data.draw(st.one_of(basic_keys(v.shape), fancy_keys(v.shape)))
    assert_same(v[k2].read(), a[k1][k2])


@given(stored_arrays(), st.data())
def test_write_basic(zd, data):
    z, a = zd
    key = data.draw(basic_keys(a.shape))
    target = a[key]
    value = data.draw(array_data(target.shape, a.dtype))
    # also exercise broadcasting: sometimes write a scalar or a row
    if data.draw(st.booleans()) and target.size:
        value = value.reshape(-1)[0]
    z[key] = value
    a[key] = value
    assert_same(z.read(), a)


@given(stored_arrays(min_dims=1), st.data())
def test_read_write_fancy(zd, data):
    z, a = zd
    key = data.draw(fancy_keys(a.shape))
    assert_same(z[key].read(), a[key])
    value = data.draw(array_data(a[key].shape, a.dtype))
    z[key] = value
    a[key] = value
    assert_same(z.read(), a)


@given(stored_arrays(min_dims=1), st.data())
def test_oindex(zd, data):
    z, a = zd
    key = data.draw(orthogonal_keys(a.shape))
    np_key = np.ix_(*[np.arange(n)[k] if not isinstance(k, (int, np.integer)) else np.array([k])
                      for k, n in zip(key, a.shape)])
    want = a[np_key]
    int_axes = tuple(i for i, k in enumerate(key) if isinstance(k, (int, np.integer)))
    want = want.reshape([n for i, n in enumerate(want.shape) if i not in int_axes])
    assert_same(z.oindex[key].read(), want)
    value = data.draw(array_data(want.shape, a.dtype))
    z.oindex[key] = value
    a[np_key] = value.reshape(a[np_key].shape)
    assert_same(z.read(), a)


@given(stored_arrays(min_dims=1), st.data())
def test_vindex(zd, data):
    z, a = zd
    key = data.draw(vectorized_keys(a.shape))
    assert_same(z.vindex[key].read(), a[key])
    value = data.draw(array_data(a[key].shape, a.dtype))
    z.vindex[key] = value
    a[key] = value
    assert_same(z.read(), a)


@given(stored_arrays(min_dims=2, max_dims=3), st.data())
def test_transpose_views(zd, data):
    z, a = zd
    assert_same(z.mT.read(), np.swapaxes(a, -1, -2))
    key = data.draw(basic_keys(z.mT.shape))
    assert_same(z.mT[key].read(), np.swapaxes(a, -1, -2)[key])
    value = data.draw(array_data(np.swapaxes(a, -1, -2)[key].shape, a.dtype))
    z.mT[key] = value
    np.swapaxes(a, -1, -2)[key] = value
    assert_same(z.read(), a)


@pytest.mark.parametrize("fmt", [2, 3])
def test_unwritten_chunks_read_fill(fmt):
    z = ez.create(MemoryStore(), shape=(7, 5), chunks=(3, 2), dtype="f4", fill_value=np.nan,
                  zarr_format=fmt)
    assert np.isnan(z.read()).all()
    z[6, 4] = 1.5
    out = z.read()
    assert out[6, 4] == 1.5 and np.isnan(out).sum() == 34
    assert list(z.stored_chunks()) == [(2, 2)]


def test_read_into_out_buffer():
    a = np.arange(60, dtype="i2").reshape(6, 10)
    z = ez.array(a, MemoryStore(), chunks=(4, 3))
    buf = np.empty((3, 5), dtype="i2")
    res = z[1:4, ::2].read(out=buf)
    assert res is buf
    np.testing.assert_array_equal(buf, a[1:4, ::2])
    fbuf = np.empty((6, 10), dtype="i2", order="F")
    z.read(out=fbuf)
    np.testing.assert_array_equal(fbuf, a)


@st.composite
def multi_axis_keys(draw, shape):
    """Advanced keys whose index arrays are 2-d, so a base dimension varies over
    several output axes (the coordinate-selection form of a view)."""
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    key = []
    for size in shape:
        if draw(st.booleans()) or not key:
            key.append(rng.integers(-size, size, (rows, cols)))
        else:
            key.append(slice(None, None, draw(st.sampled_from([1, -1, 2]))))
    return tuple(key)


@given(stored_arrays(min_dims=1, max_dims=3).filter(lambda zd: all(zd[1].shape)), st.data())
def test_views_of_multi_axis_coordinate_views(zd, data):
    z, a = zd
    k1 = data.draw(multi_axis_keys(a.shape))
    v, want = z[k1], a[k1]
    assert_same(v.read(), want)
    k2 = data.draw(st.one_of(basic_keys(want.shape), fancy_keys(want.shape)))
    assert_same(v[k2].read(), want[k2])
    if want.ndim >= 2:
        assert_same(v.mT.read(), np.swapaxes(want, -1, -2))
    value = data.draw(array_data(want[k2].shape, a.dtype))
    v[k2] = value
    # oracle: the base coordinates each written element maps to, assigned in order
    # (NumPy: with repeated coordinates the last write wins)
    coords = tuple(c[k1][k2] for c in np.indices(a.shape))
    expect = a.copy()
    expect[coords] = value
    assert_same(z.read(), expect)
