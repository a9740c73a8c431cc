"""The one-call decoders (exzarr.codecs.direct): taken for sound zstd and blosc chunks,
declined for everything else, which then fails exactly as on the checked route."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import exzarr.codecs.compressors as compressors
import exzarr.codecs.v2 as v2
from exzarr.codecs import ChunkSpec, CodecPipeline
from exzarr.codecs.direct import direct_decoder
from exzarr.errors import DecompressionError

from codec_helpers import BYTES_LE

SPEC = ChunkSpec((64, 48), np.dtype("<f4"), 0)
DATA = (np.arange(64 * 48, dtype="<f4").reshape(64, 48) % 97) / 8

V3 = {
    "zstd": [BYTES_LE, {"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
    "blosc-lz4": [BYTES_LE, {"name": "blosc", "configuration": {"cname": "lz4", "shuffle": "shuffle"}}],
    "blosc-zstd-bit": [BYTES_LE, {"name": "blosc", "configuration": {"cname": "zstd",
                                                                     "shuffle": "bitshuffle"}}],
    "sharded-zstd": [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [16, 16], "codecs": [BYTES_LE, {"name": "zstd"}]}}],
}
V2 = {"zstd": {"id": "zstd", "level": 1},
      "blosc": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}}


def _pipelines():
    for name, codecs in V3.items():
        yield f"v3-{name}", CodecPipeline.from_v3(codecs, SPEC)
    for name, comp in V2.items():
        yield f"v2-{name}", CodecPipeline.from_v2(comp, None, SPEC)


PIPES = dict(_pipelines())


@pytest.fixture
def no_checked_route(monkeypatch):
    """Make the checked route fail loudly: a decode that still succeeds went direct."""
    def refuse(*a, **k):
        raise AssertionError("the checked route was taken")
    monkeypatch.setattr(compressors, "nc_decode", refuse)
    monkeypatch.setattr(v2, "nc_decode", refuse)


@pytest.mark.parametrize("name", [n for n in sorted(PIPES) if "sharded" not in n])
def test_sound_chunks_take_the_direct_route(name, no_checked_route):
    pipe = PIPES[name]
    raw = pipe.encode(DATA)
    out = np.full(SPEC.shape, -1, SPEC.dtype)
    assert pipe.decode(raw, out=out) is out
    np.testing.assert_array_equal(out, DATA)


def test_inner_chunks_take_the_direct_route(no_checked_route):
    pipe = PIPES["v3-sharded-zstd"]
    inner = pipe.encode_inner_chunk(DATA[:16, :16])
    out = np.empty((16, 16), SPEC.dtype)
    assert pipe.decode_inner_chunk(inner, (0, 0), store=None, key="c/0/0", out=out) is out
    np.testing.assert_array_equal(out, DATA[:16, :16])


def _frames(pipe):
    """(what, stored bytes) of hostile or damaged versions of one chunk."""
    raw = bytearray(pipe.encode(DATA))
    zstd = raw[:4] == b"\x28\xb5\x2f\xfd"
    yield "truncated", bytes(raw[:len(raw) // 2])
    yield "trailing bytes", bytes(raw) + b"\x00" * 7
    body = bytearray(raw)
    for i in range(len(body) // 2, len(body) // 2 + 32):
        body[i] ^= 0x5A
    yield "corrupt body", bytes(body)
    if zstd:  # a frame announcing twice the chunk
        import numcodecs
        yield "frame announces too much", numcodecs.Zstd(level=1).encode(np.concatenate([DATA, DATA]))
    else:  # a blosc header announcing more than the chunk holds
        big = bytearray(raw)
        struct.pack_into("<I", big, 4, 2 * SPEC.nbytes)
        yield "header announces too much", bytes(big)


def _checked_only(name):
    """The same pipeline with the direct route switched off."""
    pipe = dict(_pipelines())[name]
    target = pipe.chain if hasattr(pipe, "chain") else pipe
    target.__dict__["_direct"] = None
    return pipe


def _outcome(pipe, frame):
    out = np.full(SPEC.shape, -1, SPEC.dtype)
    try:
        pipe.decode(frame, store=None, key="c/9/9", out=out)
    except DecompressionError as e:
        assert "c/9/9" in str(e)
        return "DecompressionError"
    return out.tobytes()


@pytest.mark.parametrize("name", [n for n in sorted(PIPES) if "sharded" not in n])
def test_damaged_chunks_end_as_on_the_checked_route(name):
    """Truncated frames, trailing bytes and headers announcing too much raise the typed
    error naming the key; a damaged body decodes to what the checked route gives (an
    error where the codec can tell, e.g. zstd with its checksum)."""
    pipe, checked = PIPES[name], _checked_only(name)
    for what, frame in _frames(pipe):
        got, want = _outcome(pipe, frame), _outcome(checked, frame)
        assert got == want, what
        if what != "corrupt body" or name == "v3-zstd":
            assert got == "DecompressionError", what


def test_zstd_frames_of_another_size_are_declined():
    import numcodecs

    into = direct_decoder(numcodecs.Zstd(level=1), SPEC.nbytes)
    assert into is not None
    out = np.empty(SPEC.nbytes, np.uint8)
    bigger = numcodecs.Zstd(level=1).encode(np.zeros(2 * SPEC.size, "<f4"))  # a bomb's header
    smaller = numcodecs.Zstd(level=1).encode(np.zeros(SPEC.size // 2, "<f4"))
    assert not into(memoryview(bigger), out)
    assert not into(memoryview(smaller), out)
    good = numcodecs.Zstd(level=1).encode(DATA)
    assert into(memoryview(good), out)
    np.testing.assert_array_equal(out.view("<f4").reshape(SPEC.shape), DATA)
    # and through a pipeline, the bomb is refused before its output is allocated
    pipe = PIPES["v2-zstd"]
    with pytest.raises(DecompressionError, match="decode to 24576 bytes"):
        pipe.decode(bigger, key="0.0", out=np.empty(SPEC.shape, SPEC.dtype))


def test_only_numcodecs_own_classes_have_a_direct_route():
    import numcodecs

    class MyZstd(numcodecs.Zstd):
        codec_id = "zstd"

    assert direct_decoder(numcodecs.Zstd(), 100) is not None
    assert direct_decoder(numcodecs.Blosc(), 100) is not None
    assert direct_decoder(MyZstd(), 100) is None
    assert direct_decoder(numcodecs.GZip(), 100) is None
    assert direct_decoder(numcodecs.Zstd(), 0) is None
    # chains with anything besides the one compressor go the checked way
    pipe = CodecPipeline.from_v3([BYTES_LE, {"name": "zstd"}, {"name": "crc32c"}], SPEC)
    assert pipe.chain._direct is None


# -- zstd through numcodecs' own libzstd, one context per thread ------------------------

def test_zstd_is_bound_to_numcodecs_libzstd_where_it_exports_it():
    import sys

    import exzarr.codecs.direct as direct

    if sys.platform != "linux":
        pytest.skip("the symbols are checked on Linux, where numcodecs' wheels export them")
    assert direct.native_zstd() is not None


def test_native_zstd_decodes_slices_and_refuses_everything_else():
    import numcodecs

    import exzarr.codecs.direct as direct

    call = direct.native_zstd()
    if call is None:
        pytest.skip("numcodecs' libzstd cannot be bound here")
    frame = numcodecs.Zstd(level=1).encode(DATA)
    out = np.empty(SPEC.nbytes, np.uint8)
    call(memoryview(b"pad" + frame)[3:], out)  # a slice inside a larger buffer (a shard)
    np.testing.assert_array_equal(out.view("<f4").reshape(SPEC.shape), DATA)
    small = np.empty(SPEC.nbytes - 4, np.uint8)
    big = np.empty(SPEC.nbytes + 4, np.uint8)
    corrupt = bytearray(frame)
    corrupt[len(corrupt) // 2] ^= 0xFF
    for buf, target in [(frame, small), (frame, big), (frame[:-3], out), (frame + b"\0" * 5, out),
                        (bytes(8), out), (b"", out)]:
        with pytest.raises(ValueError):
            call(memoryview(buf), target)
    # the route declines a corrupt body; the pipeline then gives the checked route's answer
    into = direct_decoder(numcodecs.Zstd(level=1), SPEC.nbytes)
    bad = numcodecs.Zstd(level=1, checksum=True).encode(DATA)
    bad = bad[:len(bad) // 2] + bytes([bad[len(bad) // 2] ^ 0xFF]) + bad[len(bad) // 2 + 1:]
    assert not into(memoryview(bad), out)


def test_native_zstd_contexts_are_per_thread():
    import threading

    import numcodecs

    import exzarr.codecs.direct as direct

    call = direct.native_zstd()
    if call is None:
        pytest.skip("numcodecs' libzstd cannot be bound here")
    datas = [DATA + k for k in range(4)]
    frames = [numcodecs.Zstd(level=k + 1).encode(d) for k, d in enumerate(datas)]
    errors: list[str] = []
    start = threading.Barrier(4)

    def work(k):
        out = np.empty(SPEC.nbytes, np.uint8)
        start.wait()
        for i in range(200):
            j = (k + i) % 4
            call(memoryview(frames[j]), out)
            if not np.array_equal(out.view("<f4").reshape(SPEC.shape), datas[j]):
                errors.append(f"thread {k}, round {i}: wrong data")
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_zstd_falls_back_to_numcodecs_decompress(monkeypatch, no_checked_route):
    import exzarr.codecs.direct as direct

    monkeypatch.setattr(direct, "native_zstd", lambda: None)
    for name in ("v3-zstd", "v2-zstd"):
        pipe = dict(_pipelines())[name]  # fresh pipelines: their decoders are made now
        out = np.empty(SPEC.shape, SPEC.dtype)
        assert pipe.decode(pipe.encode(DATA), out=out) is out
        np.testing.assert_array_equal(out, DATA)


def test_native_zstd_into_takes_bytes_views_and_arrays():
    """``NativeZstd.into``, the one call the readers try first: bytes (also behind a view
    of all of them) go to the library as they are, other buffers by address; a frame that
    records no content size decodes too; anything that does not give exactly ``out``'s
    bytes answers False."""
    import numcodecs
    import zstandard

    import exzarr.codecs.direct as direct

    native = direct.native_zstd()
    if native is None:
        pytest.skip("numcodecs' libzstd cannot be bound here")
    frame = numcodecs.Zstd(level=1).encode(DATA)
    unsized = zstandard.ZstdCompressor(level=1, write_content_size=False).compress(DATA.tobytes())
    for buf in [frame, memoryview(frame), memoryview(b"pad" + frame)[3:],
                memoryview(bytearray(frame)), np.frombuffer(frame, np.uint8), unsized]:
        out = np.zeros(SPEC.shape, SPEC.dtype)  # the chunk's shape: its bytes are written
        assert native.into(buf, out)
        np.testing.assert_array_equal(out, DATA)
    out = np.empty(SPEC.nbytes, np.uint8)
    for buf, target in [(frame, out[:-4]), (frame, np.empty(SPEC.nbytes + 4, np.uint8)),
                        (frame[:-3], out), (frame + b"\0" * 5, out), (frame + frame, out),
                        (bytes(8), out), (b"", out)]:
        assert not native.into(buf, target)


def test_chunks_without_a_content_size_read_back_on_every_route(monkeypatch, tmp_path):
    """A stored zstd chunk whose frame records no content size (other writers may leave
    it out) reads back through the library's one call, and through numcodecs where that
    is not bound (which the header check keeps on the checked route)."""
    import zstandard

    import exzarr as ez
    import exzarr.codecs.direct as direct

    d = (np.arange(40 * 30, dtype="<f4").reshape(40, 30) % 13) * 0.5
    z = ez.create(str(tmp_path / "a"), shape=d.shape, chunks=(20, 30), dtype="<f4",
                  compressor={"name": "zstd", "configuration": {"level": 1}})
    z[...] = d
    cz = zstandard.ZstdCompressor(level=1, write_content_size=False)
    for i in range(2):
        z.store.set(f"c/{i}/0", cz.compress(np.ascontiguousarray(d[20 * i:20 * i + 20]).tobytes()))
    assert z[3, 4].read() == d[3, 4]
    np.testing.assert_array_equal(z[...].read(), d)
    monkeypatch.setattr(direct, "native_zstd", lambda: None)
    # (metadata of its own: arrays opened from the same bytes share what is built from them)
    fresh = ez.create(str(tmp_path / "b"), shape=d.shape, chunks=(20, 30), dtype="<f4",
                      compressor={"name": "zstd", "configuration": {"level": 1}},
                      attributes={"made in": str(tmp_path)})
    for i in range(2):
        fresh.store.set(f"c/{i}/0", z.store.get(f"c/{i}/0"))
    fresh = ez.open(str(tmp_path / "b"))
    assert fresh._state.pipeline.chain._direct.native is None
    assert fresh[23, 7].read() == d[23, 7]
    np.testing.assert_array_equal(fresh[...].read(), d)


def test_a_buffer_the_one_call_cannot_take_is_declined_not_raised():
    """What the library's one call cannot be handed (here a strided view) declines the
    chunk, on the readers' route as on ``ZstdInto``'s: the checked route then decodes it
    or says what is wrong."""
    import numcodecs

    import exzarr.codecs.direct as direct

    if direct.native_zstd() is None:
        pytest.skip("numcodecs' libzstd cannot be bound here")
    frame = numcodecs.Zstd(level=1).encode(DATA)
    strided = memoryview(np.frombuffer(frame + frame, np.uint8)[::2])
    out = np.empty(SPEC.nbytes, np.uint8)
    assert direct.direct_decoder(numcodecs.Zstd(level=1), SPEC.nbytes)(strided, out) is False
