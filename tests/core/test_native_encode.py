"""blosc chunks (v3, sharded inner chunks, v2), v2 zstd chunks and uncompressed chunks
encoded in compiled calls (``exzarr.codecs.native_encode``,
``exzarr.kernels.blosc_adapter``): the stored bytes are exactly numcodecs' (the per-chunk
path, JIT off), for every blosc compressor, shuffle, level, type size and block size;
what the adapter cannot encode goes the per-chunk way, which raises what numcodecs
raises; uncompressed chunks written to files are gathered straight into the buffer the
store writes; the data always equals NumPy."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs import native_encode
from exzarr.kernels import jit
from exzarr.storage import LocalStore, MemoryStore

kernel_module = importlib.import_module("exzarr.kernels.encode_gather")

pytestmark = pytest.mark.skipif(
    native_encode.blosc_encoder("lz4", 5, 1, 4, 0) is None or not jit.numba_available()
    or not config.get().jit,
    reason="needs numcodecs' c-blosc bound and Numba on (EXZARR_JIT=0 switches it off)")

SHAPE, CHUNKS = (70, 50), (16, 12)


@pytest.fixture
def batches(encode_calls):
    """The (chunks given, chunks done) of every encode_gather call (conftest)."""
    return encode_calls


def data(shape=SHAPE, dtype="f4", seed=5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 50).round(1).astype(dtype)


def blosc(**cfg):
    return {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, **cfg}}


def write(value, *, jit_on, store=None, key=Ellipsis, prefill=None, **kw):
    store = MemoryStore() if store is None else store
    kw.setdefault("chunks", CHUNKS)
    z = ez.create(store, shape=value.shape if key is Ellipsis else SHAPE,
                  dtype=kw.pop("dtype", value.dtype), fill_value=kw.pop("fill_value", 0), **kw)
    if prefill is not None:
        z[...] = prefill
    with config.set(jit=jit_on):
        z[key] = value
    return {k: store.get(k) for k in sorted(store.list())}, z


def both(value, **kw):
    """Stored contents with and without the compiled path (equal), and the array."""
    fast, z = write(value, jit_on=True, **kw)
    slow, _ = write(value, jit_on=False, **kw)
    assert fast == slow
    return fast, z


def inside(shape=SHAPE, chunks=CHUNKS) -> int:
    """Chunks entirely inside the array (edge chunks take the per-chunk path)."""
    return int(np.prod([s // c for s, c in zip(shape, chunks)]))


@pytest.mark.parametrize("cname", ["lz4", "lz4hc", "blosclz", "zstd", "zlib"])
@pytest.mark.parametrize("shuffle", ["noshuffle", "shuffle", "bitshuffle"])
def test_v3_blosc_frames_equal_numcodecs(cname, shuffle, batches):
    d = data()
    d[:16, :12] = 0  # one chunk all fill_value: not stored
    stored, z = both(d, compressor=blosc(cname=cname, shuffle=shuffle))
    assert "c/0/0" not in stored
    assert sum(done for _, done in batches) == inside()
    np.testing.assert_array_equal(z[...].read(), d)


@pytest.mark.parametrize("cfg", [{"clevel": 0}, {"clevel": 1}, {"clevel": 9},
                                 {"typesize": 2}, {"typesize": 1, "shuffle": "shuffle"},
                                 {"blocksize": 256}, {"blocksize": 4096}])
def test_levels_type_sizes_and_block_sizes(cfg, batches):
    d = data()
    both(d, compressor=blosc(**cfg))
    assert batches


@pytest.mark.parametrize("dtype", ["u1", "i2", "f8", "c16", "?", "M8[ms]", "S5"])
def test_dtypes(dtype, batches):
    base = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    d = (base % 3 == 0) if dtype == "?" else base.astype(dtype)
    stored, z = both(d, dtype=dtype, fill_value=None, compressor=blosc())
    assert batches
    np.testing.assert_array_equal(z[...].read(), d)


def test_sharded_inner_blosc_chunks(batches):
    d = data((96, 72))
    d[:8, :6] = 0  # one inner chunk all fill_value: absent from its shard's index
    stored, z = both(d, chunks=(8, 6), shards=(32, 24), compressor=blosc(shuffle="bitshuffle"))
    assert batches and all(done == n for n, done in batches)
    np.testing.assert_array_equal(z[...].read(), d)


@pytest.mark.parametrize("compressor", [
    {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
    {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 2048},
    {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": -1},
    {"id": "blosc", "cname": "blosclz", "clevel": 9, "shuffle": 0},
    {"id": "zstd", "level": 3},
    {"id": "zstd", "level": 1, "checksum": True}])
@pytest.mark.parametrize("dtype", ["u1", "f4"])
def test_v2_frames_equal_numcodecs(compressor, dtype, batches):
    d = data(dtype=dtype)
    stored, z = both(d, zarr_format=2, compressor=compressor)
    assert sum(done for _, done in batches) == inside()
    np.testing.assert_array_equal(z[...].read(), d)


def test_local_store(tmp_path, batches):
    d = data()
    fast, _ = write(d, jit_on=True, store=LocalStore(tmp_path / "a"), compressor=blosc())
    slow, _ = write(d, jit_on=False, store=LocalStore(tmp_path / "b"), compressor=blosc())
    assert fast == slow and batches
    np.testing.assert_array_equal(ez.open(str(tmp_path / "a"))[...].read(), d)


def test_partial_write_keeps_the_rest(batches):
    before, d = data(seed=1), data(seed=2)
    key = (slice(3, 66), slice(5, 49))
    stored, z = both(d[key], key=key, prefill=before, compressor=blosc())
    want = before.copy()
    want[key] = d[key]
    np.testing.assert_array_equal(z[...].read(), want)
    assert batches


def test_a_compressor_the_library_lacks_fails_as_numcodecs_does(batches):
    """snappy is valid metadata but not in numcodecs' c-blosc: the adapter's call fails,
    the chunk goes the per-chunk way, and the write raises numcodecs' error."""
    d = data()
    errors = []
    for jit_on in (True, False):
        with pytest.raises(Exception) as info:
            write(d, jit_on=jit_on, compressor=blosc(cname="snappy"))
        errors.append((type(info.value), "snappy" in str(info.value)))
    assert errors[0] == errors[1] and errors[0][1]
    assert batches and all(done == 0 for _, done in batches)


