"""Interop both ways with zarr-python: arrays it writes we read exactly, arrays we write
it reads exactly, and the metadata JSON we write equals the JSON it writes."""

import json
import os
import warnings

import numcodecs
import numpy as np
import pytest

import exzarr as ez

zarr = pytest.importorskip("zarr")
from zarr.codecs import (BloscCodec, BytesCodec, Crc32cCodec, GzipCodec,  # noqa: E402
                         TransposeCodec, ZstdCodec)

SHAPE, CHUNKS = (7, 9), (3, 4)
REGION = (slice(0, 5), slice(0, 6))  # leaves some chunks unwritten (fill_value)

NUMERIC = ["bool", "int8", "uint8", "<i2", ">i2", "<u2", "<i4", ">u4", "<i8", ">u8",
           "<f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c16"]
V2_ONLY = ["<M8[ns]", "<m8[s]", ">M8[D]", "|S5", "<U4", ">U3"]


def sample(dtype, shape=SHAPE):
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    rng = np.random.default_rng(42)
    if dtype.kind == "b":
        v = rng.integers(0, 2, n).astype(bool)
    elif dtype.kind in "iu":
        v = rng.integers(0, min(np.iinfo(dtype).max, 10_000), n).astype(dtype)
    elif dtype.kind == "f":
        v = rng.normal(0, 50, n).astype(dtype)
        v[3] = np.nan
        v[5] = np.inf
    elif dtype.kind == "c":
        v = (rng.normal(size=n) + 1j * rng.normal(size=n)).astype(dtype)
    elif dtype.kind in "mM":
        v = rng.integers(0, 10**6, n).astype(dtype)
    elif dtype.kind == "S":
        v = np.array([f"b{i}".encode() for i in range(n)], dtype=dtype)
    else:
        v = np.array([f"u{i % 97}" for i in range(n)], dtype=dtype)
    return v.reshape(shape)


def fills_for(dtype):
    dtype = np.dtype(dtype)
    k = dtype.kind
    if k == "b":
        return [False, True]
    if k in "iu":
        return [0, 7]
    if k == "f":
        return [0.0, np.nan, np.inf, -np.inf, -2.5]
    if k == "c":
        return [0j, complex(1.5, -2), complex(np.nan, 0)]
    if k in "mM":
        return [0]
    if k == "S":
        return [b"", b"ab"]
    return ["", "zz"]


def expected(dtype, fill):
    want = np.full(SHAPE, fill, dtype=dtype)
    want[REGION] = sample(dtype)[REGION]
    return want


def check_equal(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape
    assert got.dtype.newbyteorder("=") == want.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, want)


def meta_json(path):
    for name in ("zarr.json", ".zarray"):
        p = os.path.join(path, name)
        if os.path.exists(p):
            with open(p) as f:
                return json.load(f)
    raise AssertionError(f"no metadata in {path}")


def roundtrip_both_ways(tmp_path, dtype, fill, zarr_kwargs, ez_kwargs, fmt, check_json=True):
    want = expected(dtype, fill)
    # zarr-python writes, exzarr reads
    zp = str(tmp_path / "by_zarr")
    za = zarr.create_array(zp, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill,
                           zarr_format=fmt, **zarr_kwargs)
    za[REGION] = sample(dtype)[REGION]
    check_equal(ez.open(zp, mode="r").read(), want)
    # exzarr writes, zarr-python reads
    ep = str(tmp_path / "by_exzarr")
    ea = ez.create(ep, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill, zarr_format=fmt,
                   **ez_kwargs)
    ea[REGION] = sample(dtype)[REGION]
    check_equal(zarr.open_array(ep, mode="r")[...], want)
    if check_json:
        assert meta_json(ep) == meta_json(zp)
    # same stored chunk keys
    assert sorted(_chunk_files(ep)) == sorted(_chunk_files(zp))


