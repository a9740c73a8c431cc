"""sharding_indexed: shards from zarr-python and tensorstore decoded whole and by parts,
and our shards read by them (index at end/start, nested, missing inner chunks)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from exzarr.codecs import ChunkSpec, CodecPipeline
from exzarr.codecs.byte_ranges import split
from exzarr.errors import ChecksumMismatchError, DecompressionError, InvalidMetadataError

from codec_helpers import (BYTES_LE, chunk_path_v3, open_zarr, read_bytes, write_bytes,
                           write_v3_metadata)

SHAPE, SHARD, INNER = (10, 12), (4, 6), (2, 3)
MISSING = 2**64 - 1


def sharding(location="end", inner=INNER, codecs=None, index_codecs=None):
    cfg = {"chunk_shape": list(inner),
           "codecs": codecs if codecs is not None else [BYTES_LE, {"name": "zstd", "configuration": {
               "level": 0, "checksum": False}}],
           "index_codecs": index_codecs if index_codecs is not None else [BYTES_LE, {"name": "crc32c"}],
           "index_location": location}
    return {"name": "sharding_indexed", "configuration": cfg}


LAYOUTS = {
    "end": [sharding("end")],
    "start": [sharding("start")],
    "no-crc-index": [sharding("end", index_codecs=[BYTES_LE])],
    "gzip-inner": [sharding("start", codecs=[BYTES_LE, {"name": "gzip", "configuration": {"level": 1}},
                                             {"name": "crc32c"}])],
    "nested": [sharding("end", inner=(2, 6), codecs=[sharding("start", inner=(1, 3))])],
}


def _data():
    a = (np.arange(np.prod(SHAPE), dtype="<i4").reshape(SHAPE) * 31) % 97 + 1
    a[0:2, 0:3] = 0     # one inner chunk entirely fill_value: omitted from the shard
    a[4:8, 6:12] = 0    # a whole shard of fill
    return a


def _shard_coords():
    return list(itertools.product(*[range(-(-s // c)) for s, c in zip(SHAPE, SHARD)]))


def _padded(data, coords):
    sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, SHARD))
    out = np.zeros(SHARD, data.dtype)
    part = data[sl]
    out[tuple(slice(0, n) for n in part.shape)] = part
    return out


def _pipe(layout):
    return CodecPipeline.from_v3(LAYOUTS[layout], ChunkSpec(SHARD, np.dtype("<i4"), np.int32(0)))


def _partial_read(pipe, raw, coords_list, key="k"):
    """What the core does: fetch the index range, then coalesced inner ranges."""
    start, stop = pipe.index_byte_range()
    index = pipe.decode_index(raw[start:stop], key=key)
    plans, missing = pipe.plan_inner_reads(index, coords_list, max_gap=0)
    got = {c: pipe.decode_inner_chunk(None, c) for c in missing}
    for plan in plans:
        lo, hi = plan.byte_range
        for coords, piece in split(plan, raw[lo:hi]).items():
            got[coords] = pipe.decode_inner_chunk(piece, coords, key=key)
    return got


def _check_shard(pipe, raw, expected):
    np.testing.assert_array_equal(pipe.decode(raw), expected)
    out = np.empty(SHARD, "<i4")
    assert pipe.decode(raw, out=out) is out
    np.testing.assert_array_equal(out, expected)
    if pipe.supports_partial_decode:
        coords_all = list(np.ndindex(*pipe.chunks_per_shard))
        for coords, arr in _partial_read(pipe, raw, coords_all).items():
            np.testing.assert_array_equal(arr, expected[pipe.inner_chunk_slices(coords)])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_zarr_python_shards(tmp_path, layout):
    path = str(tmp_path / "z.zarr")
    write_v3_metadata(path, SHAPE, SHARD, "<i4", LAYOUTS[layout])
    data = _data()
    open_zarr(path)[...] = data
    pipe = _pipe(layout)
    for coords in _shard_coords():
        p = chunk_path_v3(path, coords)
        expected = _padded(data, coords)
        try:
            raw = read_bytes(p)
        except FileNotFoundError:
            assert not expected.any()
            continue
        _check_shard(pipe, raw, expected)
    # we write, zarr-python and tensorstore read
    path2 = str(tmp_path / "w.zarr")
    write_v3_metadata(path2, SHAPE, SHARD, "<i4", pipe.to_json())
    for coords in _shard_coords():
        write_bytes(chunk_path_v3(path2, coords), pipe.encode(_padded(data, coords)))
    np.testing.assert_array_equal(open_zarr(path2)[...], data)
    ts = pytest.importorskip("tensorstore")
    arr = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path2}}).result()
    np.testing.assert_array_equal(arr.read().result(), data)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_tensorstore_shards(tmp_path, layout):
    ts = pytest.importorskip("tensorstore")
    path = str(tmp_path / "t.zarr")
    write_v3_metadata(path, SHAPE, SHARD, "<i4", LAYOUTS[layout])
    data = _data()
    arr = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}).result()
    arr.write(data).result()
    pipe = _pipe(layout)
    seen = 0
    for coords in _shard_coords():
        try:
            raw = read_bytes(chunk_path_v3(path, coords))
        except FileNotFoundError:
            continue
        seen += 1
        _check_shard(pipe, raw, _padded(data, coords))
    assert seen >= 3


def test_missing_inner_chunks_are_omitted_and_read_as_fill():
    spec = ChunkSpec(SHARD, np.dtype("<f8"), np.float64(np.nan))
    pipe = CodecPipeline.from_v3([sharding("end", codecs=[BYTES_LE])], spec)
    a = np.full(SHARD, np.nan)
    a[2:4, 3:6] = 1.5
    a[0, 0] = -0.0  # not the fill's bytes: must be kept
    raw = pipe.encode(a)
    index = pipe.decode_index(raw[pipe.index_byte_range()[0]:])
    present = {c for c in np.ndindex(*pipe.chunks_per_shard) if index[c][0] != MISSING}
    assert present == {(0, 0), (1, 1)}
    assert all(tuple(index[c]) == (MISSING, MISSING) for c in [(0, 1), (1, 0)])
    assert len(raw) == 2 * 6 * 8 + 4 * 16 + 4
    np.testing.assert_array_equal(pipe.decode(raw), a)
    assert np.signbit(pipe.decode(raw)[0, 0])
    empty = pipe.decode_inner_chunk(None, (0, 1))
    assert empty.shape == INNER and np.isnan(empty).all()


def test_inner_entries_are_each_inner_chunks_byte_range():
    """``inner_entries``: every given inner chunk's (offset, nbytes) at once, in the order
    given (repeats included), as ``inner_byte_range`` reads them one by one."""
    spec = ChunkSpec(SHARD, np.dtype("<f8"), np.float64(np.nan))
    pipe = CodecPipeline.from_v3([sharding("end", codecs=[BYTES_LE])], spec)
    a = np.full(SHARD, np.nan)
    a[2:4, 3:6] = 1.5
    raw = pipe.encode(a)
    index = pipe.decode_index(raw[pipe.index_byte_range()[0]:])
    coords = [(1, 1), (0, 1), (0, 0), (1, 1), (1, 0)]
    got = pipe.inner_entries(index, coords)
    for c, (off, n) in zip(coords, got):
        rng = pipe.inner_byte_range(index, c)
        assert (None if off == MISSING else (off, off + n)) == rng
    assert len(got) == len(coords)


def test_index_layout_exact_bytes():
    """Index: (offset, nbytes) uint64 LE per inner chunk in C order, then crc32c LE."""
    import crc32c

    pipe = CodecPipeline.from_v3([sharding("start", codecs=[BYTES_LE])],
                                 ChunkSpec((4, 6), np.dtype("<u2"), 0))
    a = np.arange(24, dtype="<u2").reshape(4, 6) + 1
    raw = pipe.encode(a)
    n = 4 * 16 + 4
    assert pipe.index_byte_range() == (0, n)
    body = np.frombuffer(raw[:n - 4], "<u8").reshape(2, 2, 2)
    assert int.from_bytes(raw[n - 4:n], "little") == crc32c.crc32c(raw[:n - 4])
    for coords in np.ndindex(2, 2):
        off, nb = body[coords]
        assert nb == 12
        np.testing.assert_array_equal(np.frombuffer(raw[off:off + nb], "<u2").reshape(2, 3),
                                      a[pipe.inner_chunk_slices(coords)])


def test_corrupt_index_checksum_names_key():
    pipe = _pipe("end")
    raw = bytearray(pipe.encode(_padded(_data(), (0, 0))))
    raw[-10] ^= 0xFF
    with pytest.raises(ChecksumMismatchError, match="c/0/0") as e:
        pipe.decode(bytes(raw), key="c/0/0")
    assert "skip_checksum=True" in str(e.value)
    with pytest.raises(ChecksumMismatchError, match="c/0/0"):
        pipe.decode_index(bytes(raw[-pipe.index_nbytes:]), key="c/0/0")


def test_truncated_shard_and_bad_index():
    pipe = _pipe("end")
    raw = pipe.encode(_padded(_data(), (0, 0)))
    with pytest.raises(DecompressionError):
        pipe.decode(raw[:10], key="c/0/0")
    with pytest.raises(DecompressionError, match="past the end"):
        pipe.decode(raw[-pipe.index_nbytes:], key="c/0/0")  # index intact, data gone
    # an index entry with only one of offset/nbytes missing
    nocrc = CodecPipeline.from_v3([sharding("end", index_codecs=[BYTES_LE])],
                                  ChunkSpec(SHARD, np.dtype("<i4"), 0))
    raw = bytearray(nocrc.encode(_padded(_data(), (0, 0))))
    raw[-8:] = (2**64 - 1).to_bytes(8, "little")
    with pytest.raises(DecompressionError, match="only one"):
        nocrc.decode(bytes(raw))


def test_partial_read_coalescing_and_reuse_of_encoded_inner_chunks():
    pipe = CodecPipeline.from_v3([sharding("end", inner=(1, 1), codecs=[BYTES_LE])],
                                 ChunkSpec((2, 4), np.dtype("<i8"), 0))
    a = np.arange(1, 9, dtype="<i8").reshape(2, 4)
    raw = pipe.encode(a)
    index = pipe.decode_index(raw[-pipe.index_nbytes:])
    plans, missing = pipe.plan_inner_reads(index, [(0, 0), (0, 1), (0, 3), (1, 2), (1, 1)], max_gap=7)
    assert missing == []
    # 8-byte inner chunks in C order: (0,0)@0 (0,1)@8 (0,3)@24 (1,1)@40 (1,2)@48
    assert [p.byte_range for p in plans] == [(0, 16), (24, 32), (40, 56)]
    assert plans[2].parts == (((1, 1), 0, 8), ((1, 2), 8, 16))
    plans, _ = pipe.plan_inner_reads(index, [(0, 0), (0, 1), (0, 3), (1, 2)], max_gap=16)
    assert [p.byte_range for p in plans] == [(0, 56)]
    plans, _ = pipe.plan_inner_reads(index, [(1, 2), (0, 0)], max_gap=100, max_size=16)
    assert [p.byte_range for p in plans] == [(0, 8), (48, 56)]
    plans, _ = pipe.plan_inner_reads(index, [(0, 0), (0, 1), (0, 3), (1, 2)], max_gap=0)
    assert [p.byte_range for p in plans] == [(0, 16), (24, 32), (48, 56)]
    got = _partial_read(pipe, raw, [(0, 3), (1, 2)])
    assert got[(0, 3)][0, 0] == 4 and got[(1, 2)][0, 0] == 7
    # partial shard write: re-use encoded bytes of untouched inner chunks
    chunks = {c: bytes(raw[slice(*pipe.inner_byte_range(index, c))]) for c in np.ndindex(2, 4)}
    chunks[(1, 3)] = np.array([[99]], dtype="<i8")
    chunks[(0, 0)] = np.zeros((1, 1), "<i8")  # all fill: dropped
    new = pipe.encode_shard_from_inner(chunks)
    expected = a.copy()
    expected[1, 3], expected[0, 0] = 99, 0
    np.testing.assert_array_equal(pipe.decode(new), expected)
    assert pipe.encode_inner_chunk(np.zeros((1, 1), "<i8")) is None


def test_sharding_config_errors():
    spec = ChunkSpec(SHARD, np.dtype("<i4"), 0)
    with pytest.raises(InvalidMetadataError, match="divide"):
        CodecPipeline.from_v3([sharding(inner=(3, 3))], spec)
    with pytest.raises(InvalidMetadataError, match="fixed-size"):
        CodecPipeline.from_v3([sharding(index_codecs=[BYTES_LE, {"name": "gzip"}])], spec)
    with pytest.raises(InvalidMetadataError, match="index_location"):
        CodecPipeline.from_v3([sharding(location="middle")], spec)
    # partial access is refused when other codecs wrap the shard
    wrapped = CodecPipeline.from_v3([sharding(), {"name": "crc32c"}], spec)
    assert wrapped.is_sharded and not wrapped.supports_partial_decode
    with pytest.raises(ValueError):
        wrapped.index_byte_range()
    a = _padded(_data(), (0, 0))
    np.testing.assert_array_equal(wrapped.decode(wrapped.encode(a)), a)
    plain = CodecPipeline.from_v3([BYTES_LE], spec)
    assert not plain.is_sharded and plain.inner_chunk_shape is None
    assert _pipe("end").inner_chunk_shape == INNER


BYTES_BE = {"name": "bytes", "configuration": {"endian": "big"}}


@pytest.mark.parametrize("index_codecs", [[BYTES_LE, {"name": "crc32c"}], [BYTES_LE],
                                          [BYTES_BE, {"name": "crc32c"}], [BYTES_BE]])
def test_index_decoded_directly_equals_the_codec_chain(index_codecs):
    """The usual index (little-endian, with or without crc32c) is decoded by the checksum
    codec and a NumPy view instead of the generic chain: the same array, owned and
    writable, and a corrupt checksum still fails; a big-endian index takes the chain."""
    pipe = CodecPipeline.from_v3([sharding("end", index_codecs=index_codecs)],
                                 ChunkSpec(SHARD, np.dtype("<i4"), 0))
    shard = pipe._shard()
    assert shard._plain_index == (index_codecs[0] is BYTES_LE)
    raw = pipe.encode(_padded(_data(), (0, 0)))
    index_raw = raw[-pipe.index_nbytes:]
    got = pipe.decode_index(index_raw, key="c/0/0")
    expected = shard.index.decode(index_raw)
    assert got.dtype == np.uint64 and got.shape == shard.chunks_per_shard + (2,)
    np.testing.assert_array_equal(got, expected)
    assert got.flags.writeable and not np.shares_memory(got, np.frombuffer(index_raw, np.uint8))
    np.testing.assert_array_equal(pipe.decode(raw), _padded(_data(), (0, 0)))
    if len(index_codecs) == 2:
        bad = bytearray(index_raw)
        bad[3] ^= 0xFF
        with pytest.raises(ChecksumMismatchError, match="c/0/0"):
            pipe.decode_index(bytes(bad), key="c/0/0")
