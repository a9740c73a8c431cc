"""blosc chunks with byte shuffle, shuffled by the compiled gather instead of by c-blosc
(``exzarr.codecs.blosc_preshuffle``, ``exzarr.kernels.shuffle``, the pre-shuffled blosc
adapter): the stored bytes are exactly numcodecs' for every compressor, level, item size,
block size, rows that cross blocks, incompressible chunks (stored verbatim, unshuffled
back) and fill values; configurations the calibration refuses go blosc's own way."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs import blosc_preshuffle, native_encode
from exzarr.kernels import jit
from exzarr.storage import MemoryStore

pytestmark = pytest.mark.skipif(
    native_encode.blosc_encoder("lz4", 5, 1, 4, 0) is None or not jit.numba_available()
    or not config.get().jit,
    reason="needs numcodecs' c-blosc bound and Numba on (EXZARR_JIT=0 switches it off)")

batch_encode = importlib.import_module("exzarr.array.batch_encode")


@pytest.fixture
def shuffles(monkeypatch):
    """The (item size, block) each batch encoder of the test was made with."""
    seen: list[tuple[int, int]] = []
    real = batch_encode.BatchEncoder.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        seen.append(self._shuffle)
    monkeypatch.setattr(batch_encode.BatchEncoder, "__init__", spy)
    return seen


def blosc(cname="lz4", clevel=5, shuffle="shuffle", **cfg):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": clevel,
                                               "shuffle": shuffle, **cfg}}


def stored(value, *, jit_on, **kw):
    store = MemoryStore()
    z = ez.create(store, shape=value.shape, dtype=kw.pop("dtype", value.dtype), **kw)
    with config.set(jit=jit_on):
        z[...] = value
    np.testing.assert_array_equal(z[...].read(), value)
    return {k: store.get(k) for k in sorted(store.list())}


def same_as_numcodecs(value, **kw) -> dict:
    fast = stored(value, jit_on=True, **kw)
    assert fast == stored(value, jit_on=False, **kw)
    return fast


def smooth(shape, dtype="f4", seed=0):
    rng = np.random.default_rng(seed)
    grid = np.indices(shape).sum(axis=0)
    return (np.sin(grid / 37.0) * 1000 + rng.normal(0, 4, shape)).round(2).astype(dtype)


@pytest.mark.parametrize("cname", ["lz4", "lz4hc", "blosclz", "zstd", "zlib"])
@pytest.mark.parametrize("clevel", [1, 5, 9])
def test_frames_equal_numcodecs(cname, clevel, shuffles):
    d = smooth((256, 320))
    same_as_numcodecs(d, chunks=(128, 160), compressor=blosc(cname, clevel))
    assert shuffles and shuffles[0][0] == 4  # the pre-shuffled route was taken


@pytest.mark.parametrize("dtype", ["i2", "u2", "f4", "i4", "f8", "i8", "u8", "M8[s]"])
def test_item_sizes(dtype, shuffles):
    d = smooth((200, 150), "f8").astype(dtype) if dtype[0] != "M" else \
        np.arange(200 * 150, dtype="i8").reshape(200, 150).astype(dtype)
    same_as_numcodecs(d, chunks=(100, 75), fill_value=None, compressor=blosc())
    assert shuffles[0][0] == np.dtype(dtype).itemsize


def test_rows_cross_blocks(shuffles):
    """Rows of 1332 bytes in blocks of a few KiB: most rows end in the next block; the
    last block is shorter than the others."""
    d = smooth((300, 333))
    fast = same_as_numcodecs(d, chunks=(100, 333), compressor=blosc(blocksize=4096))
    block = shuffles[0][1]
    assert block % 4 == 0 and 1332 % block != 0 and 133200 % block != 0, block
    assert len(fast) > 1


def test_incompressible_chunks_are_stored_verbatim_in_item_order(shuffles):
    """blosc stores a chunk that does not compress as it was given: the adapter puts
    the items back in order (a frame with the MEMCPYED flag)."""
    rng = np.random.default_rng(3)
    d = rng.integers(0, 2**32, (128, 128), dtype=np.uint32)
    fast = same_as_numcodecs(d, chunks=(64, 128), compressor=blosc())
    assert shuffles[0][0] == 4
    flags = [v[2] for k, v in fast.items() if k.startswith("c/")]
    assert flags and all(f & 0x2 and f & 0x1 for f in flags)


@pytest.mark.parametrize("fill", [0.0, 1.5, -7.25])
def test_all_fill_chunks_are_left_out(fill, shuffles):
    d = smooth((128, 256))
    d[:64, :128] = fill  # a chunk entirely fill_value: not stored
    fast = same_as_numcodecs(d, chunks=(64, 128), fill_value=fill, compressor=blosc())
    assert shuffles[0][0] == 4
    assert "c/0/0" not in fast and "c/0/1" in fast


def test_typesize_other_than_the_item_size(shuffles):
    d = smooth((128, 128))
    same_as_numcodecs(d, chunks=(64, 64), compressor=blosc(typesize=2))
    assert shuffles[0][0] == 2


@pytest.mark.parametrize("cfg", [{"clevel": 0}, {"shuffle": "bitshuffle"},
                                 {"shuffle": "noshuffle"}, {"typesize": 3}])
def test_what_it_does_not_take_goes_blosc_s_own_way(cfg, shuffles):
    d = smooth((96, 96))
    same_as_numcodecs(d, chunks=(48, 96), compressor=blosc(**cfg))
    assert shuffles and shuffles[0] == (0, 0)


def test_small_chunks_keep_blosc_s_shuffle(shuffles):
    d = smooth((64, 64))
    same_as_numcodecs(d, chunks=(16, 16), compressor=blosc())  # 1 KiB chunks
    assert shuffles[0] == (0, 0)


def test_sharded_inner_chunks(shuffles):
    d = smooth((256, 256), "f8")
    same_as_numcodecs(d, chunks=(32, 64), shards=(128, 128), compressor=blosc())
    assert shuffles[0][0] == 8


def test_v2_chunks(shuffles):
    d = smooth((256, 200))
    same_as_numcodecs(d, chunks=(128, 100), zarr_format=2,
                      compressor={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1})
    assert shuffles[0][0] == 4


def test_plan_checks_what_it_promises():
    functions = native_encode._blosc_functions()
    assert functions is not None
    function = functions[0]
    plan = blosc_preshuffle.plan(function, "lz4", 5, 4, 0, 1 << 20)
    assert plan is not None and plan.typesize == 4 and (1 << 20) % plan.block == 0
    assert blosc_preshuffle.plan(function, "lz4", 0, 4, 0, 1 << 20) is None  # verbatim
    assert blosc_preshuffle.plan(function, "lz4", 5, 3, 0, 3 << 12) is None  # item size
    assert blosc_preshuffle.plan(function, "lz4", 5, 4, 0, 1024) is None  # small
    assert blosc_preshuffle.plan(function, "snappy", 5, 4, 0, 1 << 16) is None  # absent


def test_shuffle_blocks_is_blosc_s_shuffle():
    data = np.arange(40, dtype=np.uint8)
    out = blosc_preshuffle.shuffle_blocks(data, 4, 16)
    np.testing.assert_array_equal(out[:16], data[:16].reshape(4, 4).T.reshape(-1))
    np.testing.assert_array_equal(out[32:], data[32:].reshape(2, 4).T.reshape(-1))


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 80), cols=st.integers(1, 90), dtype=st.sampled_from(["i2", "f4", "f8"]),
       cname=st.sampled_from(["lz4", "zstd", "blosclz"]), block=st.sampled_from([0, 2048, 8192]),
       seed=st.integers(0, 2**16), noise=st.booleans())
def test_random_chunks_match_numcodecs(rows, cols, dtype, cname, block, seed, noise):
    rng = np.random.default_rng(seed)
    shape = (rows * 2 + 1, cols + 3)
    d = smooth(shape, dtype, seed)
    if noise:
        d = rng.integers(-1000, 1000, shape).astype(dtype)
    same_as_numcodecs(d, chunks=(rows, cols), compressor=blosc(cname, blocksize=block))
