"""Zarr v2 compressors and filters: byte compatibility with zarr-python 3 (format 2)."""

from __future__ import annotations

import itertools
import json
import os
import warnings

import numpy as np
import pytest

from exzarr.codecs import ChunkSpec, CodecPipeline

from codec_helpers import chunk_path_v2, comparable, read_bytes, write_bytes

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

SHAPE, CHUNKS = (9, 7), (4, 3)

COMPRESSORS = {
    "none": None,
    "zlib": {"id": "zlib", "level": 1},
    "gzip": {"id": "gzip", "level": 5},
    "zstd": {"id": "zstd", "level": 3},
    "lz4": {"id": "lz4", "acceleration": 1},
    "blosc": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
    "blosc-bit": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
    "bz2": {"id": "bz2", "level": 1},
    "lzma": {"id": "lzma", "format": 1, "check": -1, "preset": None, "filters": None},
}

FILTERS = {
    "none": (None, "<f8"),
    "delta": ([{"id": "delta", "dtype": "<i4"}], "<i4"),
    "delta-astype": ([{"id": "delta", "dtype": "<i4", "astype": "<i2"}], "<i4"),
    "fixedscaleoffset": ([{"id": "fixedscaleoffset", "offset": 10.0, "scale": 100.0, "dtype": "<f8",
                           "astype": "<i4"}], "<f8"),
    "quantize": ([{"id": "quantize", "digits": 2, "dtype": "<f8"}], "<f8"),
    "astype": ([{"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8"}], "<f8"),
    "packbits": ([{"id": "packbits"}], "|b1"),
    "categorize": ([{"id": "categorize", "labels": ["a", "bb", "ccc"], "dtype": "<U3", "astype": "|u1"}], "<U3"),
    "shuffle": ([{"id": "shuffle", "elementsize": 8}], "<f8"),
    "bitround": ([{"id": "bitround", "keepbits": 10}], "<f4"),
    "big-endian": (None, ">i8"),
    "datetime": (None, "<M8[s]"),
    "bytes": (None, "|S4"),
}


def _data(dtype):
    dt = np.dtype(dtype)
    n = int(np.prod(SHAPE))
    if dt.kind == "b":
        return (np.arange(n) % 3 == 0).reshape(SHAPE)
    if dt.kind == "U":
        return np.array(["a", "bb", "ccc"] * n, dtype=dt)[:n].reshape(SHAPE)
    if dt.kind == "S":
        return np.array([b"x", b"yy", b"", b"abcd", b"q"] * n, dtype=dt)[:n].reshape(SHAPE)
    if dt.kind == "M":
        return (np.arange(n) * 86400 + 10**9).astype(dt).reshape(SHAPE)
    return ((np.arange(n).reshape(SHAPE) * 37) % 101 / (4 if dt.kind == "f" else 1)).astype(dt)


def _fill(dt):
    return {"b": False, "U": "", "S": b""}.get(np.dtype(dt).kind, 0)


def _padded(data, coords):
    sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, CHUNKS))
    chunk = np.full(CHUNKS, _fill(data.dtype), dtype=data.dtype)
    part = data[sl]
    chunk[tuple(slice(0, n) for n in part.shape)] = part
    return chunk


def _coords():
    return list(itertools.product(*[range(-(-s // c)) for s, c in zip(SHAPE, CHUNKS)]))


def _create(path, dtype, compressor, filters, order):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comp = numcodecs.get_codec(compressor) if compressor else None
        filt = [numcodecs.get_codec(f) for f in filters] if filters else None
        return zarr.create_array(path, shape=SHAPE, chunks=CHUNKS, dtype=dtype, zarr_format=2,
                                 compressors=comp, filters=filt, order=order, fill_value=_fill(dtype))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("filt", sorted(FILTERS))
@pytest.mark.parametrize("comp", sorted(COMPRESSORS))
def test_v2_both_ways(tmp_path, comp, filt, order):
    filters, dtype = FILTERS[filt]
    compressor = COMPRESSORS[comp]
    data = _data(dtype)
    # zarr-python writes, we read
    path = str(tmp_path / "a.zarr")
    z = _create(path, dtype, compressor, filters, order)
    z[...] = data
    meta = json.load(open(os.path.join(path, ".zarray")))
    spec = ChunkSpec(CHUNKS, np.dtype(meta["dtype"]), None, meta["order"])
    pipe = CodecPipeline.from_v2(meta["compressor"], meta["filters"], spec)
    assert pipe.to_json() == (meta["compressor"], meta["filters"])
    lossy = filt in ("quantize", "bitround", "fixedscaleoffset", "astype")
    for coords in _coords():
        if not os.path.exists(chunk_path_v2(path, coords)):  # all fill: not written
            continue
        raw = read_bytes(chunk_path_v2(path, coords))
        got = pipe.decode(raw, key=".".join(map(str, coords)))
        want = np.asarray(z[tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, CHUNKS))])
        np.testing.assert_array_equal(got[tuple(slice(0, n) for n in want.shape)], want)
        out = np.empty(CHUNKS, spec.dtype)
        pipe.decode(raw, out=out)
        np.testing.assert_array_equal(out, got)
        if not lossy:
            np.testing.assert_array_equal(got, _padded(data, coords))
            assert comparable(pipe.encode(_padded(data, coords))) == comparable(raw)
    # we write, zarr-python reads
    path2 = str(tmp_path / "b.zarr")
    z2 = _create(path2, dtype, compressor, filters, order)
    for coords in _coords():
        write_bytes(chunk_path_v2(path2, coords), pipe.encode(_padded(data, coords)))
    np.testing.assert_array_equal(z2[...], z[...])


def test_snappy_v2_compatible_with_python_snappy(tmp_path):
    snappy = pytest.importorskip("snappy")
    from exzarr.codecs.snappy import Snappy  # registered in numcodecs on first use of numcodecs

    data = _data("<f8")
    spec = ChunkSpec(CHUNKS, np.dtype("<f8"), None, "C")
    pipe = CodecPipeline.from_v2({"id": "snappy"}, None, spec)
    chunk = _padded(data, (0, 0))
    raw = pipe.encode(chunk)
    assert raw == snappy.compress(chunk.tobytes())
    np.testing.assert_array_equal(pipe.decode(snappy.compress(chunk.tobytes())), chunk)
    # numcodecs' registry resolves the id, so zarr-python reads snappy arrays too
    assert isinstance(numcodecs.get_codec({"id": "snappy"}), Snappy)
    path = str(tmp_path / "s.zarr")
    z = _create(path, "<f8", {"id": "snappy"}, None, "C")
    z[...] = data
    raw = read_bytes(chunk_path_v2(path, (1, 1)))
    np.testing.assert_array_equal(pipe.decode(raw), _padded(data, (1, 1)))
