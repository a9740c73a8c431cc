"""Sharded arrays: ranged reads of only what is needed, one write per whole shard,
correct partial writes, and interop with zarr-python and tensorstore both ways."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import exzarr as ez
from exzarr.testing.strategies import basic_keys, fancy_keys

from .counting import CountingStore

zarr = pytest.importorskip("zarr")

SHAPE, CHUNKS, SHARDS = (64, 48), (8, 8), (32, 24)


def data(shape=SHAPE, dtype="f4"):
    return (np.arange(int(np.prod(shape))) % 1000).astype(dtype).reshape(shape)


def test_single_element_read_costs_two_ranged_reads():
    s = CountingStore()
    a = data()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    z[...] = a
    s.calls.clear()
    assert z[37, 29].read() == a[37, 29]
    assert s.reads() == 2
    (idx_call, inner_call) = s.calls
    assert idx_call[2][0] < 0  # index read from the end of the shard
    assert inner_call[0] == "get" and inner_call[2][0] >= 0  # one range: the inner chunk
    assert all(c[1] == "c/1/1" for c in s.calls)


def test_full_shard_write_is_one_store_write():
    s = CountingStore()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    s.calls.clear()
    z[0:32, 0:24] = data((32, 24))
    assert s.writes() == 1 and s.reads() == 0
    s.calls.clear()
    z[...] = data()
    assert s.writes() == 4 and s.reads() == 0


def test_region_read_fetches_only_needed_inner_chunks():
    s = CountingStore()
    a = data()
    z = ez.create(s, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    z[...] = a
    s.calls.clear()
    np.testing.assert_array_equal(z[0:8, 0:16].read(), a[0:8, 0:16])
    # index + one coalesced range for the two neighbouring inner chunks
    assert s.reads() == 2


def test_missing_inner_chunks_read_fill():
    z = ez.create(CountingStore(), shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="i2",
                  fill_value=-7)
    z[3, 3] = 1
    out = z.read()
    assert out[3, 3] == 1 and (out == -7).sum() == out.size - 1
    z[3, 3] = -7
    assert list(z.stored_chunks()) == []  # the empty shard was deleted


@given(st.data())
def test_sharded_reads_and_writes_match_numpy(d):
    a = data((20, 13), "i4")
    z = ez.create(CountingStore(), shape=a.shape, chunks=(3, 4), shards=(6, 8), dtype="i4")
    z[...] = a
    key = d.draw(st.one_of(basic_keys(a.shape), fancy_keys(a.shape)))
    np.testing.assert_array_equal(z[key].read(), a[key])
    value = np.asarray(d.draw(st.integers(-5, 5)), dtype="i4")
    z[key] = value
    a[key] = value
    np.testing.assert_array_equal(z.read(), a)


@pytest.mark.parametrize("location", ["end", "start"])
def test_interop_zarr_python_both_ways(tmp_path, location):
    a = data()
    zp = str(tmp_path / "zarr")
    za = zarr.create_array(zp, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    za[...] = a
    za[0:32, 0:24] = 0  # an entirely empty shard
    want = za[...]
    np.testing.assert_array_equal(ez.open(zp).read(), want)
    ep = str(tmp_path / "ours")
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(CHUNKS),
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "gzip", "configuration": {"level": 1}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": location}}]
    ea = ez.create(ep, shape=SHAPE, chunks=SHARDS, codecs=codecs, dtype="f4")
    ea[...] = want
    ea[5, 5] = 99
    want[5, 5] = 99
    np.testing.assert_array_equal(zarr.open_array(ep)[...], want)


def test_nested_sharding_roundtrip(tmp_path):
    a = data((32, 32), "u2")
    inner = {"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 4], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "end"}}
    outer = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [8, 8], "codecs": [inner],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "start"}}]
    p = str(tmp_path / "nested")
    z = ez.create(p, shape=(32, 32), chunks=(16, 16), codecs=outer, dtype="u2")
    z[...] = a
    z[1:30:3, 2] = 7
    a[1:30:3, 2] = 7
    np.testing.assert_array_equal(z.read(), a)
    np.testing.assert_array_equal(zarr.open_array(p)[...], a)


def test_interop_tensorstore_both_ways(tmp_path):
    ts = pytest.importorskip("tensorstore")
    a = data()
    p = str(tmp_path / "ts")
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": p},
            "metadata": {"shape": list(SHAPE), "data_type": "float32",
                         "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(SHARDS)}},
                         "codecs": [{"name": "sharding_indexed", "configuration": {
                             "chunk_shape": list(CHUNKS),
                             "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                        {"name": "zstd", "configuration": {"level": 1}}],
                             "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                              {"name": "crc32c"}]}}]},
            "create": True, "delete_existing": True}
    t = ts.open(spec).result()
    t[...] = a
    np.testing.assert_array_equal(ez.open(p).read(), a)
    ours = str(tmp_path / "ours")
    z = ez.create(ours, shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    z[...] = a
    z[10:20, 30:40] = -1
    want = a.copy()
    want[10:20, 30:40] = -1
    t2 = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": ours}}).result()
    np.testing.assert_array_equal(t2.read().result(), want)


def test_shards_and_chunks_properties(tmp_path):
    z = ez.create(str(tmp_path / "a"), shape=SHAPE, chunks=CHUNKS, shards=SHARDS, dtype="f4")
    assert z.chunks == CHUNKS and z.shards == SHARDS and z.nchunks == 4
    with pytest.raises(ValueError):
        ez.create(str(tmp_path / "b"), shape=SHAPE, chunks=(7, 8), shards=SHARDS, dtype="f4")
