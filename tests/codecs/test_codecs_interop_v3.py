"""Byte compatibility of v3 codec chains with zarr-python 3 (and tensorstore).

For each chain: zarr-python writes an array and we decode its chunk files; we encode
chunks into a fresh array's files and zarr-python (and tensorstore) read them; for
deterministic chains the bytes we write equal the bytes zarr-python writes.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings

import numpy as np
import pytest

from exzarr.codecs import ChunkSpec, CodecPipeline

from codec_helpers import (BYTES_BE, BYTES_LE, chunk_path_v3, comparable, open_zarr, read_bytes,
                           write_bytes, write_v3_metadata)

zarr = pytest.importorskip("zarr")

SHAPE, CHUNKS = (9, 7), (4, 3)

CHAINS = {
    "bytes": [BYTES_LE],
    "bytes-big": [BYTES_BE],
    "transpose": [{"name": "transpose", "configuration": {"order": [1, 0]}}, BYTES_LE],
    "transpose+zstd": [{"name": "transpose", "configuration": {"order": [1, 0]}}, BYTES_BE,
                       {"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
    "gzip": [BYTES_LE, {"name": "gzip", "configuration": {"level": 5}}],
    "zstd": [BYTES_LE, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
    "zstd-checksum": [BYTES_LE, {"name": "zstd", "configuration": {"level": 5, "checksum": True}}],
    "blosc": [BYTES_LE, {"name": "blosc", "configuration": {
        "typesize": 4, "cname": "zstd", "clevel": 5, "shuffle": "shuffle", "blocksize": 0}}],
    "blosc-lz4-bitshuffle": [BYTES_LE, {"name": "blosc", "configuration": {
        "typesize": 4, "cname": "lz4", "clevel": 9, "shuffle": "bitshuffle", "blocksize": 0}}],
    "blosc-noshuffle": [BYTES_LE, {"name": "blosc", "configuration": {
        "typesize": 4, "cname": "blosclz", "clevel": 1, "shuffle": "noshuffle", "blocksize": 0}}],
    "crc32c": [BYTES_LE, {"name": "crc32c"}],
    "gzip+crc32c": [BYTES_LE, {"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}],
    "numcodecs.zlib": [BYTES_LE, {"name": "numcodecs.zlib", "configuration": {"level": 1}}],
    "numcodecs.lz4": [BYTES_LE, {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}],
    "numcodecs.bz2": [BYTES_LE, {"name": "numcodecs.bz2", "configuration": {"level": 1}}],
    "numcodecs.lzma": [BYTES_LE, {"name": "numcodecs.lzma", "configuration": {}}],
    "numcodecs.shuffle": [BYTES_LE, {"name": "numcodecs.shuffle", "configuration": {"elementsize": 4}}],
    "numcodecs.crc32": [BYTES_LE, {"name": "numcodecs.crc32", "configuration": {}}],
    "numcodecs.delta": [{"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}}, BYTES_LE,
                        {"name": "numcodecs.zstd", "configuration": {"level": 1}}],
    "numcodecs.delta-astype": [{"name": "numcodecs.delta", "configuration": {"dtype": "<i4", "astype": "<i2"}},
                               BYTES_LE],
    "numcodecs.fixedscaleoffset": [{"name": "numcodecs.fixedscaleoffset", "configuration": {
        "offset": 0, "scale": 1, "dtype": "<i4", "astype": "<i2"}}, BYTES_LE],
    "numcodecs.astype": [{"name": "numcodecs.astype", "configuration": {
        "encode_dtype": "<i8", "decode_dtype": "<i4"}}, BYTES_LE],
    "numcodecs.blosc": [BYTES_LE, {"name": "numcodecs.blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}}],
}
# chains tensorstore implements (core codecs only)
TENSORSTORE_OK = {"bytes", "bytes-big", "transpose", "transpose+zstd", "gzip", "zstd", "zstd-checksum",
                  "blosc", "blosc-lz4-bitshuffle", "blosc-noshuffle", "crc32c", "gzip+crc32c"}


def _data(dtype="<i4"):
    return ((np.arange(np.prod(SHAPE)).reshape(SHAPE) * 7919) % 1000 - 300).astype(dtype)


def _chunk_coords():
    grid = [-(-s // c) for s, c in zip(SHAPE, CHUNKS)]
    return list(itertools.product(*map(range, grid)))


def _padded_chunk(data, coords, fill=0):
    sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, CHUNKS))
    chunk = np.full(CHUNKS, fill, dtype=data.dtype)
    part = data[sl]
    chunk[tuple(slice(0, n) for n in part.shape)] = part
    return chunk


@pytest.fixture(params=sorted(CHAINS))
def chain(request):
    return request.param


def test_zarr_python_writes_we_read(tmp_path, chain):
    path = str(tmp_path / "a.zarr")
    write_v3_metadata(path, SHAPE, CHUNKS, "<i4", CHAINS[chain])
    data = _data()
    open_zarr(path)[...] = data
    codecs = json.load(open(os.path.join(path, "zarr.json")))["codecs"]
    pipe = CodecPipeline.from_v3(codecs, ChunkSpec(CHUNKS, np.dtype("<i4"), 0))
    for coords in _chunk_coords():
        raw = read_bytes(chunk_path_v3(path, coords))
        expected = _padded_chunk(data, coords)
        np.testing.assert_array_equal(pipe.decode(raw, key=str(coords)), expected)
        out = np.empty(CHUNKS, "<i4")
        pipe.decode(raw, out=out)
        np.testing.assert_array_equal(out, expected)
        # deterministic codecs: our bytes are their bytes
        crc = codecs[-1]["name"] == "crc32c"
        assert comparable(pipe.encode(expected), crc) == comparable(raw, crc)


def test_we_write_zarr_python_reads(tmp_path, chain):
    path = str(tmp_path / "b.zarr")
    write_v3_metadata(path, SHAPE, CHUNKS, "<i4", CHAINS[chain])
    data = _data()
    pipe = CodecPipeline.from_v3(CHAINS[chain], ChunkSpec(CHUNKS, np.dtype("<i4"), 0))
    assert pipe.to_json() == CHAINS[chain]
    for coords in _chunk_coords():
        write_bytes(chunk_path_v3(path, coords), pipe.encode(_padded_chunk(data, coords)))
    np.testing.assert_array_equal(open_zarr(path)[...], data)
    if chain in TENSORSTORE_OK:
        ts = pytest.importorskip("tensorstore")
        arr = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}).result()
        np.testing.assert_array_equal(arr.read().result(), data)


DTYPE_CASES = [("|b1", False), ("|u1", 7), ("|i1", -1), ("<u2", 0), ("<i8", 5), ("<f2", 0.5),
               ("<f4", float("nan")), ("<f8", -1.5), ("<c8", 1 + 2j), ("<c16", 0)]


@pytest.mark.parametrize("dtype,fill", DTYPE_CASES, ids=[d for d, _ in DTYPE_CASES])
@pytest.mark.parametrize("endian", ["little", "big"])
def test_dtypes_both_ways(tmp_path, dtype, fill, endian):
    """Every dtype through bytes(endian)+blosc(defaults), as zarr-python fills them in."""
    dt = np.dtype(dtype)
    rng = np.random.default_rng(1)
    data = (rng.random(SHAPE) * 100).astype(dt) if dt.kind != "b" else rng.random(SHAPE) > 0.5
    if dt.kind == "c":
        data = data + 1j * data[::-1]
    codecs = [{"name": "bytes", "configuration": {"endian": endian}} if dt.itemsize > 1 else {"name": "bytes"},
              {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5}}]
    spec = ChunkSpec(CHUNKS, dt, np.asarray(fill, dtype=dt)[()])
    pipe = CodecPipeline.from_v3(codecs, spec)
    written = pipe.to_json()
    # zarr-python fills typesize/shuffle from the dtype: so do we
    import zarr.codecs as zc

    zp_blosc = zc.BloscCodec(cname="lz4", clevel=5).evolve_from_array_spec(
        type("S", (), {"dtype": zarr.core.dtype.parse_dtype(dt, zarr_format=3)})())
    assert written[1] == zp_blosc.to_dict()
    path = str(tmp_path / "c.zarr")
    write_v3_metadata(path, SHAPE, CHUNKS, dt, written, fill)
    for coords in _chunk_coords():
        write_bytes(chunk_path_v3(path, coords), pipe.encode(_padded_chunk(data, coords, fill)))
    z = open_zarr(path)
    np.testing.assert_array_equal(z[...], data)
    z[...] = data[::-1]
    for coords in _chunk_coords():
        raw = read_bytes(chunk_path_v3(path, coords))
        got = pipe.decode(raw)
        exp = _padded_chunk(data[::-1], coords, fill)
        assert got.tobytes() == exp.tobytes()


def test_zarr_python_default_json_builds_same_pipeline(tmp_path):
    """zarr-python's own create_array defaults: our pipeline re-emits its codec JSON."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dt in ["u1", "<f4", "<i8"]:
            for kw in [{}, {"compressors": zarr.codecs.BloscCodec()},
                       {"compressors": zarr.codecs.GzipCodec()}]:
                path = str(tmp_path / f"d{dt}{len(kw)}{list(kw.values())}.zarr")
                zarr.create_array(path, shape=(4, 4), chunks=(2, 2), dtype=dt, **kw)
                codecs = json.load(open(os.path.join(path, "zarr.json")))["codecs"]
                pipe = CodecPipeline.from_v3(codecs, ChunkSpec((2, 2), np.dtype(dt), 0))
                assert pipe.to_json() == codecs
                bare = [{"name": c["name"], **({"configuration": {k: v for k, v in c["configuration"].items()
                                                                   if k not in ("typesize", "shuffle")}}
                                                if c["name"] == "blosc" else {})} for c in codecs]
                assert CodecPipeline.from_v3(bare, ChunkSpec((2, 2), np.dtype(dt), 0)).to_json() == codecs
