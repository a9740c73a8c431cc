"""The libzstd exzarr compresses with: the newest at hand (zstandard's or numcodecs'), one
context per thread, for chunks encoded alone (``nc_encode``) and in batches alike."""

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
pytestmark = pytest.mark.skipif(native is None or not native.compressor.callable,
                                reason="libzstd not bindable")


def _version(lib) -> int:
    f = lib.ZSTD_versionNumber
    f.restype = ctypes.c_uint
    return int(f())


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
    if _version(ctypes.CDLL(module.__file__)) == _version(native.compressor._lib):
        assert frame == codec.encode(d)


def test_bytes_in_and_many_threads_give_the_same_frame():
    codec = numcodecs.Zstd(level=3)
    d = data()
    want = zstd_frame(codec, d)
    assert zstd_frame(codec, d.tobytes()) == zstd_frame(codec, bytearray(d.tobytes())) == want
    assert zstd_frame(codec, memoryview(d).cast("B")) == want
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
        assert _version(native.compressor._lib) == _version(newest)

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
        small, big = data(1000), data(100_000)
        result["frames"] = [zstd_frame(codec, small), zstd_frame(codec, big)]
        result["kept"] = native.compressor._local.out.nbytes
        result["back"] = [np.frombuffer(codec.decode(f), "f4") for f in result["frames"]]
        result["want"] = [small, big]

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert result["kept"] <= 1 << 16  # the small chunk's buffer, not the big one's
    for got, want in zip(result["back"], result["want"]):
        np.testing.assert_array_equal(got, want)
