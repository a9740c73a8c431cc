"""The libzstds exzarr compresses with (numcodecs', and for small frames the newest at
hand: zstandard's where it is newer), one context per thread, for chunks encoded alone
(``nc_encode``) and in batches alike."""

from __future__ import annotations

import ctypes
import threading

import numcodecs
import numpy as np
import pytest

from exzarr.codecs import direct
from exzarr.codecs.native_encode import zstd_frame
from exzarr.codecs.numcodecs_adapter import nc_encode

native = direct.native_zstd()
pytestmark = pytest.mark.skipif(native is None or not native.compressor.callable
                                or not native.small_compressor.callable,
                                reason="libzstd not bindable")


_version = direct._version


def data(n: int = 50_000) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.cumsum(rng.normal(size=n)).astype("f4")


@pytest.mark.parametrize("level,checksum", [(-5, False), (1, False), (3, True), (9, False)])
def test_frames_decode_with_numcodecs_and_match_its_parameters(level, checksum):
    codec = numcodecs.Zstd(level=level, checksum=checksum)
    d = data()
    frame = zstd_frame(codec, d)
    assert isinstance(frame, bytes) and nc_encode(codec, d) == frame
    np.testing.assert_array_equal(np.frombuffer(codec.decode(frame), "f4"), d)
    # the checksum flag of the frame header (the byte after the magic) is the codec's
    assert bool(frame[4] & 0x04) == checksum
    # the frame is what the bound library makes with these two parameters on a fresh
    # context: where that library is numcodecs' own, numcodecs' frame byte for byte
    from numcodecs import zstd as module
    if _version(ctypes.CDLL(module.__file__)) == _version(native.compressor_for(d.nbytes)._lib):
        assert frame == codec.encode(d)


