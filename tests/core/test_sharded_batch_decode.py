"""Inner chunks of a sharded array decoded many at a time in one compiled call
(``exzarr.kernels.decode_scatter``): taken for plain zstd inner chunks read whole into a
C-contiguous output, on every kind of store path (ranged local reads, remote shards in
flight, stores without ranged reads); whatever the kernel refuses goes the checked way,
so damaged chunks fail exactly as before and the data always equals NumPy."""

from __future__ import annotations

import functools
import importlib
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import exzarr as ez
from exzarr import config
from exzarr.codecs.direct import native_zstd
from exzarr.errors import DecompressionError
from exzarr.kernels import jit
from exzarr.kernels.decode_scatter import decode_scatter
from exzarr.storage import LocalStore, MemoryStore
from exzarr.testing.strategies import basic_keys


pytestmark = pytest.mark.skipif(
    native_zstd() is None or not jit.numba_available() or not config.get().jit,
    reason="needs numcodecs' libzstd bound and Numba on (EXZARR_JIT=0 switches it off)")

SHAPE, CHUNKS, SHARDS = (100, 90), (8, 6), (32, 24)   # 4 x 4 = 16 inner chunks per shard


class Remote(MemoryStore):
    high_latency = True


class NoRanges(MemoryStore):
    supports_byte_ranges = False


def data(shape=SHAPE):
    rng = np.random.default_rng(7)
    return (rng.standard_normal(shape) * 8).round(2).astype("f4")


@pytest.fixture
def batches(spy_kernel):
    """The (frames given, frames done) of every decode_scatter call."""
    return spy_kernel("exzarr.kernels.decode_scatter", "decode_scatter", 5)


def make(store, d=None, **kw):
    d = data() if d is None else d
    z = ez.create(store, shape=d.shape, chunks=CHUNKS, shards=SHARDS, dtype="f4",
                  compressor={"name": "zstd", "configuration": {"level": 1}}, **kw)
    z[...] = d
    return z, d


STORES = {"memory": lambda tmp: MemoryStore(), "local": lambda tmp: str(tmp / "a.zarr"),
          "remote": lambda tmp: Remote(), "no-ranges": lambda tmp: NoRanges()}


