"""Unsharded chunks that are one plain zstd or blosc frame, decoded and placed in the output
by one compiled call each (``reader._placer``, ``exzarr.kernels.decode_scatter``, blosc
through ``exzarr.kernels.blosc_adapter``'s decoding adapters): every read
equals NumPy and the usual path (Numba off); damaged chunks fail as the usual path does;
chunks of which a read needs only the start keep the prefix route."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs import zstd_prefix
from exzarr.kernels import jit
from exzarr.storage import MemoryStore
from exzarr.testing.strategies import basic_keys

from .routes import read_both

pytestmark = pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                                reason="needs Numba on (EXZARR_JIT=0 switches it off)")

ZSTD = {"name": "zstd", "configuration": {"level": 1}}


@pytest.fixture
def placed(spy_kernel):
    """(frames given, frames done) of every decode_scatter or blosc_place call (conftest)."""
    calls = spy_kernel("exzarr.kernels.decode_scatter", "decode_scatter", 5)
    return spy_kernel("exzarr.kernels.blosc_place", "blosc_place", 6, calls)


def stored(data, chunks, **kw):
    store = MemoryStore()
    z = ez.create(store, shape=data.shape, chunks=chunks, dtype=data.dtype, fill_value=0,
                  **{"compressor": ZSTD, **kw})
    z[...] = data
    return store, z


def test_regions_ints_and_edges(placed):
    d = np.random.default_rng(0).standard_normal((70, 50, 4)).astype("f4")
    _, z = stored(d, (16, 12, 4))
    for key in [(slice(3, 66), slice(5, 49)), (slice(None), 7), (20, slice(None)),
                (slice(0, 70), slice(0, 50), 2), Ellipsis]:
        np.testing.assert_array_equal(read_both(z, key), d[key])
    assert placed and all(done == given == 1 for given, done in placed)


@pytest.mark.parametrize("compressor", [{"id": "zstd", "level": 3},
                                        {"id": "zstd", "level": 1, "checksum": True}])
def test_v2_chunks(placed, compressor):
    d = np.arange(40 * 30, dtype="i8").reshape(40, 30)
    _, z = stored(d, (10, 10), zarr_format=2, compressor=compressor)
    np.testing.assert_array_equal(read_both(z, (slice(2, 38), slice(3, 27))), d[2:38, 3:27])
    assert placed


def test_a_damaged_chunk_fails_as_the_usual_path_does(placed):
    d = np.arange(32 * 32, dtype="f4").reshape(32, 32)
    store, z = stored(d, (16, 16))
    raw = bytearray(store.get("c/1/0"))
    raw[len(raw) // 2] ^= 0xFF
    raw[-1] ^= 0xFF
    store.set("c/1/0", bytes(raw[: len(raw) - 3]))
    errors = []
    for jit_on in (True, False):
        with config.set(jit=jit_on), pytest.raises(Exception) as info:
            z[1:31, 1:31].read()
        errors.append(type(info.value))
    assert errors[0] is errors[1]
    assert any(done == 0 for _, done in placed)


def test_steps_either_way_are_placed(placed):
    d = np.arange(40 * 40, dtype="f4").reshape(40, 40)
    _, z = stored(d, (10, 10))
    for key in [(slice(0, 40, 3), slice(None)), (slice(None), slice(1, 40, 7)),
                (slice(2, None, 5), slice(3, 38, 2)), (slice(None, None, 9), 4),
                (slice(None, None, -3), slice(None)), (slice(None), slice(None, None, -1)),
                (slice(35, 2, -4), slice(1, 39, 5)), (-1, slice(30, None, -2))]:
        np.testing.assert_array_equal(read_both(z, key), d[key])
    assert placed and all(done == given for given, done in placed)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_strided_reads_of_every_item_size_match_numpy(data):
    """Boxes with steps either way, decoded and placed item by item (1-, 2-, 4-, 8-byte
    words, and a copy per item for 16-byte items), zstd and blosc frames: as NumPy and
    the Python route read them."""
    dtype = data.draw(st.sampled_from(["u1", "<i2", "<f4", "<f8", "<c16"]))
    shape = data.draw(st.tuples(st.integers(1, 40), st.integers(1, 40)))
    chunks = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)))
    codec = data.draw(st.sampled_from([ZSTD, blosc(), blosc(shuffle="noshuffle")]))
    d = (np.random.default_rng(sum(shape)).standard_normal(shape) * 50).astype(dtype)
    _, z = stored(d, chunks, compressor=codec)
    key = tuple(slice(data.draw(st.integers(-n, n)), data.draw(st.integers(-n - 1, n)),
                      data.draw(st.sampled_from([1, 2, 3, 5, -1, -2, -4]))) for n in shape)
    np.testing.assert_array_equal(read_both(z, key), d[key])


def test_reads_of_the_first_rows_keep_the_prefix_route(placed, monkeypatch):
    reader = pytest.importorskip("exzarr.array.reader")
    # (chunks of one zstd block are decoded whole: take blocks as empty, so that these
    # small chunks have a start worth decoding alone)
    monkeypatch.setattr(zstd_prefix, "BLOCK_BYTES", 0)
    d = np.arange(64 * 24, dtype="f4").reshape(64, 24)
    _, z = stored(d, (64, 12))
    np.testing.assert_array_equal(read_both(z, (slice(0, 3), slice(None))), d[:3])
    assert not placed  # a few rows of each chunk: only the start decoded
    np.testing.assert_array_equal(read_both(z, (slice(0, 60), slice(None))), d[:60])
    assert placed and reader.PREFIX_FRACTION < 60 / 64


def blosc(**cfg):
    return {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                               **cfg}}


@pytest.mark.parametrize("cfg", [{}, {"cname": "zstd", "shuffle": "bitshuffle"},
                                 {"clevel": 0}, {"shuffle": "noshuffle", "blocksize": 256},
                                 {"cname": "blosclz", "typesize": 2}])
def test_blosc_chunks(placed, cfg):
    d = np.random.default_rng(3).standard_normal((70, 50)).astype("f4").round(2)
    _, z = stored(d, (16, 12), compressor=blosc(**cfg))
    for key in [Ellipsis, (slice(3, 66), slice(5, 49)), (7, slice(None))]:
        np.testing.assert_array_equal(read_both(z, key), d[key])
    assert placed and all(done == given for given, done in placed)


def test_v2_blosc_chunks(placed):
    d = np.arange(40 * 30, dtype="f8").reshape(40, 30)
    _, z = stored(d, (10, 10), zarr_format=2,
                  compressor={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1})
    np.testing.assert_array_equal(read_both(z, (slice(2, 38), slice(3, 27))), d[2:38, 3:27])
    assert placed


@pytest.mark.parametrize("damage", ["length", "header", "data"])
def test_a_damaged_blosc_chunk_fails_as_the_usual_path_does(placed, damage):
    d = np.random.default_rng(4).standard_normal((32, 32)).astype("f4")
    store, z = stored(d, (16, 16), compressor=blosc())
    raw = bytearray(store.get("c/1/0"))
    if damage == "length":
        raw = raw[:-5]  # shorter than its header says
    elif damage == "header":
        raw[4] ^= 0x40  # another size of chunk
    else:
        for i in range(40, len(raw), 7):
            raw[i] ^= 0x5A
    store.set("c/1/0", bytes(raw))
    outcomes = []
    for jit_on in (True, False):
        with config.set(jit=jit_on):
            try:
                outcomes.append(("ok", z[1:31, 1:31].read().tobytes()))
            except Exception as exc:  # noqa: BLE001  (compared between the two routes)
                outcomes.append(("error", type(exc)))
    assert outcomes[0] == outcomes[1]
    assert any(done == 0 for _, done in placed) or outcomes[0][0] == "ok"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_reads_match_numpy(data):
    shape = data.draw(st.tuples(st.integers(1, 30), st.integers(1, 30)))
    chunks = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)))
    d = np.random.default_rng(sum(shape)).integers(-99, 99, shape).astype("i2")
    _, z = stored(d, chunks)
    key = data.draw(basic_keys(shape))
    np.testing.assert_array_equal(z[key].read(), d[key])
