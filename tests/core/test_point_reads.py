"""Reads of one element (an integer on every dimension) take the short route of
:mod:`exzarr.array.point_read` (no chunk plan): every such read equals NumPy and the
general route, for every codec, dtype, fill value, missing chunk, edge chunk, view and
index type, sharded or not (missing shards, empty inner chunks, indexes at either end);
Fortran-order arrays keep the general route; bad indices and damaged chunks fail as they
do there."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr.array import reader
from exzarr.errors import BoundsError, InvalidIndexError
from exzarr.storage import MemoryStore
from exzarr.testing.strategies import array_data, dtypes

CODECS = {
    "raw": {},
    "zstd": {"compressor": {"name": "zstd", "configuration": {"level": 1}}},
    "blosc": {"compressor": {"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 4, "blocksize": 0}}},
    "gzip": {"compressor": {"name": "gzip", "configuration": {"level": 1}}},
    "v2-blosc": {"zarr_format": 2, "compressor": {"id": "blosc", "cname": "zstd", "clevel": 1,
                                                  "shuffle": 1}},
    "v2-raw": {"zarr_format": 2, "compressor": None},
}


@pytest.fixture
def plans(monkeypatch):
    """How many reads built a chunk plan (the general route)."""
    calls = []
    real = reader.plan_selection

    def spy(sel, chunks):
        calls.append(sel)
        return real(sel, chunks)
    monkeypatch.setattr(reader, "plan_selection", spy)
    return calls


def general(z, point):
    """The element through the general route: a one-element region, then indexed."""
    key = tuple(slice(i, i + 1 if i != -1 else None) for i in point)
    return z[key].read()[(0,) * len(point)]


@st.composite
def stored_arrays(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, s + 1)) for s in shape)
    dtype = draw(dtypes())
    codec = draw(st.sampled_from(sorted(CODECS)))
    data = draw(array_data(shape, dtype))
    fill = draw(st.sampled_from([None, 0, 1]))
    written = draw(st.booleans())  # False: only the first half of axis 0 written
    return shape, chunks, dtype, codec, data, fill, written, None


@st.composite
def sharded_arrays(draw):
    """As :func:`stored_arrays`, sharded: (shards, index location) last."""
    shape, chunks, dtype, codec, data, fill, written, _ = draw(stored_arrays())
    if codec.startswith("v2"):
        codec = "zstd"
    shards = tuple(c * draw(st.integers(1, 3)) for c in chunks)
    return (shape, chunks, dtype, codec, data, fill, written,
            (shards, draw(st.sampled_from(["end", "start"]))))


@settings(max_examples=150, deadline=None)
@given(case=st.one_of(stored_arrays(), sharded_arrays()), picks=st.data())
def test_every_point_equals_numpy_and_the_general_route(case, picks):
    shape, chunks, dtype, codec, data, fill, written, sharding = case
    kw = dict(CODECS[codec])
    if sharding is not None:  # the sharding codec spelled out, for the index's location
        shards, location = sharding
        inner = [{"name": "bytes", "configuration": {"endian": "little"}}]
        if "compressor" in kw:
            inner.append(kw.pop("compressor"))
        kw["codecs"] = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(chunks), "codecs": inner, "index_location": location,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                             {"name": "crc32c"}]}}]
        chunks = shards
    z = ez.create(MemoryStore(), shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                  **kw)
    expect = np.full(shape, z.fill_value if z.fill_value is not None else 0, dtype=dtype)
    if written:
        z[...] = data
        expect[...] = data
    else:
        half = max(1, shape[0] // 2)
        z[:half] = data[:half]
        expect[:half] = data[:half]
    for _ in range(5):
        point = tuple(picks.draw(st.integers(-n, n - 1)) for n in shape)
        got = z[point].read()
        assert got.shape == () and got.dtype == z.dtype
        np.testing.assert_array_equal(got, expect[point])
        np.testing.assert_array_equal(got, general(z, point))


def test_the_short_route_builds_no_plan_and_reads_one_key(plans):
    data = np.arange(64 * 48, dtype="f4").reshape(64, 48)
    store = MemoryStore()
    z = ez.create(store, shape=data.shape, chunks=(16, 16), dtype="f4", **CODECS["zstd"])
    z[...] = data
    reads = []
    real_get = store.get
    store.get = lambda key, byte_range=None: (reads.append((key, byte_range)),
                                               real_get(key, byte_range))[1]
    assert z[37, 20].read() == data[37, 20]
    assert z[np.int64(-1), np.uint8(3)].read() == data[-1, 3]
    assert plans == []
    assert reads == [("c/2/1", None), ("c/3/0", None)]


def test_views_new_axes_out_and_dtype_views(plans):
    data = np.arange(30 * 20, dtype="i4").reshape(30, 20)
    z = ez.create(MemoryStore(), shape=data.shape, chunks=(7, 6), dtype="i4", fill_value=0,
                  **CODECS["blosc"])
    z[...] = data
    np.testing.assert_array_equal(z[5:25:2][3, -2].read(), data[5:25:2][3, -2])
    np.testing.assert_array_equal(z[:, ::-1][4, 0].read(), data[:, ::-1][4, 0])
    got = z[4, None, 11].read()
    assert got.shape == (1,) and got[0] == data[4, 11]
    out = np.empty((), dtype="i4")
    assert z[29, 19].read(out=out) is out and out == data[29, 19]
    assert z.astype("f8")[3, 3].read() == np.float64(data[3, 3])
    assert plans == []


def test_a_zero_dimensional_array():
    z = ez.create(MemoryStore(), shape=(), chunks=(), dtype="f8", fill_value=2.5)
    assert z[()].read() == 2.5
    z[()] = 7.0
    assert z[()].read() == 7.0 and z[...].read() == 7.0


def test_fortran_arrays_keep_the_general_route(plans):
    data = np.arange(16 * 16, dtype="u2").reshape(16, 16)
    z = ez.create(MemoryStore(), shape=data.shape, chunks=(4, 4), dtype="u2", order="F",
                  zarr_format=2)
    z[...] = data
    plans.clear()
    assert z[9, 14].read() == data[9, 14]
    assert len(plans) == 1


def test_sharded_points_read_the_index_and_one_range_without_a_plan(plans):
    data = np.arange(16 * 16, dtype="u2").reshape(16, 16)
    store = MemoryStore()
    z = ez.create(store, shape=data.shape, chunks=(4, 4), shards=(8, 8), dtype="u2",
                  fill_value=7, **CODECS["zstd"])
    z[:8] = data[:8]  # shards c/1/* are missing
    z[0:4, 0:4] = 7   # all fill value: inner chunk (0, 0) of shard c/0/0 is empty
    reads = []
    real_get = store.get
    store.get = lambda key, byte_range=None: (reads.append((key, byte_range)),
                                               real_get(key, byte_range))[1]
    assert z[5, 14].read() == data[5, 14]
    assert reads[0] == ("c/0/1", (-(4 * 16 + 4), None))  # the index (and its crc32c)
    assert reads[1][0] == "c/0/1" and reads[1][1][0] >= 0 and len(reads) == 2
    reads.clear()
    assert z[2, 3].read() == 7 and len(reads) == 1      # an empty inner chunk: index only
    reads.clear()
    assert z[12, 1].read() == 7 and reads == [("c/1/0", (-(4 * 16 + 4), None))]
    assert plans == []


def test_bad_indices_fail_as_numpy_says():
    z = ez.create(MemoryStore(), shape=(10, 10), chunks=(4, 4), dtype="f4")
    with pytest.raises(BoundsError, match="index 10 is out of bounds for axis 0 with size 10"):
        z[10, 0]
    with pytest.raises(BoundsError, match="index -11 is out of bounds for axis 1"):
        z[0, -11]
    with pytest.raises(InvalidIndexError, match="too many indices"):
        z[0, 0, 0]
    assert z[True, 0].shape == (1, 10)  # a scalar boolean is not an integer (NumPy)
    assert z[3].shape == (10,)


def test_a_damaged_chunk_fails_as_on_the_general_route():
    data = np.arange(32 * 32, dtype="f4").reshape(32, 32)
    store = MemoryStore()
    z = ez.create(store, shape=data.shape, chunks=(16, 16), dtype="f4", **CODECS["zstd"])
    z[...] = data
    raw = bytearray(store.get("c/1/0"))
    store.set("c/1/0", bytes(raw[: len(raw) // 2]))
    errors = []
    for read in (lambda: z[20, 3].read(), lambda: general(z, (20, 3))):
        with pytest.raises(Exception) as info:
            read()
        errors.append((type(info.value), "c/1/0" in str(info.value)))
    assert errors[0] == errors[1] and errors[0][1]