@pytest.mark.parametrize("store", sorted(STORES))
def test_whole_inner_chunks_are_decoded_in_batches(store, tmp_path, batches, spy_kernel,
                                                   monkeypatch):
    # (local files: read and decoded by the threads' compiled calls, array/shard_files,
    # whatever the size of the inner chunks)
    monkeypatch.setattr(importlib.import_module("exzarr.array.shard_files"),
                        "MIN_INNER_BYTES", 0)
    files = spy_kernel("exzarr.kernels.read_scatter", "read_scatter", 8)
    z, d = make(STORES[store](tmp_path))
    np.testing.assert_array_equal(z.read(), d)
    every = -(-100 // 8) * -(-90 // 6)  # the array's edge chunks too: boxes of them
    if store == "local":
        assert not batches and sum(done for _, done in files) == every
    else:
        assert batches and all(done == given for given, done in batches) and not files
    if store == "no-ranges":  # each shard's inner chunks are shared among the threads
        assert sum(done for _, done in batches) >= every // 2
    elif store != "local":
        assert sum(done for _, done in batches) == every
    batches.clear()
    files.clear()
    np.testing.assert_array_equal(z[3:97, 5:80].read(), d[3:97, 5:80])
    assert batches or (files and store == "local")


@pytest.mark.parametrize("key", [(5, slice(None)), (slice(3, 97), 40), (slice(None), -1),
                                 (50, slice(7, 61))])
def test_ints_take_boxes_one_element_thick(key, batches):
    """An int along a dimension is a box of extent 1 there (a row, or a column whose rows
    are one element long), placed by the kernel too."""
    z, d = make(MemoryStore())
    np.testing.assert_array_equal(z[key].read(), d[key])
    assert batches and all(done == given for given, done in batches)


def test_chunks_the_kernel_cannot_place_take_the_per_chunk_path(batches):
    """F-order chunks: their bytes are not the C-order boxes the kernel copies."""
    z, d = make(MemoryStore(), order="F")
    np.testing.assert_array_equal(z[3:97, 5:80].read(), d[3:97, 5:80])
    assert batches == []


@pytest.mark.parametrize("key", [(slice(0, 15), slice(0, 72)), (slice(3, 61), slice(5, 43)),
                                 (slice(1, 63), slice(1, 47)), (slice(9, 30), slice(2, 46)),
                                 (slice(None, None, 2), slice(None)),
                                 (slice(1, 90, 7), slice(2, 70, 3)),
                                 (slice(None, None, -1), slice(None)),
                                 (slice(90, 1, -3), slice(None, None, -2))])
def test_boxes_of_partly_read_inner_chunks_are_batched_too(key, batches):
    """A region on no inner-chunk boundary, with or without steps (either way): the chunks
    at its edges are decoded in the batch too (boxes of every shape in one call per buffer), straight
    into their place."""
    z, d = make(MemoryStore())
    np.testing.assert_array_equal(z[key].read(), d[key])
    assert batches and all(done == given for given, done in batches)
    rows, cols = (range(*k.indices(n)) for k, n in zip(key, SHAPE))
    touched = len({r // 8 for r in rows}) * len({c // 6 for c in cols})
    assert sum(done for _, done in batches) == touched


@pytest.mark.parametrize("shape, chunks, shards", [((), (), ()), ((40,), (4,), (40,)),
                                                   ((6, 20, 8), (2, 2, 4), (6, 20, 8))])
def test_other_ranks(shape, chunks, shards, batches):
    d = np.arange(int(np.prod(shape)), dtype="i8").reshape(shape) * 3 - 7
    z = ez.create(MemoryStore(), shape=shape, chunks=chunks, shards=shards, dtype="i8",
                  compressor={"name": "zstd", "configuration": {"level": 1}})
    z[...] = d
    np.testing.assert_array_equal(z[...].read(), d)
    assert bool(batches) == (len(shape) > 0)
    if len(shape) == 3:  # boxes with an int in any dimension, and at the region's edges
        for key in [(slice(1, 5), 3, slice(1, 7)), (slice(None), slice(2, 17), 5),
                    (4, slice(1, 19), slice(None)), (slice(1, 6), slice(3, 18), slice(1, 7))]:
            batches.clear()
            np.testing.assert_array_equal(z[key].read(), d[key])
            assert batches and all(done == given for given, done in batches)


def test_no_batches_without_jit(batches):
    z, d = make(MemoryStore())
    with config.set(jit=False):
        np.testing.assert_array_equal(z.read(), d)
    assert batches == []


@functools.cache
def _stored():
    return make(MemoryStore(), data((70, 50)))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_reads_match_numpy(d):
    z, a = _stored()
    key = d.draw(basic_keys(a.shape))
    np.testing.assert_array_equal(z[key].read(), a[key])
    out = np.full(a.shape, np.float32(-1))
    np.testing.assert_array_equal(z.read(out=out), a)


def _zstd_frames(raw: bytes) -> list[int]:
    at, found = 0, []
    while (at := raw.find(b"\x28\xb5\x2f\xfd", at)) >= 0:
        found.append(at)
        at += 4
    return found


@pytest.mark.parametrize("store", ["memory", "remote", "no-ranges"])
def test_a_damaged_inner_chunk_mid_batch_raises_naming_it(store, tmp_path, batches):
    s = STORES[store](tmp_path)
    z, d = make(s)
    raw = bytearray(s.get("c/0/0"))
    at = _zstd_frames(bytes(raw))[5]
    raw[at:at + 4] = b"\0\0\0\0"       # not a zstd frame any more
    s.set("c/0/0", bytes(raw))
    with pytest.raises(DecompressionError, match=r"c/0/0") as e:
        z.read()
    assert e.value.key is not None and "c/0/0" in e.value.key
    # the shards it did not touch still read right, through the kernel
    batches.clear()
    np.testing.assert_array_equal(z[32:, 24:].read(), d[32:, 24:])
    assert batches


def test_refused_frames_are_decoded_the_checked_way(batches):
    """A frame that does not announce its size (written by a streaming encoder) is
    refused by the kernel and decoded by the checked route; the data is the same."""
    import ctypes

    import numcodecs.zstd

    lib = ctypes.CDLL(numcodecs.zstd.__file__)
    lib.ZSTD_createCCtx.restype = ctypes.c_void_p
    lib.ZSTD_CCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.ZSTD_compress2.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                   ctypes.c_void_p, ctypes.c_size_t]
    lib.ZSTD_compress2.restype = ctypes.c_size_t
    cctx = lib.ZSTD_createCCtx()
    lib.ZSTD_CCtx_setParameter(cctx, 200, 0)  # ZSTD_c_contentSizeFlag = 0

    def frame(chunk):
        src = np.ascontiguousarray(chunk)
        dst = np.empty(src.nbytes + 1024, np.uint8)
        n = lib.ZSTD_compress2(cctx, dst.ctypes.data, dst.nbytes, src.ctypes.data, src.nbytes)
        return dst[:n].tobytes()

    s = MemoryStore()
    z, d = make(s)
    p = z._state.pipeline
    shard = d[:32, :24]
    inner = {lc: (frame(shard[p.inner_chunk_slices(lc)]) if lc in [(1, 1), (2, 3)] else
                  shard[p.inner_chunk_slices(lc)]) for lc in np.ndindex(*p.chunks_per_shard)}
    s.set("c/0/0", p.encode_shard_from_inner(inner))
    with config.set(jit=False):
        expected = z.read()
    np.testing.assert_array_equal(expected, d)
    batches.clear()
    np.testing.assert_array_equal(z.read(), d)
    assert any(done < given for given, done in batches)


def test_concurrent_reads_share_no_state(batches):
    z, d = make(MemoryStore(), data((160, 120)))
    errors: list[str] = []

    def work(k):
        for i in range(5):
            r0, c0 = (k * 7 + i) % 40, (k * 5 + i) % 30
            if not np.array_equal(z[r0:r0 + 100, c0:c0 + 80].read(), d[r0:r0 + 100, c0:c0 + 80]):
                errors.append(f"thread {k} read {i}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and batches


def test_kernel_refuses_spans_and_places_outside_its_buffers():
    native = native_zstd()
    chunk = np.arange(16, dtype="f4").reshape(4, 4)
    frame = np.frombuffer(numcodecs_encode(chunk), np.uint8)
    src = np.concatenate([frame, frame])
    n = frame.size
    out = np.zeros((8, 8), "f4")
    flat = out.reshape(-1).view(np.uint8)
    scratch = np.empty(64, np.uint8)
    content_size, decompress, memmove = native.addresses

    def run(starts, stops, bases, sc=scratch, skips=(0, 0), extents=((4, 4), (4, 4)),
            out_strides=out.strides, chunk_strides=(16, 4)):
        k = len(starts)
        return decode_scatter(content_size, decompress, native.context(), memmove, src,
                              np.array(starts, np.int64), np.array(stops, np.int64), 64, sc,
                              flat, np.array(bases, np.int64), np.array(skips[:k], np.int64),
                              np.array(extents[:k], np.int64).reshape(k, -1),
                              np.array(out_strides, np.int64),
                              np.array(chunk_strides, np.int64), 4)

    assert run([0, n], [n, 2 * n], [0, 4 * 4 + 4 * 8 * 4]) == 2
    np.testing.assert_array_equal(out[:4, :4], chunk)
    np.testing.assert_array_equal(out[4:, 4:], chunk)
    out[...] = 0
    assert run([0, n], [n, 2 * n + 1], [0, 16]) == 1        # past the end of src
    assert run([0, -1], [n, n], [0, 16]) == 1                 # before its start
    assert run([0, n], [n, 2 * n], [0, 4 * 8 * 4 + 20]) == 1  # rows past the output's end
    assert run([0, n], [n, 2 * n], [0, -4]) == 1              # before the output's start
    assert run([0], [n], [0], sc=np.empty(32, np.uint8)) == 0  # scratch too small
    assert run([0, 1], [n, n], [0, 16]) == 1                  # not a frame
    np.testing.assert_array_equal(out[:4, :4], chunk)       # only what was accepted
    assert not out[4:].any() and not out[:4, 4:].any()
    # boxes of two shapes in one call: rows 1-2 x columns 1-3 of the chunk at out[5, 2],
    # and column 2 (an int: rows one element long, no output axis) down out[:, 7]
    assert run([0, n], [n, 2 * n], [5 * 32 + 2 * 4, 7 * 4], skips=(16 + 4, 8),
               extents=((2, 3), (4, 1))) == 2
    np.testing.assert_array_equal(out[5:7, 2:5], chunk[1:3, 1:4])
    np.testing.assert_array_equal(out[:4, 7], chunk[:, 2])
    # boxes reaching outside the decoded chunk or the output, or without a row: refused
    assert run([0], [n], [0], skips=(16 * 3,), extents=((2, 3),)) == 0
    assert run([0], [n], [0], skips=(-4,), extents=((2, 3),)) == 0
    assert run([0], [n], [0], skips=(52,), extents=((1, 4),)) == 0
    assert run([0], [n], [0], extents=((0, 3),)) == 0
    assert run([0], [n], [7 * 32 + 6 * 4], extents=((1, 3),)) == 0
    # rows that are not contiguous (a step along the last dimension): placed item by item
    out[...] = 0
    assert run([0], [n], [0], out_strides=(32, 8)) == 1
    np.testing.assert_array_equal(out[:4, 0:8:2], chunk)
    assert not out[:4, 1:8:2].any()
    assert run([0], [n], [4], extents=((4, 2),), chunk_strides=(16, 8)) == 1
    np.testing.assert_array_equal(out[:4, 1:3], chunk[:, ::2])
    # backwards in the chunk (a negative step): the first element is the box's last
    out[...] = 0
    assert run([0], [n], [0], skips=(48,), chunk_strides=(-16, 4)) == 1
    np.testing.assert_array_equal(out[:4, :4], chunk[::-1])
    assert run([0], [n], [8 * 4], skips=(60,), chunk_strides=(-16, -4)) == 1
    np.testing.assert_array_equal(out[1:5, :4], chunk[::-1, ::-1])
    # ... but not before the chunk's start, past its end or the output's, and the
    # output's strides go forwards only
    assert run([0], [n], [0], skips=(32,), chunk_strides=(-16, 4)) == 0
    assert run([0], [n], [0], skips=(12,), extents=((1, 4),), chunk_strides=(16, -8)) == 0
    assert run([0], [n], [0], chunk_strides=(16, 8)) == 0
    assert run([0], [n], [7 * 32], extents=((1, 4),), out_strides=(32, 12)) == 0
    assert run([0], [n], [0], out_strides=(-32, 4)) == 0
    # a box whose last dimension is one element long may take any stride there
    assert run([0], [n], [0], extents=((4, 1),), out_strides=(32, 0), chunk_strides=(16, 4)) == 1


def numcodecs_encode(chunk: np.ndarray) -> bytes:
    import numcodecs

    return numcodecs.Zstd(level=1).encode(np.ascontiguousarray(chunk))


@pytest.mark.parametrize("shuffle", ["shuffle", "bitshuffle", "noshuffle"])
def test_blosc_inner_chunks_are_decoded_in_batches(spy_kernel, shuffle):
    """Inner chunks that are blosc frames take the compiled route too (read block by block
    by blosc_place, or c-blosc through decode_scatter's adapters), with the usual route's
    result."""
    calls = spy_kernel("exzarr.kernels.decode_scatter", "decode_scatter", 5)
    spy_kernel("exzarr.kernels.blosc_place", "blosc_place", 6, calls)
    d = np.random.default_rng(6).standard_normal((96, 80)).astype("f4").round(2)
    store = MemoryStore()
    z = ez.create(store, shape=d.shape, chunks=(8, 10), shards=(32, 40), dtype="f4",
                  compressor={"name": "blosc", "configuration": {
                      "cname": "lz4", "clevel": 5, "shuffle": shuffle}})
    z[...] = d
    for key in [Ellipsis, np.s_[5:90, 3:77], np.s_[17, :]]:
        fast = z[key].read()
        with config.set(jit=False):
            slow = z[key].read()
        np.testing.assert_array_equal(fast, slow)
        np.testing.assert_array_equal(fast, d[key])
    assert calls and any(given > 1 and done == given for given, done in calls)


def test_batches_of_neighbouring_tasks_pass_their_boxes_as_views(tmp_path, monkeypatch):
    """A batch whose tasks are side by side in the plan hands the kernel views of the
    read's box arrays (a slice); any other batch, the boxes picked out (an index array).
    Both equal NumPy."""
    reader = pytest.importorskip("exzarr.array.reader")
    kinds: list[str] = []
    real = reader._Scatter.__call__

    def spy(self, buf, starts, stops, idx):
        kinds.append("slice" if isinstance(idx, slice) else "indices")
        return real(self, buf, starts, stops, idx)

    monkeypatch.setattr(reader._Scatter, "__call__", spy)
    # (a local store without files for compiled code: the Python route, array/sharded)
    monkeypatch.setattr(LocalStore, "direct_reads", lambda self, keys: None)
    z, d = make(str(tmp_path / "a.zarr"))
    # whole shards: a range runs on past the end of a row of inner chunks to the next row,
    # whose tasks are not next to it in the plan of a read wider than one shard
    for key in [Ellipsis, (slice(3, 97), slice(2, 88)), (slice(0, 32), slice(0, 24))]:
        kinds.clear()
        with config.set(threads=1):
            np.testing.assert_array_equal(z[key].read(), d[key])
        assert kinds
    kinds.clear()
    np.testing.assert_array_equal(z[0:32, 0:24].read(), d[0:32, 0:24])  # one shard
    assert set(kinds) == {"slice"}
    kinds.clear()
    np.testing.assert_array_equal(z[...].read(), d)  # every shard, rows run on
    assert "indices" in kinds