def test_adapter_refuses_what_does_not_fit():
    """blosc answers 0 when the frame does not fit: the kernel stops at that chunk."""
    enc = native_encode.blosc_encoder("lz4", 5, 1, 4, 0)
    src = data((16, 16))
    rows = np.arange(8, dtype=np.int64) * src.strides[0]
    bases = np.array([0, 8 * 4], np.int64)
    fill = np.zeros(32, np.uint64)
    gathered = np.zeros(32, np.uint64)
    sizes = np.full(2, -9, np.int64)
    args = (enc.address, enc.context(), enc.memmove, src, bases, rows, 32, 256, fill, True,
            gathered)
    assert kernel_module.encode_gather(*args, np.empty(2 * enc.bound(256), np.uint8),
                                       sizes) == 2
    assert (sizes > 0).all()
    sizes[:] = -9
    assert kernel_module.encode_gather(*args, np.empty(40, np.uint8), sizes) == 0
    assert sizes[0] == -9


def test_kernel_refuses_row_offsets_or_fill_it_cannot_read_by_address():
    """The kernel's row helpers read the row offsets and the fill pattern by address: a
    strided view of either is refused (nothing done, the per-chunk path takes over)."""
    enc = native_encode.blosc_encoder("lz4", 5, 1, 4, 0)
    src = data((16, 16))
    rows = np.arange(8, dtype=np.int64) * src.strides[0]
    bases = np.array([0, 8 * 4], np.int64)
    fill = np.zeros(32, np.uint64)
    out = np.empty(2 * enc.bound(256), np.uint8)
    for r, f in ((np.repeat(rows, 2)[::2], fill), (rows, np.zeros(64, np.uint64)[::2])):
        assert not (r.flags.c_contiguous and f.flags.c_contiguous)
        sizes = np.full(2, -9, np.int64)
        args = (enc.address, enc.context(), enc.memmove, src, bases, r, 32, 256, f, True,
                np.zeros(32, np.uint64), out, sizes)
        assert kernel_module.encode_gather(*args) == 0
        assert (sizes == -9).all()
    sizes = np.full(2, -9, np.int64)
    assert kernel_module.encode_gather(enc.address, enc.context(), enc.memmove, src, bases,
                                       rows, 32, 256, fill, True, np.zeros(32, np.uint64),
                                       out, sizes) == 2


# -- uncompressed chunks ------------------------------------------------------------------

