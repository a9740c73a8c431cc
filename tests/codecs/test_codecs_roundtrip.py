"""Property tests: every codec chain round-trips arbitrary arrays, decode(out=) == decode()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from exzarr.codecs import ChunkSpec, CodecPipeline

from codec_helpers import BYTES_BE, BYTES_LE

pytestmark = pytest.mark.property

DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<u2", "<i4", ">u4", "<i8", ">i8", "<u8",
          "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c16"]

shapes = st.one_of(
    st.just(()),
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=7),
)


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(shapes)
    arr = draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype, allow_nan=True)))
    # any memory layout: sometimes hand over a Fortran-ordered or strided copy
    layout = draw(st.sampled_from(["C", "F", "strided"]))
    if layout == "F":
        arr = np.asfortranarray(arr)
    elif layout == "strided" and arr.ndim:
        big = np.repeat(arr, 2, axis=-1)
        arr = big[..., ::2]
    return arr


def transpose_for(ndim):
    return {"name": "transpose", "configuration": {"order": list(range(ndim))[::-1]}}


V3_CHAINS = {
    "bytes-le": lambda n: [BYTES_LE],
    "bytes-be": lambda n: [BYTES_BE],
    "gzip": lambda n: [BYTES_LE, {"name": "gzip", "configuration": {"level": 1}}],
    "zstd": lambda n: [BYTES_LE, {"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
    "blosc": lambda n: [BYTES_BE, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5}}],
    "blosc-bitshuffle": lambda n: [BYTES_LE, {"name": "blosc", "configuration": {
        "cname": "zstd", "clevel": 1, "shuffle": "bitshuffle", "typesize": 4, "blocksize": 0}}],
    "crc32c": lambda n: [BYTES_LE, {"name": "crc32c"}],
    "zstd+crc32c": lambda n: [BYTES_LE, {"name": "zstd"}, {"name": "crc32c"}],
    "transpose": lambda n: [transpose_for(n), BYTES_LE, {"name": "zstd"}],
    "numcodecs.zlib": lambda n: [BYTES_LE, {"name": "numcodecs.zlib", "configuration": {"level": 1}}],
    "numcodecs.lz4": lambda n: [BYTES_LE, {"name": "numcodecs.lz4", "configuration": {}}],
    "numcodecs.bz2": lambda n: [BYTES_LE, {"name": "numcodecs.bz2", "configuration": {"level": 1}}],
    "numcodecs.lzma": lambda n: [BYTES_LE, {"name": "numcodecs.lzma", "configuration": {}}],
    "numcodecs.shuffle": lambda n: [BYTES_LE, {"name": "numcodecs.shuffle", "configuration": {}}],
    "numcodecs.crc32": lambda n: [BYTES_LE, {"name": "numcodecs.crc32", "configuration": {}}],
    "numcodecs.snappy": lambda n: [BYTES_LE, {"name": "numcodecs.snappy", "configuration": {}}],
}


def _pipelines_agree(p, arr):
    raw = p.encode(arr)
    assert isinstance(raw, bytes)
    dec = p.decode(raw)
    assert dec.shape == arr.shape and dec.dtype == arr.dtype
    np.testing.assert_array_equal(dec, arr)
    assert dec.tobytes() == np.ascontiguousarray(arr).tobytes()  # bit-exact (NaN payloads, -0.0)
    out = np.full(arr.shape, 1, dtype=arr.dtype)
    res = p.decode(raw, out=out)
    assert res is out
    assert out.tobytes() == dec.tobytes()


@pytest.mark.parametrize("chain", sorted(V3_CHAINS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=arrays())
def test_v3_roundtrip(chain, arr):
    spec = ChunkSpec(arr.shape, arr.dtype, np.zeros((), arr.dtype), "C")
    _pipelines_agree(CodecPipeline.from_v3(V3_CHAINS[chain](arr.ndim), spec), arr)


@st.composite
def shardable(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    ndim = draw(st.integers(1, 3))
    inner = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    mult = tuple(draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim)))
    shape = tuple(i * m for i, m in zip(inner, mult))
    arr = draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype, allow_nan=True)))
    # make some inner chunks entirely fill_value
    if arr.size and draw(st.booleans()):
        arr[tuple(slice(0, i) for i in inner)] = 0
    return arr, inner


@settings(max_examples=60, deadline=None)
@given(case=shardable(), location=st.sampled_from(["start", "end"]),
       compress=st.booleans(), nested=st.booleans())
def test_sharding_roundtrip(case, location, compress, nested):
    arr, inner = case
    inner_codecs = [BYTES_LE] + ([{"name": "zstd"}] if compress else [])
    if nested and all(i % 1 == 0 for i in inner):
        inner_codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [1] * len(inner), "codecs": inner_codecs}}]
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(inner), "codecs": inner_codecs, "index_location": location}}]
    spec = ChunkSpec(arr.shape, arr.dtype, np.zeros((), arr.dtype), "C")
    p = CodecPipeline.from_v3(codecs, spec)
    _pipelines_agree(p, arr)


V2_COMPRESSORS = [None, {"id": "zlib", "level": 1}, {"id": "gzip", "level": 1}, {"id": "zstd", "level": 1},
                  {"id": "lz4", "acceleration": 1}, {"id": "bz2", "level": 1}, {"id": "lzma"},
                  {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
                  {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
                  {"id": "snappy"}]


@pytest.mark.parametrize("compressor", V2_COMPRESSORS, ids=lambda c: c["id"] if c else "none")
@settings(max_examples=30, deadline=None)
@given(arr=arrays(), order=st.sampled_from("CF"), shuffle_filter=st.booleans())
def test_v2_roundtrip(compressor, arr, order, shuffle_filter):
    filters = [{"id": "shuffle", "elementsize": arr.dtype.itemsize}] if shuffle_filter else None
    spec = ChunkSpec(arr.shape, arr.dtype, None, order)
    _pipelines_agree(CodecPipeline.from_v2(compressor, filters, spec), arr)


V2_EXTRA_DTYPES = ["<M8[ns]", ">M8[s]", "<m8[ms]", "|S5", "<U3", ">U2"]


@pytest.mark.parametrize("dtype", V2_EXTRA_DTYPES)
@pytest.mark.parametrize("compressor", [None, {"id": "zstd", "level": 1}, {"id": "blosc"}])
def test_v2_roundtrip_other_dtypes(dtype, compressor):
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)
    if dt.kind in "Mm":
        arr = rng.integers(-2**40, 2**40, size=(4, 3)).astype(dt)
    elif dt.kind == "S":
        arr = np.array([[b"ab", b"hello", b""]] * 4, dtype=dt)
    else:
        arr = np.array([["a", "\u00e9t\u00e9", ""]] * 4, dtype=dt)
    for order in "CF":
        _pipelines_agree(CodecPipeline.from_v2(compressor, None, ChunkSpec(arr.shape, dt, None, order)), arr)


@pytest.mark.parametrize("filters", [
    [{"id": "delta", "dtype": "<i4"}],
    [{"id": "delta", "dtype": "<i4", "astype": "<i2"}],
    [{"id": "fixedscaleoffset", "offset": 100, "scale": 1, "dtype": "<i4", "astype": "<i2"}],
    [{"id": "astype", "encode_dtype": "<i8", "decode_dtype": "<i4"}],
    [{"id": "shuffle", "elementsize": 4}, {"id": "delta", "dtype": "<i4"}],
])
def test_v2_lossless_filters(filters):
    arr = (np.arange(60, dtype="<i4").reshape(6, 10) % 17) * 3
    for order in "CF":
        spec = ChunkSpec(arr.shape, arr.dtype, 0, order)
        _pipelines_agree(CodecPipeline.from_v2({"id": "zstd", "level": 1}, filters, spec), arr)