def _chunk_files(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            if f not in ("zarr.json", ".zarray", ".zattrs", ".zgroup"):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return out


@pytest.mark.parametrize("dtype", NUMERIC)
def test_v3_dtypes_and_fills(tmp_path, dtype):
    endian = "big" if np.dtype(dtype).byteorder == ">" else "little"
    for i, fill in enumerate(fills_for(dtype)):
        sub = tmp_path / str(i)
        zkw = {"serializer": BytesCodec(endian=endian)} if np.dtype(dtype).itemsize > 1 else {}
        roundtrip_both_ways(sub, dtype, fill, zkw, {}, 3)


@pytest.mark.parametrize("dtype", NUMERIC + V2_ONLY)
def test_v2_dtypes_and_fills(tmp_path, dtype):
    for i, fill in enumerate(fills_for(dtype)):
        roundtrip_both_ways(tmp_path / str(i), dtype, fill, {}, {}, 2)


def test_v2_null_fill_value(tmp_path):
    zp = str(tmp_path / "z")
    za = zarr.create_array(zp, shape=SHAPE, chunks=CHUNKS, dtype="i4", fill_value=None,
                           zarr_format=2)
    za[0, 0] = 5
    got = ez.open(zp).read()
    assert got[0, 0] == 5 and got[6, 8] == 0
    assert meta_json(zp)["fill_value"] is None


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("sep", [".", "/"])
def test_v2_layouts(tmp_path, order, sep):
    roundtrip_both_ways(tmp_path, "<f8", 0.0, {"order": order, "chunk_key_encoding":
                                                {"name": "v2", "separator": sep}},
                        {"order": order, "dimension_separator": sep}, 2)


@pytest.mark.parametrize("cke", [{"name": "default", "separator": "/"},
                                 {"name": "default", "separator": "."},
                                 {"name": "v2", "separator": "."},
                                 {"name": "v2", "separator": "/"}])
def test_v3_chunk_key_encodings(tmp_path, cke):
    ours = {"name": cke["name"], "configuration": {"separator": cke["separator"]}}
    roundtrip_both_ways(tmp_path, "<i4", 0, {"chunk_key_encoding": cke},
                        {"chunk_key_encoding": ours}, 3)


def test_v3_dimension_names_and_attributes(tmp_path):
    roundtrip_both_ways(tmp_path, "<f4", 0.0,
                        {"dimension_names": ["y", "x"], "attributes": {"units": "m", "n": [1, 2]}},
                        {"dimension_names": ["y", "x"], "attributes": {"units": "m", "n": [1, 2]}}, 3)
    assert ez.open(str(tmp_path / "by_zarr")).dimension_names == ("y", "x")


def test_v2_attributes(tmp_path):
    zp = str(tmp_path / "z")
    za = zarr.create_array(zp, shape=(3,), chunks=(2,), dtype="i1", zarr_format=2)
    za.attrs["title"] = "hello"
    z = ez.open(zp)
    assert z.attrs["title"] == "hello"
    z.attrs["more"] = {"a": 1}
    assert zarr.open_array(zp).attrs.asdict() == {"title": "hello", "more": {"a": 1}}


V3_CODECS = [
    ("none", {"compressors": None}, {"compressor": None}),
    ("gzip", {"compressors": GzipCodec(level=5)}, {"compressor": {"name": "gzip", "configuration": {"level": 5}}}),
    ("zstd", {"compressors": ZstdCodec(level=3, checksum=True)},
     {"compressor": {"name": "zstd", "configuration": {"level": 3, "checksum": True}}}),
    ("blosc", {"compressors": BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")},
     {"compressor": {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                         "typesize": 4, "blocksize": 0}}}),
    ("crc32c", {"compressors": [ZstdCodec(level=1), Crc32cCodec()]},
     {"codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                 {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                 {"name": "crc32c"}]}),
    ("transpose", {"filters": TransposeCodec(order=(1, 0)), "compressors": None},
     {"codecs": [{"name": "transpose", "configuration": {"order": [1, 0]}},
                 {"name": "bytes", "configuration": {"endian": "little"}}]}),
]


@pytest.mark.parametrize("name,zkw,ekw", V3_CODECS, ids=[c[0] for c in V3_CODECS])
def test_v3_codecs(tmp_path, name, zkw, ekw):
    roundtrip_both_ways(tmp_path, "<f4", 0.0, zkw, ekw, 3)


V2_COMPRESSORS = [numcodecs.Zlib(level=3), numcodecs.GZip(level=4), numcodecs.Zstd(level=2),
                  numcodecs.LZ4(acceleration=1), numcodecs.Blosc(cname="zstd", clevel=3,
                                                                shuffle=numcodecs.Blosc.BITSHUFFLE),
                  numcodecs.BZ2(level=5), numcodecs.LZMA(preset=1), None]


@pytest.mark.parametrize("comp", V2_COMPRESSORS, ids=lambda c: c.codec_id if c else "none")
def test_v2_compressors(tmp_path, comp):
    cfg = comp.get_config() if comp else None
    roundtrip_both_ways(tmp_path, "<i4", 0, {"compressors": comp}, {"compressor": cfg}, 2)
    # the name form works too
    if comp is not None:
        z = ez.create(str(tmp_path / "byname"), shape=(4,), dtype="i4", zarr_format=2,
                      compressor=comp.codec_id)
        z[:] = [1, 2, 3, 4]
        assert zarr.open_array(str(tmp_path / "byname"))[...].tolist() == [1, 2, 3, 4]


V2_FILTERS = [
    ("delta", "<i4", [numcodecs.Delta(dtype="<i4")]),
    ("fixedscaleoffset", "<f8", [numcodecs.FixedScaleOffset(offset=10, scale=100, dtype="<f8",
                                                            astype="<i4")]),
    ("quantize", "<f8", [numcodecs.Quantize(digits=3, dtype="<f8")]),
    ("astype", "<f8", [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")]),
    ("packbits", "bool", [numcodecs.PackBits()]),
    ("shuffle", "<i8", [numcodecs.Shuffle(elementsize=8)]),
    ("bitround", "<f4", [numcodecs.BitRound(keepbits=10)]),
]


@pytest.mark.parametrize("name,dtype,filters", V2_FILTERS, ids=[f[0] for f in V2_FILTERS])
def test_v2_filters(tmp_path, name, dtype, filters):
    # lossy filters: both implementations must agree with each other exactly
    zp, ep = str(tmp_path / "z"), str(tmp_path / "e")
    data = sample(dtype)
    fill = False if dtype == "bool" else 0
    za = zarr.create_array(zp, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill,
                           filters=filters, zarr_format=2)
    za[...] = data
    ea = ez.create(ep, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill,
                   filters=[f.get_config() for f in filters], zarr_format=2)
    ea[...] = data
    mine, theirs = ez.open(zp).read(), zarr.open_array(ep)[...]
    np.testing.assert_array_equal(mine, za[...])
    np.testing.assert_array_equal(theirs, ea.read())
    np.testing.assert_array_equal(ea.read(), za[...])
    assert meta_json(ep) == meta_json(zp)


def test_v2_categorize(tmp_path):
    zp = str(tmp_path / "z")
    labels = ["apple", "pear", "fig"]
    data = np.array(["apple", "fig", "pear", "apple", "fig"], dtype="<U5")
    za = zarr.create_array(zp, shape=(5,), chunks=(2,), dtype="<U5", fill_value="",
                           filters=[numcodecs.Categorize(labels, dtype="<U5", astype="u1")],
                           compressors=None, zarr_format=2)
    za[...] = data
    z = ez.open(zp)
    check_equal(z.read(), data)
    z[1] = "pear"
    data[1] = "pear"
    check_equal(zarr.open_array(zp)[...], data)


def test_numcodecs_v3_names(tmp_path):
    zp = str(tmp_path / "z")
    from zarr.codecs.numcodecs import Delta
    with warnings.catch_warnings():  # zarr-python may warn that numcodecs.* is unstable
        warnings.simplefilter("ignore")
        za = zarr.create_array(zp, shape=(10,), chunks=(4,), dtype="<i8",
                               filters=[Delta(dtype="<i8")], compressors=None)
    za[...] = np.arange(10) * 3
    assert ez.open(zp).read().tolist() == list(range(0, 30, 3))
    ep = str(tmp_path / "e")
    ea = ez.create(ep, shape=(10,), chunks=(4,), dtype="<i8",
                   codecs=[{"name": "numcodecs.delta", "configuration": {"dtype": "<i8"}},
                           {"name": "bytes", "configuration": {"endian": "little"}}])
    ea[...] = np.arange(10) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert zarr.open_array(ep)[...].tolist() == list(range(0, 30, 3))


V3_EXTENSION_DTYPES = [("<M8[ns]", None), (">M8[10s]", None), ("<m8[us]", None),
                       ("<U4", "zz"), ("|S5", b"ab")]


@pytest.mark.parametrize("dtype,fill", V3_EXTENSION_DTYPES, ids=[d for d, _ in V3_EXTENSION_DTYPES])
def test_v3_extension_data_types(tmp_path, dtype, fill):
    """zarr-python 3's numpy.datetime64/timedelta64, fixed_length_utf32 and
    null_terminated_bytes data types, both ways, with identical metadata."""
    if fill is None:
        fill = np.zeros((), dtype=dtype)[()]  # the epoch / zero duration
    zkw = {}
    if np.dtype(dtype).byteorder == ">":
        zkw["serializer"] = BytesCodec(endian="big")
    with warnings.catch_warnings():  # zarr-python warns these types are not in the spec
        warnings.simplefilter("ignore")
        roundtrip_both_ways(tmp_path, dtype, fill, zkw, {}, 3)
