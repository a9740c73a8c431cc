"""Corrupt, truncated and checksum-failing chunks give clear typed errors, never garbage."""

from __future__ import annotations

import numpy as np
import pytest

from exzarr.codecs import ChunkSpec, CodecPipeline
from exzarr.errors import ChecksumMismatchError, DecompressionError, ExzarrError

from codec_helpers import BYTES_LE


class FakeStore:
    url = "file:///data/t.zarr"


SPEC = ChunkSpec((16, 16), np.dtype("<f8"), 0.0)
DATA = np.sin(np.arange(256, dtype="<f8")).reshape(16, 16)

V3 = {
    "bytes": [BYTES_LE],
    "gzip": [BYTES_LE, {"name": "gzip", "configuration": {"level": 5}}],
    "zstd": [BYTES_LE, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
    "blosc": [BYTES_LE, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5}}],
    "blosc-zstd": [BYTES_LE, {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 5}}],
    "numcodecs.lz4": [BYTES_LE, {"name": "numcodecs.lz4", "configuration": {}}],
    "numcodecs.zlib": [BYTES_LE, {"name": "numcodecs.zlib", "configuration": {}}],
    "numcodecs.bz2": [BYTES_LE, {"name": "numcodecs.bz2", "configuration": {}}],
    "numcodecs.lzma": [BYTES_LE, {"name": "numcodecs.lzma", "configuration": {}}],
    "numcodecs.snappy": [BYTES_LE, {"name": "numcodecs.snappy", "configuration": {}}],
    "sharded": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [8, 8], "codecs": [
        BYTES_LE, {"name": "zstd"}]}}],
}
V2 = ["zlib", "gzip", "zstd", "lz4", "blosc", "bz2", "lzma", "snappy"]


def _pipes():
    for name, chain in V3.items():
        yield f"v3-{name}", CodecPipeline.from_v3(chain, SPEC)
    for cid in V2:
        yield f"v2-{cid}", CodecPipeline.from_v2({"id": cid}, None, SPEC)
    yield "v2-none", CodecPipeline.from_v2(None, None, SPEC)
    yield "v2-filters", CodecPipeline.from_v2({"id": "zstd"}, [{"id": "delta", "dtype": "<f8"}], SPEC)


PIPES = dict(_pipes())