def test_bytes_in_and_many_threads_give_the_same_frame():
    codec = numcodecs.Zstd(level=3)
    d = data()
    want = zstd_frame(codec, d)
    assert zstd_frame(codec, d.tobytes()) == zstd_frame(codec, bytearray(d.tobytes())) == want
    assert zstd_frame(codec, memoryview(d).cast("B")) == want
    assert zstd_frame(codec, memoryview(d)) == want  # (items of 4 bytes: the same bytes)
    got: list = []

    def work():
        got.extend(zstd_frame(codec, d) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [want] * 80
    # a larger chunk after a smaller one (the thread's output buffer grows)
    big = data(400_000)
    np.testing.assert_array_equal(np.frombuffer(codec.decode(zstd_frame(codec, big)), "f4"),
                                  big)


def test_what_it_does_not_take_goes_to_the_codec():
    codec = numcodecs.Zstd(level=1)
    strided = data()[::2]
    assert zstd_frame(codec, strided) is None
    assert zstd_frame(codec, np.array(["a", 1], dtype=object)) is None
    assert zstd_frame(codec, memoryview(strided)) is None
    assert zstd_frame(codec, [1, 2]) is None
    assert zstd_frame(numcodecs.GZip(1), data()) is None

    class Mine(numcodecs.Zstd):  # a subclass may encode differently: asked itself
        pass

    assert zstd_frame(Mine(level=1), data()) is None
    # nc_encode asks the codec for what zstd_frame declines
    d = data()
    assert codec.decode(nc_encode(Mine(level=1), d)) == d.tobytes()


def test_the_newest_library_compresses():
    from numcodecs import zstd as module
    mine = ctypes.CDLL(module.__file__)
    other = direct._zstandard_library()
    assert direct._newest(mine, None) is mine
    assert direct._newest(mine, mine) is mine
    if other is not None:
        newest = direct._newest(mine, other)
        assert _version(newest) == max(_version(mine), _version(other))
        assert _version(native.small_compressor._lib) == _version(newest)
    assert _version(native.compressor._lib) == _version(mine)

    class NoVersion:  # a library that cannot say: the default stays
        pass

    assert direct._newest(mine, NoVersion()) is mine


def test_zstandard_is_found_without_importing_it():
    import subprocess
    import sys
    code = ("import sys; from exzarr.codecs import direct; lib = direct._zstandard_library(); "
            "print(lib is not None, 'zstandard' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "False"]  # (zstandard is a dependency: installed)


def test_a_thread_keeps_no_buffer_for_big_chunks(monkeypatch):
    monkeypatch.setattr(direct, "KEEP_OUT_BYTES", 1 << 16)
    codec = numcodecs.Zstd(level=1)
    result = {}

    def work():  # a fresh thread: no buffer yet
        small, big = data(1000), data(60_000)  # (both small frames: one compressor)
        result["frames"] = [zstd_frame(codec, small), zstd_frame(codec, big)]
        result["kept"] = native.small_compressor._local.out.nbytes
        result["back"] = [np.frombuffer(codec.decode(f), "f4") for f in result["frames"]]
        result["want"] = [small, big]

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert result["kept"] <= 1 << 16  # the small chunk's buffer, not the big one's
    for got, want in zip(result["back"], result["want"]):
        np.testing.assert_array_equal(got, want)


def mixed(n: int = 1 << 20) -> np.ndarray:
    """``n`` bytes whose statistics change block by block (what the pre-splitter of
    libzstd 1.5.7 ends blocks early for)."""
    rng = np.random.default_rng(7)
    parts = [np.cumsum(rng.normal(size=n // 16)).astype("f4").view(np.uint8),
             rng.integers(0, 256, n // 4, dtype=np.uint8),
             np.repeat(np.arange(n // 64, dtype=np.uint8), 16)]
    return np.concatenate(parts * 8)[:n]


def test_the_pre_splitter_is_off_where_the_library_has_one():
    from numcodecs import zstd as module
    comp = native.small_compressor
    if _version(comp._lib) < direct._PRESPLIT_SINCE:
        assert comp._params == []
        pytest.skip("this libzstd has no pre-splitter")
    assert comp._params == [(direct._C_BLOCK_SPLITTER_LEVEL, direct._NO_PRESPLIT)]
    d = mixed()
    codec = numcodecs.Zstd(level=1)
    frame = comp.compress(d, 1, False)
    assert codec.decode(frame) == d.tobytes()
    # with it on (the library's default), the blocks end elsewhere: other bytes
    default = direct._Compressor(comp._lib, False)
    default._params = []
    on = default.compress(d, 1, False)
    assert codec.decode(on) == d.tobytes() and on != frame
    # numcodecs' 1.5.6 has no pre-splitter: at level 1 its frames are these
    if _version(ctypes.CDLL(module.__file__)) == 10506 and _version(comp._lib) == 10507:
        assert frame == codec.encode(d)


def test_small_frames_take_the_small_compressor_on_both_routes():
    from exzarr.codecs.native_encode import zstd_encoder
    small = direct.SMALL_FRAME_BYTES
    assert native.compressor_for(small) is native.small_compressor
    assert native.compressor_for(small + 1) is native.compressor
    enc = zstd_encoder(3, False)
    if enc is None:
        pytest.skip("libzstd not callable from compiled code")
    assert enc.for_chunks(small + 4, 64).address == native.compressor.address
    assert enc.for_chunks(small, 64).address == native.small_compressor.address
    # the per-chunk route makes the frame the small compressor makes
    codec = numcodecs.Zstd(level=3)
    d = mixed(small)
    assert zstd_frame(codec, d) == native.small_compressor.compress(d, 3, False)
    big = mixed(small + 4096)
    assert zstd_frame(codec, big) == native.compressor.compress(big, 3, False)


@pytest.mark.parametrize("route", ["python", "compiled"])
def test_a_thread_keeps_no_context_grown_too_big(monkeypatch, route):
    """A context is kept for the thread's next chunk unless its workspace has grown
    beyond KEEP_CONTEXT_BYTES (high levels on big chunks), after either route's call."""
    import exzarr as ez
    from exzarr import config

    kernel_calls: list = []
    if route == "compiled":
        from exzarr.array import batch_encode
        from exzarr.codecs.native_encode import zstd_encoder
        if zstd_encoder(1, False) is None:
            pytest.skip("libzstd not callable from compiled code")
        kernels = batch_encode._kernels()

        class Counted:  # the compiled call, counted
            def encode_gather(self, *args):
                kernel_calls.append(args[0])
                return kernels.encode_gather(*args)

        monkeypatch.setattr(batch_encode, "_kernels", Counted)
    monkeypatch.setattr(direct, "KEEP_CONTEXT_BYTES", 4 << 20)
    d = data(300_000)  # 1.2 MiB: past the small compressor
    result: dict = {}

    def work():  # a fresh thread: no contexts yet
        for level in (1, 19):
            if route == "python":
                frame = zstd_frame(numcodecs.Zstd(level=level), d)
                assert np.array_equal(np.frombuffer(numcodecs.Zstd().decode(frame), "f4"), d)
            else:
                with config.set(threads=1):  # the kernel runs on this thread
                    z = ez.create("memory://", shape=d.shape, chunks=d.shape, dtype="f4",
                                  compressor={"name": "zstd",
                                              "configuration": {"level": level}})
                    z[...] = d
                    np.testing.assert_array_equal(z[...].read(), d)
        result["kept"] = dict(getattr(native.compressor._local, "contexts", {}))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    kept = result["kept"]
    assert len(kernel_calls) == (2 if route == "compiled" else 0)
    assert (1, False) in kept  # small: kept for the next chunk
    assert (19, False) not in kept  # ~30 MiB at level 19: freed after the call
    assert native.compressor._sizeof(kept[(1, False)].ptr) <= 4 << 20
