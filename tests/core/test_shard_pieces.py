"""Writes with few shards for the threads encode each wholly covered shard in pieces, one
task each, the last piece's thread storing the shard (``exzarr.array.shard_write``): the
stored bytes are exactly those of one task per shard, partially covered shards keep the
read-modify-write route, all-fill shards are deleted, and a piece that fails leaves the
shard as it was."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.storage import MemoryStore

from .markers import needs_compiled_zstd

shard_write = importlib.import_module("exzarr.array.shard_write")
batch_encode = importlib.import_module("exzarr.array.batch_encode")

pytestmark = needs_compiled_zstd

ZSTD = {"name": "zstd", "configuration": {"level": 1}}


@pytest.fixture
def pieces(monkeypatch):
    """The shard keys of every piece written, with pieces of 4 inner chunks, 2 threads and
    writes of up to 15 shards split."""
    monkeypatch.setattr(shard_write, "PIECE_CHUNKS", 4)
    monkeypatch.setattr(shard_write, "SPLIT_BELOW", 8)
    written = []
    real = shard_write._write_piece

    def spy(state, gathered, *a, **kw):
        written.append(gathered.key)
        return real(state, gathered, *a, **kw)
    monkeypatch.setattr(shard_write, "_write_piece", spy)
    with config.set(threads=2):
        yield written


def contents(store) -> dict:
    return {k: store.get(k) for k in sorted(store.list())}


def write(data, shards, chunks, key=Ellipsis, prefill=None, split=True, **kw):
    store = MemoryStore()
    z = ez.create(store, shape=data.shape, chunks=chunks, shards=shards, dtype=data.dtype,
                  compressor=ZSTD, fill_value=0, **kw)
    if prefill is not None:
        z[...] = prefill
    below = shard_write.SPLIT_BELOW
    shard_write.SPLIT_BELOW = below if split else 0
    try:
        z[key] = data[key]
    finally:
        shard_write.SPLIT_BELOW = below
    return store, z


def test_the_same_bytes_as_one_task_per_shard(pieces):
    data = np.random.default_rng(1).standard_normal((64, 48)).astype("f4")
    split, z = write(data, (32, 24), (8, 6))
    # 16 inner chunks per shard in pieces of 4; the last shard's last 2 x 4 one by one
    assert [pieces.count(k) for k in ("c/0/0", "c/0/1", "c/1/0", "c/1/1")] == [4, 4, 4, 10]
    pieces.clear()
    whole, _ = write(data, (32, 24), (8, 6), split=False)
    assert pieces == []
    assert contents(split) == contents(whole)
    np.testing.assert_array_equal(z[...].read(), data)


def test_edge_shards_partial_shards_and_fill(pieces):
    rng = np.random.default_rng(2)
    data = rng.standard_normal((70, 50)).astype("f4")
    data[:32, 24:48] = 0  # shard c/0/1 all fill_value: deleted, not stored
    old = np.full(data.shape, 5, dtype="f4")
    key = (slice(0, 70), slice(0, 49))  # the last column of shards covered in part
    split, z = write(data, (32, 24), (8, 6), key=key, prefill=old)
    whole, _ = write(data, (32, 24), (8, 6), key=key, prefill=old, split=False)
    assert contents(split) == contents(whole)
    expect = old.copy()
    expect[key] = data[key]
    np.testing.assert_array_equal(z[...].read(), expect)
    assert "c/0/1" not in contents(split)
    assert pieces and not any(k.endswith("/2") for k in pieces)  # partial: whole route


def test_write_empty_chunks_stores_an_all_fill_shard(pieces):
    data = np.zeros((64, 24), dtype="f4")
    store = MemoryStore()
    z = ez.create(store, shape=data.shape, chunks=(8, 6), shards=(32, 24), dtype="f4",
                  compressor=ZSTD, fill_value=0, write_empty_chunks=True)
    z[...] = data
    assert sorted(store.list()) == ["c/0/0", "c/1/0", "zarr.json"]
    assert [pieces.count(k) for k in ("c/0/0", "c/1/0")] == [4, 10]
    np.testing.assert_array_equal(z[...].read(), data)


def test_a_failing_piece_leaves_the_shard_as_it_was(pieces, monkeypatch):
    data = np.random.default_rng(3).standard_normal((32, 24)).astype("f4")
    store, z = write(data, (32, 24), (8, 6))
    before = contents(store)
    calls = []
    real = batch_encode.BatchEncoder.encode

    def failing(self, items, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(self, items, **kw)
    monkeypatch.setattr(batch_encode.BatchEncoder, "encode", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        z[...] = data + 1
    assert contents(store) == before
    monkeypatch.setattr(batch_encode.BatchEncoder, "encode", real)
    z[...] = data + 1
    np.testing.assert_array_equal(z[...].read(), data + 1)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), ci=st.integers(1, 6),
       cj=st.integers(1, 6), si=st.integers(1, 4), sj=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_every_layout_equals_numpy_and_one_task_per_shard(rows, cols, ci, cj, si, sj, seed):
    data = np.random.default_rng(seed).integers(-3, 3, (rows, cols)).astype("i4")
    chunks, shards = (ci, cj), (ci * si, cj * sj)
    with config.set(threads=2):
        below, piece = shard_write.SPLIT_BELOW, shard_write.PIECE_CHUNKS
        shard_write.PIECE_CHUNKS = 3
        try:
            split, z = write(data, shards, chunks)
            whole, _ = write(data, shards, chunks, split=False)
        finally:
            shard_write.SPLIT_BELOW, shard_write.PIECE_CHUNKS = below, piece
    assert contents(split) == contents(whole)
    np.testing.assert_array_equal(z[...].read(), data)