@pytest.mark.parametrize("name", sorted(PIPES))
def test_truncated_chunk_raises(name):
    pipe = PIPES[name]
    raw = pipe.encode(DATA)
    cuts = sorted({0, 1, 3, 4, 15, 16, 17, len(raw) // 3, len(raw) // 2, len(raw) - 5, len(raw) - 1})
    for n in cuts:
        for out in (None, np.empty(SPEC.shape, SPEC.dtype)):
            with pytest.raises(DecompressionError) as e:
                pipe.decode(raw[:n], store=FakeStore(), key="t.zarr/c/1/2", out=out)
            msg = str(e.value)
            assert "c/1/2" in msg and "file:///data/t.zarr" in msg
            assert e.value.key == "t.zarr/c/1/2"


@pytest.mark.parametrize("name", sorted(PIPES))
def test_corrupt_chunk_never_crashes(name):
    """Flipped bytes: either a DecompressionError or a chunk of the right shape."""
    pipe = PIPES[name]
    raw = pipe.encode(DATA)
    rng = np.random.default_rng(3)
    for _ in range(30):
        bad = bytearray(raw)
        for pos in rng.integers(0, len(raw), size=3):
            bad[pos] ^= int(rng.integers(1, 256))
        try:
            got = pipe.decode(bytes(bad), key="k")
        except DecompressionError as e:
            assert "'k'" in str(e)
        else:
            assert got.shape == SPEC.shape and got.dtype == SPEC.dtype
    # garbage and an oversized chunk
    for junk in (b"\x00" * 7, b"not a chunk at all" * 10, raw + b"\x00" * 9):
        try:
            got = pipe.decode(junk, key="k")
        except DecompressionError:
            pass
        else:
            assert got.shape == SPEC.shape


def test_wrong_size_is_an_error_not_garbage():
    """A chunk that decompresses fine but to the wrong size (other shape/dtype)."""
    small = CodecPipeline.from_v3([BYTES_LE, {"name": "zstd"}], ChunkSpec((8, 8), "<f8", 0))
    raw = small.encode(np.ones((8, 8)))
    for pipe in (CodecPipeline.from_v3(V3["zstd"], SPEC), CodecPipeline.from_v2({"id": "zstd"}, None, SPEC)):
        for out in (None, np.empty(SPEC.shape, SPEC.dtype)):
            with pytest.raises(DecompressionError, match="expected 2048"):
                pipe.decode(raw, key="k", out=out)


CRC = [BYTES_LE, {"name": "zstd"}, {"name": "crc32c"}]


def test_crc32c_mismatch_names_key_and_skip_checksum():
    pipe = CodecPipeline.from_v3(CRC, SPEC)
    raw = bytearray(pipe.encode(DATA))
    raw[-1] ^= 0x01  # damage only the stored checksum
    with pytest.raises(ChecksumMismatchError) as e:
        pipe.decode(bytes(raw), store=FakeStore(), key="t.zarr/c/0/0")
    msg = str(e.value)
    assert "t.zarr/c/0/0" in msg and "skip_checksum=True" in msg and "crc32c" in msg
    assert isinstance(e.value, DecompressionError) and isinstance(e.value, ExzarrError)
    with pytest.raises(ChecksumMismatchError):
        pipe.decode(bytes(raw), out=np.empty(SPEC.shape, SPEC.dtype))
    lenient = CodecPipeline.from_v3(CRC, SPEC, skip_checksum=True)
    np.testing.assert_array_equal(lenient.decode(bytes(raw)), DATA)
    out = np.empty(SPEC.shape, SPEC.dtype)
    lenient.decode(bytes(raw), out=out)
    np.testing.assert_array_equal(out, DATA)
    # payload damage is caught by the checksum even where zstd would not notice
    raw = bytearray(CodecPipeline.from_v3([BYTES_LE, {"name": "crc32c"}], SPEC).encode(DATA))
    raw[100] ^= 0x10
    with pytest.raises(ChecksumMismatchError, match="'k'"):
        CodecPipeline.from_v3([BYTES_LE, {"name": "crc32c"}], SPEC).decode(bytes(raw), key="k")


def test_numcodecs_checksum_mismatch_is_checksum_error():
    chain = [BYTES_LE, {"name": "numcodecs.crc32", "configuration": {}}]
    pipe = CodecPipeline.from_v3(chain, SPEC)
    raw = bytearray(pipe.encode(DATA))
    raw[50] ^= 0x01
    with pytest.raises(ChecksumMismatchError, match="'k'"):
        pipe.decode(bytes(raw), key="k")
    got = CodecPipeline.from_v3(chain, SPEC, skip_checksum=True).decode(bytes(raw))
    assert got.shape == SPEC.shape


def test_bad_out_buffer():
    pipe = CodecPipeline.from_v3(V3["zstd"], SPEC)
    raw = pipe.encode(DATA)
    for bad in (np.empty((16, 15)), np.empty((16, 16), "<f4"), np.empty((16, 16), order="F")):
        with pytest.raises(ValueError):
            pipe.decode(raw, out=bad)
    with pytest.raises(ValueError):
        pipe.encode(np.zeros((3, 3)))


def test_bytes_codec_on_a_string_array_is_invalid_metadata():
    """``bytes`` has nothing to lay out for variable-length elements: a stored array that
    pairs it with ``string`` fails when opened, with a typed error naming the fix (it
    used to fail with NumPy's ValueError at the first chunk read)."""
    import json

    import exzarr as ez
    from exzarr.errors import InvalidMetadataError
    from exzarr.storage import MemoryStore

    store = MemoryStore()
    store.set("zarr.json", json.dumps({
        "zarr_format": 3, "node_type": "array", "shape": [10, 6], "data_type": "string",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 3]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": "", "codecs": ["bytes"]}).encode())
    store.set("c/0/0", b"x" * 96)
    with pytest.raises(InvalidMetadataError, match="vlen-utf8"):
        ez.open(store)[0:3, 0:3].read()


def test_a_codec_configuration_numpy_cannot_parse_is_invalid_metadata():
    """A v2 filter whose dtype string NumPy parses as a Python literal and fails on (it
    raises SyntaxError): a typed error naming the codec (found by the metadata fuzzer)."""
    import json

    import exzarr as ez
    from exzarr.errors import InvalidMetadataError
    from exzarr.storage import MemoryStore

    store = MemoryStore()
    store.set(".zarray", json.dumps({
        "zarr_format": 2, "shape": [10], "chunks": [4], "dtype": "<i4", "fill_value": 0,
        "order": "F", "filters": [{"id": "delta", "dtype": ","}],
        "compressor": {"id": "zlib", "level": 1}}).encode())
    with pytest.raises(InvalidMetadataError, match="delta"):
        ez.open(store)
