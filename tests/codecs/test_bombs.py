"""Decompression bombs, appended bytes and sharding ``chunk_shape`` validation (issue 11).

Every bomb is a stored chunk of a 1 MiB chunk (or a 256 KiB inner chunk) that would
inflate to 1 GiB (or claims 2**40 bytes, or 2**27 strings).  Reading it must raise
:class:`~exzarr.errors.DecompressionError` naming the chunk, and must cost about one
chunk of memory: the peak RSS of a child process that reads the bomb (after reading a
valid array with the same codecs, so imports and first-use costs are not counted) is
measured from ``/proc/self/status`` (``VmHWM`` after resetting it through
``/proc/self/clear_refs``; ``ru_maxrss`` cannot be used: Linux carries the parent's peak
over ``exec``).  No bomb is ever inflated here: they
are built from zero pages (``np.zeros`` is not committed memory), repeated deflate
segments, concatenated streams or hand-made zstd frames of RLE blocks.

Run this file alone with ``-s`` to print the table of bombs and peak memory.
"""

from __future__ import annotations

import bz2
import functools
import json
import lzma
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

import exzarr as ez
from exzarr.codecs import ChunkSpec, CodecPipeline
from exzarr.errors import DecompressionError, InvalidMetadataError

GIB = 1 << 30
CHUNK = 1 << 18  # float32 items: 1 MiB chunks
SHAPE = dict(shape=(CHUNK,), chunks=(CHUNK,), dtype="<f4")
MAX_GROWTH = 64 << 20  # peak RSS growth allowed while reading a bomb (vs 1 GiB inflated)

pytestmark = pytest.mark.timeout(120)


# -- bomb builders (never inflating anything) ----------------------------------------------

@functools.lru_cache(maxsize=None)
def _zeros_checksums(total: int) -> tuple[int, int]:
    block = bytes(1 << 20)
    crc, adler = 0, 1
    for _ in range(total >> 20):
        crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
    return crc, adler


@functools.lru_cache(maxsize=None)
def deflate_bomb(kind: str, total: int = GIB) -> bytes:
    """A valid zlib/gzip stream of ``total`` zero bytes: one full-flushed deflate segment
    of 1 MiB repeated (after a full flush the segment bytes are always the same)."""
    wbits = {"zlib": 15, "gzip": 31}[kind]
    block = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    seg = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc, adler = _zeros_checksums(total)
    n = total >> 20
    if kind == "zlib":
        trailer = adler.to_bytes(4, "big")
        return head + seg * (n - 1) + tail[:-4] + trailer
    trailer = crc.to_bytes(4, "little") + (total % 2**32).to_bytes(4, "little")
    return head + seg * (n - 1) + tail[:-8] + trailer


def zstd_bomb(total: int = GIB, content_size: int | None = -1) -> bytes:
    """A valid zstd frame of ``total`` zero bytes made of 128 KiB RLE blocks (4 bytes each);
    ``content_size`` -1 records the true size, None none, else the given (false) size."""
    fcs = total if content_size == -1 else content_size
    out = b"\x28\xb5\x2f\xfd" + (bytes([0x00, 0x38]) if fcs is None
                                   else bytes([0xC0, 0x38]) + fcs.to_bytes(8, "little"))
    n = total // (128 << 10)
    block = lambda last: (int(last) | (1 << 1) | ((128 << 10) << 3)).to_bytes(3, "little") + b"\0"
    return out + block(False) * (n - 1) + block(True)


@functools.lru_cache(maxsize=None)
def numcodecs_bomb(codec_id: str, total: int = GIB) -> bytes:
    import numcodecs

    codec = {"blosc": lambda: numcodecs.Blosc(cname="lz4"), "lz4": numcodecs.LZ4}[codec_id]()
    return bytes(codec.encode(np.zeros(total, np.uint8)))  # zero pages: not committed memory