RAW = {"codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}


@pytest.mark.parametrize("layout", [RAW, {"zarr_format": 2, "compressor": None},
                                    {"shards": (32, 24), "chunks": (8, 6), **RAW}])
def test_uncompressed_chunks_on_files(tmp_path, layout, batches):
    d = data((64, 48))
    d[:8, :6] = 0  # a chunk (an inner chunk) all fill_value: not stored
    d[8:16, 6:12] = -0.0  # not fill: the sign of zero counts
    fast, z = write(d, jit_on=True, store=LocalStore(tmp_path / "a"), **layout)
    slow, _ = write(d, jit_on=False, store=LocalStore(tmp_path / "b"), **layout)
    assert fast == slow and batches
    np.testing.assert_array_equal(z[...].read(), d)
    assert np.signbit(z[8:16, 6:12].read()).all()


@pytest.mark.parametrize("fill", [0, 7.5])
@pytest.mark.parametrize("memory", [False, True])
def test_uncompressed_all_fill_chunks_are_left_out(tmp_path, fill, batches, memory):
    d = np.full((64, 48), fill, "f4")
    d[20, 20] = 1  # one chunk that is not all fill_value
    store = MemoryStore() if memory else LocalStore(tmp_path / "a")
    fast, z = write(d, jit_on=True, store=store, fill_value=fill, chunks=(16, 12), **RAW)
    assert [k for k in fast if k.startswith("c/")] == ["c/1/1"] and batches
    np.testing.assert_array_equal(z[...].read(), d)


@pytest.mark.parametrize("dtype", ["u1", "i2", "f8", "c8", "S3"])
def test_uncompressed_odd_item_sizes(tmp_path, dtype, batches):
    """Chunks whose byte size is not a multiple of 8 (the fill check's word compare)."""
    base = np.arange(63 * 45).reshape(63, 45)
    d = base.astype(dtype)
    d[:9, :5] = np.zeros((), dtype)
    kw = dict(chunks=(9, 5), fill_value=None, dtype=dtype, **RAW)
    fast, z = write(d, jit_on=True, store=LocalStore(tmp_path / "a"), **kw)
    slow, _ = write(d, jit_on=False, store=LocalStore(tmp_path / "b"), **kw)
    assert fast == slow and "c/0/0" not in fast and batches
    held, _ = write(d, jit_on=True, **kw)  # memory: gathered into the bytes it keeps
    assert held == slow
    np.testing.assert_array_equal(z[...].read(), d)


def test_uncompressed_on_memory_keeps_one_copy(batches):
    """A memory store keeps what it is given: each whole chunk is gathered straight into
    the new bytes object the store keeps (one copy, without the GIL), the edge chunks are
    one new bytes object each (the block's)."""
    d = data()
    stored, z = both(d, **RAW)
    assert sum(done for _, done in batches) == inside()
    chunk_bytes = CHUNKS[0] * CHUNKS[1] * 4
    assert all(type(v) is bytes and len(v) == chunk_bytes
               for k, v in stored.items() if k.startswith("c/"))
    np.testing.assert_array_equal(z[...].read(), d)


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 40), st.integers(1, 40)),
       chunks=st.tuples(st.integers(1, 12), st.integers(1, 12)),
       dtype=st.sampled_from(["u1", "i4", "f4", "f8"]),
       shuffle=st.sampled_from(["noshuffle", "shuffle", "bitshuffle"]),
       v2=st.booleans(), raw=st.booleans(), seed=st.integers(0, 2**16))
def test_writes_match_numpy_and_numcodecs(tmp_path_factory, shape, chunks, dtype, shuffle, v2,
                                          raw, seed):
    d = data(shape, dtype, seed)
    kw: dict = ({"zarr_format": 2, "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5,
                                                  "shuffle": ["noshuffle", "shuffle",
                                                              "bitshuffle"].index(shuffle)}}
                if v2 else {"compressor": blosc(shuffle=shuffle)})
    if raw:
        kw = {"zarr_format": 2, "compressor": None} if v2 else RAW
    root = tmp_path_factory.mktemp("w")
    fast, z = write(d, jit_on=True, store=LocalStore(root / "a"), chunks=chunks, **kw)
    slow, _ = write(d, jit_on=False, store=LocalStore(root / "b"), chunks=chunks, **kw)
    assert fast == slow
    np.testing.assert_array_equal(z[...].read(), d)
