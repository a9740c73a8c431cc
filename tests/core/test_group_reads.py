"""Unsharded chunks read from local files in groups (``exzarr.array.group_read``, where
the store has no files for compiled code to read, or the decoder is blosc's by blocks): each
group's encoded chunks read side by side into the thread's buffer, then decoded and
placed by one compiled call.  Every read equals NumPy and the usual path (Numba off);
missing chunks read as fill_value; a chunk larger than its room in the buffer, a chunk
of which the read takes only the start, and a damaged chunk take the one-by-one route,
which fails as the usual path does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs import zstd_prefix
from exzarr.array import group_read
from exzarr.kernels import jit
from exzarr.testing.strategies import basic_keys

from .counting import stored_local
from .routes import read_both

pytestmark = pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                                reason="needs Numba on (EXZARR_JIT=0 switches it off)")

ZSTD = {"name": "zstd", "configuration": {"level": 1}}
BLOSC = {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}


@pytest.fixture
def batches(spy_kernel):
    """(frames given, frames done) of every decode_scatter or blosc_place call."""
    calls = spy_kernel("exzarr.kernels.decode_scatter", "decode_scatter", 5)
    return spy_kernel("exzarr.kernels.blosc_place", "blosc_place", 6, calls)


def stored(path, data, chunks, **kw):
    """A local array whose store has no files for compiled code to read itself (reads
    take the group route; the compiled one is tested in ``test_file_scatter.py``)."""
    return stored_local(path, data, chunks, direct=False, **kw)


@pytest.mark.parametrize("threads", [1, 2])
def test_reads_go_in_groups_and_equal_numpy(tmp_path, batches, threads):
    d = np.random.default_rng(0).standard_normal((64, 50)).astype("f4")
    store, z = stored(tmp_path / "a", d, (16, 12))
    with config.set(threads=threads):
        # (no chunk of which the read takes only the first rows: those go alone)
        for key in [Ellipsis, (slice(3, 62), slice(5, 49)), (slice(20, 64), 7)]:
            store.gets.clear()
            np.testing.assert_array_equal(z[key].read(), d[key])
            assert not [k for k in store.gets if k.startswith("c/")]  # all read into buffers
    assert batches and max(given for given, _ in batches) > 1
    assert all(done == given for given, done in batches)
    np.testing.assert_array_equal(read_both(z, (slice(3, 62), slice(5, 49))), d[3:62, 5:49])


@pytest.mark.parametrize("codec", [
    {"compressor": BLOSC},
    {"compressor": {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3,
                                                        "shuffle": "bitshuffle"}}},
    {"zarr_format": 2, "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}},
    {"zarr_format": 2, "compressor": {"id": "zstd", "level": 3}},
    {"zarr_format": 2, "compressor": {"id": "zstd", "level": 1, "checksum": True}},
], ids=["blosc", "blosc-zstd-bitshuffle", "v2-blosc", "v2-zstd", "v2-zstd-checksum"])
def test_codecs_and_formats(tmp_path, batches, codec):
    d = np.arange(48 * 40, dtype="f8").reshape(48, 40)
    store, z = stored(tmp_path / "a", d, (10, 10), **codec)
    for key in [Ellipsis, (slice(2, 38), slice(3, 27))]:
        store.gets.clear()
        np.testing.assert_array_equal(z[key].read(), d[key])
        assert store.gets == [] and store.into  # every chunk read into the buffer
        np.testing.assert_array_equal(read_both(z, key), d[key])
    assert batches and all(done == given for given, done in batches)


def test_missing_chunks_read_as_fill_value(tmp_path, batches):
    d = np.arange(40 * 40, dtype="i4").reshape(40, 40) + 1
    store, z = stored(tmp_path / "a", d, (10, 10))
    for key in ("c/1/2", "c/3/0", "c/0/0"):
        store.delete(key)
    want = d.copy()
    want[10:20, 20:30] = want[30:40, 0:10] = want[0:10, 0:10] = 0
    np.testing.assert_array_equal(read_both(z, Ellipsis), want)
    np.testing.assert_array_equal(read_both(z, (slice(5, 35), slice(5, 35))), want[5:35, 5:35])


def test_a_chunk_larger_than_its_room_is_read_whole(tmp_path, batches, monkeypatch):
    d = np.random.default_rng(1).standard_normal((40, 40)).astype("f4")
    d[:20] = 7  # the chunks of the first half compress well, the others not
    store, z = stored(tmp_path / "a", d, (10, 10))
    sizes = sorted(len(store.get(f"c/{i}/{j}")) for i in range(4) for j in range(4))
    room = sizes[-1]  # the largest chunks fill their room
    monkeypatch.setattr(group_read, "slot_bytes", lambda nbytes: room)
    store.gets.clear()
    np.testing.assert_array_equal(z[...].read(), d)
    whole = {k for k in store.gets if k.startswith("c/")}
    assert whole and len(whole) < 16  # the large ones, read again whole
    assert all(len(store.get(k)) >= room for k in whole)


def test_a_damaged_chunk_fails_as_the_usual_path_does(tmp_path, batches):
    d = np.arange(32 * 32, dtype="f4").reshape(32, 32)
    store, z = stored(tmp_path / "a", d, (8, 8))
    raw = bytearray(store.get("c/2/1"))
    raw[len(raw) // 2] ^= 0xFF
    store.set("c/2/1", bytes(raw[: len(raw) - 3]))
    errors = []
    for jit_on in (True, False):
        with config.set(jit=jit_on), pytest.raises(ez.errors.ExzarrError) as info:
            z[...].read()
        errors.append((type(info.value), "c/2/1" in str(info.value)))
    assert errors[0] == errors[1] and errors[0][1]
    assert any(done < given for given, done in batches)


def test_first_rows_keep_the_prefix_route(tmp_path, batches, monkeypatch):
    reader = pytest.importorskip("exzarr.array.reader")
    # (chunks of one zstd block are decoded whole: take blocks as empty, so that these
    # small chunks have a start worth decoding alone)
    monkeypatch.setattr(zstd_prefix, "BLOCK_BYTES", 0)
    d = np.arange(64 * 48, dtype="f4").reshape(64, 48)
    store, z = stored(tmp_path / "a", d, (64, 12))
    np.testing.assert_array_equal(read_both(z, (slice(0, 3), slice(None))), d[:3])
    assert not batches  # a few rows of each chunk: only the start decoded, one by one
    assert len({k for k in store.gets if k.startswith("c/")}) == 4
    np.testing.assert_array_equal(read_both(z, (slice(0, 60), slice(None))), d[:60])
    assert batches and reader.PREFIX_FRACTION < 60 / 64


def test_chunks_too_large_to_share_the_buffer_go_one_by_one(tmp_path, batches, monkeypatch):
    monkeypatch.setattr(group_read, "GROUP", 1)
    d = np.arange(40 * 40, dtype="f4").reshape(40, 40)
    store, z = stored(tmp_path / "a", d, (10, 10))
    np.testing.assert_array_equal(z[...].read(), d)
    assert batches and all(given == 1 for given, _ in batches)
    assert not store.into


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_reads_match_numpy(tmp_path_factory, data):
    shape = data.draw(st.tuples(st.integers(1, 30), st.integers(1, 30)))
    chunks = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)))
    codec = data.draw(st.sampled_from([{"compressor": ZSTD}, {"compressor": BLOSC},
                                       {"zarr_format": 2,
                                        "compressor": {"id": "zstd", "level": 1}}]))
    d = np.random.default_rng(sum(shape)).integers(-99, 99, shape).astype("i2")
    _, z = stored(tmp_path_factory.mktemp("g"), d, chunks, **codec)
    key = data.draw(basic_keys(shape))
    threads = data.draw(st.sampled_from([1, 2]))
    with config.set(threads=threads):
        np.testing.assert_array_equal(z[key].read(), d[key])