@functools.lru_cache(maxsize=None)
def stream_bomb(kind: str, total: int = GIB) -> bytes:
    """Concatenated bz2 / xz streams of 8 MiB of zeros each (valid multi-stream files)."""
    piece = bytes(8 << 20)
    one = bz2.compress(piece) if kind == "bz2" else lzma.compress(piece, preset=0)
    return one * (total // len(piece))


def vlen_bomb() -> bytes:
    """12 bytes claiming 2**27 strings."""
    return struct.pack("<II", 2**27, 4) + b"abcd"


def crc32c_suffix(data: bytes) -> bytes:
    import crc32c

    return data + crc32c.crc32c(data).to_bytes(4, "little")


def shard_with_inner(inner: bytes, chunks_per_shard: int) -> bytes:
    """A shard (index at the end, bytes + crc32c) whose first inner chunk is ``inner``."""
    index = np.full((chunks_per_shard, 2), 2**64 - 1, dtype="<u8")
    index[0] = (0, len(inner))
    return inner + crc32c_suffix(index.tobytes())


def pco_header_bytes(n_hint: int) -> bytes:
    """A pco standalone header (version 3, no uniform type) announcing ``n_hint`` numbers
    (0: unknown), then pco format version 4.1."""
    log2 = max(n_hint.bit_length(), 1)
    bits = (log2 - 1) | (n_hint << 6)
    return b"pco!" + bytes([3, 0]) + bits.to_bytes((6 + log2 + 7) // 8, "little") + b"\x04\x01"


@functools.lru_cache(maxsize=None)
def pco_bomb(n_hint: int | None = CHUNK, total: int = 1 << 28) -> bytes:
    """A pcodec stream of ``total`` float32 zeros (1 GiB) made of repeated pco chunks of
    2**18 zeros; its header announces ``n_hint`` numbers (``None``: the truth)."""
    import numcodecs

    one = bytes(numcodecs.PCodec(level=0).encode(np.zeros(1 << 18, "<f4")))
    head = pco_header_bytes(1 << 18)
    assert one.startswith(head) and one.endswith(b"\0")
    body = one[len(head):-1]  # one pco chunk: type byte, count, metadata, page
    return pco_header_bytes(total if n_hint is None else n_hint) + body * (total >> 18) + b"\0"


def msgpack_bomb() -> bytes:
    """5 bytes: a msgpack array32 header claiming 2**32 - 1 items."""
    return b"\xdd\xff\xff\xff\xff"


class _ShapeBomb:
    """Pickles as an object array whose state claims 2**40 items but carries one (NumPy's
    own ``__setstate__`` crashes the interpreter on it)."""

    def __reduce__(self):
        from numpy._core.multiarray import _reconstruct

        return (_reconstruct, (np.ndarray, (0,), b"b"), (1, (2**40,), np.dtype("O"), False, ["x"]))


def pickle_bomb() -> bytes:
    import pickle

    return pickle.dumps(_ShapeBomb(), protocol=5)


ZSTD = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}

#: name -> (create kwargs, chunk key, stored bytes, logical decoded size)
BOMBS = {
    "v2 zlib": (dict(zarr_format=2, compressor={"id": "zlib", "level": 1}), "0",
                lambda: deflate_bomb("zlib"), "1 GiB"),
    "v2 gzip": (dict(zarr_format=2, compressor={"id": "gzip", "level": 1}), "0",
                lambda: deflate_bomb("gzip"), "1 GiB"),
    "v3 gzip": (dict(compressor={"name": "gzip", "configuration": {"level": 1}}), "c/0",
                lambda: deflate_bomb("gzip"), "1 GiB"),
    "v3 zstd with content size": (dict(compressor=ZSTD), "c/0", lambda: zstd_bomb(), "1 GiB"),
    "v3 zstd without content size": (dict(compressor=ZSTD), "c/0",
                                     lambda: zstd_bomb(content_size=None), "1 GiB"),
    "v3 zstd header claiming 2**40": (dict(compressor=ZSTD), "c/0",
                                      lambda: zstd_bomb(1 << 20, content_size=1 << 40), "2**40 B"),
    "v2 zstd without content size": (dict(zarr_format=2, compressor={"id": "zstd", "level": 0}),
                                     "0", lambda: zstd_bomb(content_size=None), "1 GiB"),
    "v3 zstd behind crc32c": (dict(codecs=[BYTES, ZSTD, {"name": "crc32c"}]), "c/0",
                              lambda: crc32c_suffix(zstd_bomb(content_size=None)), "1 GiB"),
    "v3 blosc": (dict(compressor={"name": "blosc", "configuration": {"cname": "lz4"}}), "c/0",
                 lambda: numcodecs_bomb("blosc"), "1 GiB"),
    "v2 blosc": (dict(zarr_format=2, compressor={"id": "blosc", "cname": "lz4"}), "0",
                 lambda: numcodecs_bomb("blosc"), "1 GiB"),
    "v2 lz4": (dict(zarr_format=2, compressor={"id": "lz4"}), "0",
               lambda: numcodecs_bomb("lz4"), "1 GiB"),
    "v2 bz2": (dict(zarr_format=2, compressor={"id": "bz2", "level": 1}), "0",
               lambda: stream_bomb("bz2"), "1 GiB"),
    "v2 lzma": (dict(zarr_format=2, compressor={"id": "lzma", "preset": 0}), "0",
                lambda: stream_bomb("xz"), "1 GiB"),
    "v3 sharded inner chunk (zstd)": (
        dict(shards=(CHUNK,), chunks=(CHUNK // 4,), compressor=ZSTD), "c/0",
        lambda: shard_with_inner(zstd_bomb(content_size=None), 4), "1 GiB"),
    "v3 sharded inner chunk (gzip)": (
        dict(shards=(CHUNK,), chunks=(CHUNK // 4,), compressor={"name": "gzip", "configuration": {"level": 1}}),
        "c/0", lambda: shard_with_inner(deflate_bomb("gzip"), 4), "1 GiB"),
    "v3 vlen-utf8 claiming 2**27 items": (dict(dtype=str, compressor=None), "c/0", vlen_bomb,
                                          "2**27 items"),
    "v3 vlen-utf8 + zstd": (dict(dtype=str, compressor=ZSTD), "c/0",
                            lambda: zstd_bomb(content_size=None), "1 GiB"),
    "v3 vlen-utf8 + gzip": (dict(dtype=str, compressor={"name": "gzip", "configuration": {"level": 1}}),
                            "c/0", lambda: deflate_bomb("gzip"), "1 GiB"),
    "v2 vlen-utf8 + zlib": (dict(zarr_format=2, dtype=str, compressor={"id": "zlib", "level": 1}), "0",
                            lambda: deflate_bomb("zlib"), "1 GiB"),
    "v2 pcodec, header claiming the chunk size": (
        dict(zarr_format=2, compressor={"id": "pcodec", "level": 0}), "0", lambda: pco_bomb(), "1 GiB"),
    "v2 pcodec, header without a count": (
        dict(zarr_format=2, compressor={"id": "pcodec", "level": 0}), "0", lambda: pco_bomb(0), "1 GiB"),
    "v3 numcodecs.pcodec, true count in header": (
        dict(codecs=[{"name": "numcodecs.pcodec", "configuration": {"level": 0}}]), "c/0",
        lambda: pco_bomb(None), "1 GiB"),
    "v3 numcodecs.pcodec, header claiming the chunk size": (
        dict(codecs=[{"name": "numcodecs.pcodec", "configuration": {"level": 0}}]), "c/0",
        lambda: pco_bomb(), "1 GiB"),
    "v2 msgpack2 claiming 2**32 items": (
        dict(zarr_format=2, dtype=str, compressor=None, filters=[{"id": "msgpack2"}]), "0",
        msgpack_bomb, "2**32 items"),
    "v2 pickle claiming 2**40 objects": (
        dict(zarr_format=2, dtype=str, compressor=None, filters=[{"id": "pickle"}]), "0",
        pickle_bomb, "2**40 items"),
}


def make_array(root: Path, name: str, kwargs: dict, key: str | None, payload: bytes | None):
    """A valid array of the bomb's codecs (filled), with chunk ``key`` replaced by ``payload``."""
    opts = {**SHAPE, **kwargs}
    z = ez.create(str(root / name), overwrite=True, fill_value="" if opts["dtype"] is str else 0, **opts)
    if opts["dtype"] is str:
        z[...] = np.array(["x"] * CHUNK, dtype=object)
    else:
        z[...] = np.arange(CHUNK, dtype="<f4")
    if payload is not None:
        path = root / name / key
        assert path.exists(), sorted(os.listdir(root / name))
        path.write_bytes(payload)
    return z


CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import exzarr as ez

    def status(field):  # Linux: this process's own figures (ru_maxrss is inherited on exec)
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(field + ":"))

    good, bomb = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        ez.config.set_global(max_chunk_bytes=int(sys.argv[3]))
    np.asarray(ez.open(good, mode="r")[...])  # imports and first-use costs
    z = ez.open(bomb, mode="r")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = status("VmRSS")
    try:
        np.asarray(z[...])
        err = None
    except Exception as e:
        err = [type(e).__name__, str(e)]
    after = status("VmHWM")
    print(json.dumps({"before_kib": before, "after_kib": after, "error": err}))
""")


def run_child(root: Path, name: str, limit: int | None = None) -> dict:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("peak RSS is measured with /proc/self/status and clear_refs (Linux)")
    env = {**os.environ, "EXZARR_JIT": "0"}
    args = [sys.executable, "-c", CHILD, str(root / "good"), str(root / name)]
    if limit is not None:
        args.append(str(limit))
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=100)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


FIGURES: dict[str, tuple[int, int]] = {}


@pytest.mark.parametrize("name", list(BOMBS))
def test_bomb_is_refused_in_bounded_memory(tmp_path, name):
    kwargs, key, payload, logical = BOMBS[name]
    data = payload()
    make_array(tmp_path, "good", kwargs, None, None)
    make_array(tmp_path, "bomb", kwargs, key, data)
    # in process: the typed error, naming the chunk
    with pytest.raises(DecompressionError) as info:
        np.asarray(ez.open(str(tmp_path / "bomb"), mode="r")[...])
    assert key.split("/")[-1] in str(info.value) and "bomb" in str(info.value)
    # in a child: the peak memory
    res = run_child(tmp_path, "bomb")
    assert res["error"] is not None and res["error"][0] == "DecompressionError", res
    growth = (res["after_kib"] - res["before_kib"]) * 1024
    FIGURES[name] = (len(data), growth)
    print(f"\n{name}: {len(data)} stored bytes -> {logical}; peak RSS growth "
          f"{growth / 2**20:.1f} MiB; {res['error'][1][:100]}")
    bound = MAX_GROWTH + (ez.config.get().max_chunk_bytes if "vlen-utf8 +" in name else 0)
    assert growth < bound, f"{name}: reading the bomb grew peak RSS by {growth} bytes"


def test_limit_for_unfixed_sizes_is_configurable(tmp_path):
    """vlen-utf8 + gzip: the compressor's output size is not fixed by the metadata, so the
    stream stops at max_chunk_bytes (here 8 MiB), and peak memory follows that setting."""
    kwargs, key, payload, _ = BOMBS["v3 vlen-utf8 + gzip"]
    make_array(tmp_path, "good", kwargs, None, None)
    make_array(tmp_path, "bomb", kwargs, key, payload())
    res = run_child(tmp_path, "bomb", limit=8 << 20)
    assert res["error"][0] == "DecompressionError" and "max_chunk_bytes" in res["error"][1]
    assert (res["after_kib"] - res["before_kib"]) * 1024 < 32 << 20
    with ez.config.set(max_chunk_bytes=1 << 20):
        with pytest.raises(DecompressionError, match="max_chunk_bytes"):
            np.asarray(ez.open(str(tmp_path / "bomb"), mode="r")[...])
    # a genuine chunk over the limit reads once the limit is raised
    big = ez.create(str(tmp_path / "big"), shape=(4,), chunks=(4,), dtype=str, fill_value="",
                    compressor={"name": "gzip", "configuration": {"level": 1}})
    big[...] = np.array(["y" * (1 << 20)] * 4, dtype=object)
    with ez.config.set(max_chunk_bytes=1 << 20):
        with pytest.raises(DecompressionError):
            np.asarray(ez.open(str(tmp_path / "big"), mode="r")[...])
    assert np.asarray(ez.open(str(tmp_path / "big"), mode="r")[...])[3] == "y" * (1 << 20)


def test_zstd_header_claiming_2_40_bytes_is_typed_not_memory_error():
    spec = ChunkSpec((CHUNK,), np.dtype("<f4"), 0)
    pipe = CodecPipeline.from_v3([BYTES, ZSTD], spec)
    with pytest.raises(DecompressionError, match="1099511627776"):
        pipe.decode(zstd_bomb(1 << 20, content_size=1 << 40), key="c/0")
    with pytest.raises(DecompressionError):  # without an exact size: the limit
        CodecPipeline.from_v3([{"name": "vlen-utf8"}, ZSTD], ChunkSpec((4,), np.dtype(object), "")
                              ).decode(zstd_bomb(1 << 20, content_size=1 << 40))


def test_vlen_item_count_checked_against_the_chunk():
    pipe = CodecPipeline.from_v3([{"name": "vlen-utf8"}], ChunkSpec((3,), np.dtype(object), ""))
    good = pipe.encode(np.array(["a", "bc", ""], dtype=object))
    assert list(pipe.decode(good)) == ["a", "bc", ""]
    with pytest.raises(DecompressionError, match="declares 134217728 items"):
        pipe.decode(vlen_bomb(), key="c/0")
    with pytest.raises(DecompressionError, match="need at least"):
        CodecPipeline.from_v3([{"name": "vlen-utf8"}], ChunkSpec((2**27,), np.dtype(object), "")
                              ).decode(vlen_bomb())
    v2 = CodecPipeline.from_v2(None, [{"id": "vlen-utf8"}], ChunkSpec((3,), np.dtype(object), ""))
    with pytest.raises(DecompressionError, match="declares 134217728 items"):
        v2.decode(vlen_bomb())


# -- bytes appended after a compressed stream ----------------------------------------------

APPENDED = [b"\0", b"\0" * 8, b"garbage!"]
COMPRESSORS_V2 = [{"id": "zlib", "level": 1}, {"id": "gzip", "level": 1}, {"id": "zstd", "level": 0},
                  {"id": "blosc", "cname": "lz4"}, {"id": "lz4"}, {"id": "bz2", "level": 1},
                  {"id": "lzma", "preset": 0}]
COMPRESSORS_V3 = [{"name": "gzip", "configuration": {"level": 1}}, ZSTD,
                  {"name": "blosc", "configuration": {"cname": "zstd"}},
                  {"name": "numcodecs.zlib", "configuration": {"level": 1}},
                  {"name": "numcodecs.lz4", "configuration": {}}]
SPEC = ChunkSpec((64, 8), np.dtype("<i4"), 0)
DATA = np.arange(512, dtype="<i4").reshape(64, 8)


@pytest.mark.parametrize("extra", APPENDED, ids=["zero", "zeros", "text"])
@pytest.mark.parametrize("comp", COMPRESSORS_V2, ids=lambda c: c["id"])
def test_v2_appended_bytes_fail(comp, extra):
    for order in ("C", "F"):
        pipe = CodecPipeline.from_v2(comp, None, SPEC.evolve(order=order))
        raw = pipe.encode(DATA)
        np.testing.assert_array_equal(pipe.decode(raw), DATA)
        with pytest.raises(DecompressionError):
            pipe.decode(raw + extra, key="0.0")


@pytest.mark.parametrize("extra", APPENDED, ids=["zero", "zeros", "text"])
@pytest.mark.parametrize("comp", COMPRESSORS_V3, ids=lambda c: c["name"])
def test_v3_appended_bytes_fail(comp, extra):
    for chain in ([BYTES, comp], [{"name": "bytes", "configuration": {"endian": "big"}}, comp],
                  [{"name": "transpose", "configuration": {"order": [1, 0]}}, BYTES, comp]):
        pipe = CodecPipeline.from_v3(chain, SPEC)
        raw = pipe.encode(DATA)
        np.testing.assert_array_equal(pipe.decode(raw), DATA)
        with pytest.raises(DecompressionError):
            pipe.decode(raw + extra, key="c/0/0")


def test_multi_member_gzip_is_still_gzip():
    """A second complete gzip member is valid gzip (RFC 1952), decoded within the bound."""
    import gzip

    pipe = CodecPipeline.from_v3([BYTES, {"name": "gzip", "configuration": {"level": 1}}], SPEC)
    raw = DATA.tobytes()
    two = gzip.compress(raw[:1000]) + gzip.compress(raw[1000:])
    np.testing.assert_array_equal(pipe.decode(two), DATA)
    with pytest.raises(DecompressionError):
        pipe.decode(two + gzip.compress(b"x"))  # one byte too many


def test_truncated_streams_fail():
    for comp in COMPRESSORS_V3:
        pipe = CodecPipeline.from_v3([BYTES, comp], SPEC)
        raw = pipe.encode(DATA)
        with pytest.raises(DecompressionError):
            pipe.decode(raw[:-3])


def test_zstd_frame_bound():
    from exzarr.codecs.bounded import zstd_frames_bound
    import numcodecs

    real = bytes(numcodecs.Zstd().encode(np.arange(100_000, dtype="<i8")))
    assert zstd_frames_bound(memoryview(real)) == 800_000  # content size recorded
    assert zstd_frames_bound(memoryview(zstd_bomb(1 << 20, content_size=None))) == 1 << 20
    with pytest.raises(ValueError, match="after the last zstd frame"):
        zstd_frames_bound(memoryview(real + b"abc"))


# -- sharding chunk_shape ------------------------------------------------------------------

@pytest.mark.parametrize("bad", [[4.5, 4], [4, "4"], [4.0, 4], [True, 4], "44", [], 4, None, [4, None]])
def test_sharding_chunk_shape_must_be_integers(bad):
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": bad, "codecs": [BYTES], "index_codecs": [BYTES, {"name": "crc32c"}]}}]
    with pytest.raises(InvalidMetadataError, match="chunk_shape"):
        CodecPipeline.from_v3(codecs, ChunkSpec((8, 8), np.dtype("<f4"), 0))


def test_sharding_chunk_shape_in_stored_metadata(tmp_path):
    z = ez.create(str(tmp_path / "a"), shape=(8, 8), chunks=(4, 4), shards=(8, 8), dtype="<f4",
                  fill_value=0)
    z[...] = np.ones((8, 8), "<f4")
    meta_path = tmp_path / "a" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["codecs"][0]["configuration"]["chunk_shape"] = [4.5, 4]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InvalidMetadataError, match="chunk_shape"):
        np.asarray(ez.open(str(tmp_path / "a"), mode="r")[...])


