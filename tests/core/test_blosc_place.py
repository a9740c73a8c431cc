"""``exzarr.kernels.blosc_place``: blosc frames read block by block and their items put
straight into the output.  Every frame numcodecs' Blosc makes is read as c-blosc reads it,
by the kernel's own route where it handles the frame (checked with a whole-frame route that
always fails) and c-blosc's otherwise; damaged and hostile frames are refused or give what
c-blosc gives, never anything else."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from exzarr import config
from exzarr.kernels import jit

pytestmark = pytest.mark.skipif(not jit.numba_available() or not config.get().jit,
                                reason="needs Numba on (EXZARR_JIT=0 switches it off)")

numcodecs = pytest.importorskip("numcodecs")


@pytest.fixture(scope="module")
def kernel():
    import numba

    from exzarr.codecs.direct import native_blosc
    from exzarr.kernels.blosc_place import blosc_place

    native = native_blosc()
    if native is None or native.streams is None:
        pytest.skip("c-blosc's stream decompressors are not bound here")

    @numba.cfunc("int64(int64, int64)")
    def refuse(src, size):  # a whole-frame route that never takes a frame
        return -1

    def place(frame: bytes, chunk: np.ndarray, box: tuple[slice, ...], fallback: bool):
        """Place ``box`` (slices, with steps either way) of the chunk encoded in ``frame``;
        (frames done, output)."""
        item = chunk.dtype.itemsize
        ranges = [range(*s.indices(n)) for s, n in zip(box, chunk.shape)]
        starts = [r.start for r in ranges]
        extents = [len(r) for r in ranges]
        out = np.zeros(extents, dtype=chunk.dtype)
        cstrides = np.array(chunk.strides, dtype=np.int64)
        steps = np.array([r.step for r in ranges], dtype=np.int64)
        size, decompress, memmove = native.addresses
        if not fallback:
            size = refuse.address
        src = np.frombuffer(frame, dtype=np.uint8)
        done = blosc_place(native._funcs(), size, decompress, native.context(), memmove, src,
                           np.array([0]), np.array([src.size]), chunk.nbytes,
                           np.empty(chunk.nbytes, dtype=np.uint8),
                           out.reshape(-1).view(np.uint8), np.array([0]),
                           np.array([int(np.dot(starts, cstrides))]),
                           np.array([extents], dtype=np.int64),
                           np.array(out.strides, dtype=np.int64), cstrides * steps, item)
        return done, out
    return place


def encode(chunk: np.ndarray, cname: str = "lz4", clevel: int = 5, shuffle: int = 1,
           blocksize: int = 0, typesize: int | None = None) -> bytes:
    """A frame of c-blosc's ``blosc_compress_ctx`` (in numcodecs' extension), whose block
    size is the one asked for (numcodecs' ``Blosc`` picks its own)."""
    import ctypes

    lib = ctypes.CDLL(numcodecs.blosc.__file__)
    fn = lib.blosc_compress_ctx
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t,
                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                   ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    src = np.ascontiguousarray(chunk)
    dest = np.empty(src.nbytes + 16, dtype=np.uint8)
    n = fn(clevel, shuffle, typesize or src.dtype.itemsize, src.nbytes, src.ctypes.data,
           dest.ctypes.data, dest.size, cname.encode(), blocksize, 1)
    assert n > 0
    return dest[:n].tobytes()


def values(dtype: str, shape, kind: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "smooth":
        a = np.cumsum(rng.integers(-3, 4, size=int(np.prod(shape))))
    elif kind == "noise":
        a = rng.integers(0, 2 ** 62, size=int(np.prod(shape)))
    else:  # a mix: some rows constant
        a = rng.integers(0, 1000, size=int(np.prod(shape)))
        a[: a.size // 2] = 7
    dt = np.dtype(dtype)
    if dt.kind == "c":
        return (a + 1j * a[::-1]).astype(dt).reshape(shape)
    return a.astype(dt).reshape(shape)


CNAMES = ["lz4", "lz4hc", "blosclz", "zstd"]
BOXES = [(slice(None), slice(None)), (slice(3, 61), slice(5, 37)), (slice(17, 18), slice(None)),
         (slice(0, 64), slice(30, 31))]


@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("shuffle", [0, 1])
@pytest.mark.parametrize("dtype", ["u1", "<i2", "<f4", "<f8", "<c8", ">f4"])
@pytest.mark.parametrize("kind", ["smooth", "noise"])
def test_every_box_of_frames_it_reads_by_itself(kernel, cname, shuffle, dtype, kind):
    chunk = values(dtype, (64, 40), kind)
    frame = numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle).encode(chunk)
    for box in BOXES:
        done, out = kernel(frame, chunk, box, fallback=False)
        assert done == 1, (cname, shuffle, dtype, box)
        np.testing.assert_array_equal(out, chunk[box])


@pytest.mark.parametrize("clevel", [0, 1, 9])
@pytest.mark.parametrize("cname", CNAMES)
def test_levels_block_sizes_and_verbatim_frames(kernel, clevel, cname):
    """clevel 0 stores the chunk verbatim (MEMCPYED); forced block sizes give many blocks
    and a short last one, rows that cross blocks, blocks split into one stream per item
    byte or not (c-blosc enlarges the blocks it splits to 64 KiB of items or more: the
    chunk is larger than that); 1000 is not a multiple of 8 (c-blosc rounds it down)."""
    split_blocks = 0
    for dtype in ["<f4", "<f8", "<i2"]:
        chunk = values(dtype, (300, 70), "smooth", seed=clevel)
        for blocksize in [0, 128, 1000, 4096, 70000]:
            frame = encode(chunk, cname, clevel, 1, blocksize)
            flags, block = frame[2], struct.unpack_from("<I", frame, 8)[0]
            if not flags & 0x12 and chunk.nbytes > block:
                split_blocks += 1
            for box in BOXES + [(slice(100, 299), slice(1, 69))]:
                done, out = kernel(frame, chunk, box, fallback=False)
                assert done == 1, (dtype, blocksize, box)
                np.testing.assert_array_equal(out, chunk[box])
    assert clevel == 0 or cname in ("lz4", "lz4hc", "zstd") or split_blocks


@pytest.mark.parametrize("frame_of", [
    lambda c: numcodecs.Blosc(cname="lz4", shuffle=2).encode(c),          # bit shuffle
    lambda c: numcodecs.Blosc(cname="zlib", shuffle=1).encode(c),         # zlib streams
    lambda c: encode(c, typesize=8),                                    # typesize 8
])
def test_frames_it_does_not_read_go_c_blosc_s_way(kernel, frame_of):
    chunk = values("<f4", (64, 40), "smooth")
    frame = frame_of(chunk)
    done, _ = kernel(frame, chunk, BOXES[0], fallback=False)
    assert done == 0
    for box in BOXES:
        done, out = kernel(frame, chunk, box, fallback=True)
        assert done == 1
        np.testing.assert_array_equal(out, chunk[box])


def test_misaligned_output_goes_c_blosc_s_way(kernel):
    """A shuffled frame joins items into the output as words: only where the output is
    aligned to the item size."""
    from exzarr.codecs.direct import native_blosc
    from exzarr.kernels.blosc_place import blosc_place

    native = native_blosc()
    chunk = values("<f4", (16, 16), "smooth")
    frame = np.frombuffer(numcodecs.Blosc(cname="lz4", shuffle=1).encode(chunk), np.uint8)
    raw = np.zeros(chunk.nbytes + 1, dtype=np.uint8)
    out = raw[1:]
    size, decompress, memmove = native.addresses
    args = (np.array([0]), np.array([frame.size]), chunk.nbytes,
            np.empty(chunk.nbytes, np.uint8), out, np.array([0]), np.array([0]),
            np.array([[16, 16]]), np.array([64, 4]), np.array([64, 4]), 4)
    assert blosc_place(native._funcs(), size, decompress, native.context(), memmove, frame,
                       *args) == 1
    np.testing.assert_array_equal(out.view(np.uint8), chunk.view(np.uint8).reshape(-1))


def _c_blosc(frame: bytes, nbytes: int) -> bytes | None:
    try:
        got = numcodecs.blosc.decompress(frame)
    except Exception:
        return None
    return got if len(got) == nbytes else None


def _check_hostile(kernel, chunk: np.ndarray, frame: bytes) -> None:
    """The kernel's own route takes a frame only when c-blosc decodes it to the same
    bytes; with c-blosc's route behind it, it gives what c-blosc gives or refuses."""
    expect = _c_blosc(frame, chunk.nbytes)
    for fallback in (False, True):
        done, out = kernel(frame, chunk, BOXES[0], fallback=fallback)
        if done:
            assert expect is not None, "took a frame c-blosc refuses"
            assert out.tobytes() == expect
        elif fallback:
            assert expect is None or len(frame) != struct.unpack_from("<I", frame, 12)[0]


@pytest.mark.parametrize("field,value", [
    (0, 1), (0, 3), (1, 9), (2, 0x29), (2, 0x3D), (2, 0xE1), (3, 0), (3, 2), (3, 200),
    (4, 0), (4, 2 ** 31), (8, 0), (8, 1), (8, 2 ** 31 - 1), (8, 2 ** 32 - 1), (12, 0),
    (16, 0), (16, 2 ** 31), (16, 7), (20, 2 ** 32 - 4), (24, 2 ** 31)])
@pytest.mark.parametrize("clevel", [5, 0])
def test_hostile_header_and_offsets(kernel, field, value, clevel):
    """clevel 0: a frame stored verbatim, whose header c-blosc checks all the same."""
    chunk = values("<f4", (64, 40), "smooth")
    frame = bytearray(encode(chunk, clevel=clevel, blocksize=2048))
    if field < 4:
        frame[field] = value
    else:
        struct.pack_into("<I", frame, field, value)
    _check_hostile(kernel, chunk, bytes(frame))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_frames_are_refused_or_read_as_c_blosc_reads_them(kernel, data):
    cname = data.draw(st.sampled_from(CNAMES))
    shuffle = data.draw(st.sampled_from([0, 1]))
    dtype = data.draw(st.sampled_from(["<f4", "<f8", "<i2"]))
    chunk = values(dtype, (32, 24), data.draw(st.sampled_from(["smooth", "mix"])))
    frame = bytearray(encode(chunk, cname, 5, shuffle,
                             data.draw(st.sampled_from([0, 512, 1024]))))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(frame) - 1))
        frame[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):  # a frame cut short, its header's length agreeing
        cut = data.draw(st.integers(16, len(frame)))
        frame = frame[:cut]
        struct.pack_into("<I", frame, 12, cut)
    _check_hostile(kernel, chunk, bytes(frame))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_boxes_match_numpy(kernel, data):
    dtype = data.draw(st.sampled_from(["<i2", "<f4", "<f8"]))
    rows, cols = data.draw(st.integers(1, 70)), data.draw(st.integers(1, 50))
    chunk = values(dtype, (rows, cols), data.draw(st.sampled_from(["smooth", "noise", "mix"])))
    frame = encode(chunk, data.draw(st.sampled_from(CNAMES)), data.draw(st.integers(0, 9)),
                   data.draw(st.sampled_from([0, 1])),
                   data.draw(st.sampled_from([0, 128, 256, 1024])))
    r0 = data.draw(st.integers(0, rows - 1))
    c0 = data.draw(st.integers(0, cols - 1))
    box = tuple(slice(a, data.draw(st.integers(a + 1, n)), data.draw(st.integers(1, 4)))
                for a, n in ((r0, rows), (c0, cols)))
    if data.draw(st.booleans()):  # the same elements, backwards along a dimension
        d = data.draw(st.integers(0, 1))
        r = range(*box[d].indices(chunk.shape[d]))[::-1]
        box = tuple(slice(r.start, r.stop if r.stop >= 0 else None, r.step) if k == d else s
                    for k, s in enumerate(box))
    done, out = kernel(frame, chunk, box, fallback=True)
    assert done == 1
    np.testing.assert_array_equal(out, chunk[box])


def test_stream_functions_are_bound_only_on_little_endian_machines(monkeypatch):
    import ctypes
    import sys

    from exzarr.codecs.direct import _blosc_streams

    lib = ctypes.CDLL(numcodecs.blosc.__file__)
    streams, context = _blosc_streams(lib)
    assert streams is not None and all(streams) and context is not None
    monkeypatch.setattr(sys, "byteorder", "big")
    assert _blosc_streams(lib) == (None, None)
