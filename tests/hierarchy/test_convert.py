"""convert (v2 <-> v3) and copy: exact data, codec mapping, rechunking, bounded memory."""

import json
import tracemalloc

import numpy as np
import pytest

import exzarr as ez
from exzarr.codecs import BytesBytesCodec, register
from exzarr.errors import CodecError, NodeExistsError
from exzarr.storage import MemoryStore

zarr = pytest.importorskip("zarr")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr-python's numcodecs notes


def _source_v2(path):
    """A v2 hierarchy with awkward cases: F order, big endian, NaN fill, filters, partial
    and missing chunks, attributes, xarray's _ARRAY_DIMENSIONS."""
    rng = np.random.default_rng(0)
    g = ez.group(path, zarr_format=2, attributes={"title": "src", "n": [1, 2]})
    a = g.create_array("sub/f", shape=(37, 23), chunks=(8, 5), dtype="f4", order="F",
                       fill_value=np.nan, compressor={"id": "zlib", "level": 3},
                       attributes={"_ARRAY_DIMENSIONS": ["y", "x"], "units": "K"})
    data_a = rng.standard_normal((37, 23)).astype("f4")
    data_a[5:12, 3:9] = np.nan
    a[:] = data_a
    b = g.create_array("b", shape=(100,), chunks=(16,), dtype=">i4", fill_value=-7,
                       compressor="gzip")
    b[:40] = np.arange(40)  # chunks 3.. missing: read as the fill value
    d = g.create_array("d", shape=(50,), chunks=(20,), dtype="<i8",
                       filters=[{"id": "delta", "dtype": "<i8"}], compressor=None)
    d[:] = np.arange(50) ** 2
    c = g.create_array("sub/deeper/c", shape=(9, 4, 3), chunks=(4, 4, 2), dtype="u2",
                       compressor={"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2})
    c[:] = np.arange(9 * 4 * 3, dtype="u2").reshape(9, 4, 3)
    g.create_group("empty", attributes={"e": True})
    return g


def _assert_same_hierarchy(a, b):
    ma = {p: n for p, n in a.members(max_depth=None)}
    mb = {p: n for p, n in b.members(max_depth=None)}
    assert sorted(ma) == sorted(mb)
    assert dict(a.attrs) == dict(b.attrs)
    for p, na in ma.items():
        nb = mb[p]
        assert type(na) is type(nb), p
        if isinstance(na, ez.ZArray):
            assert na.shape == nb.shape and na.dtype.newbyteorder("=") == nb.dtype.newbyteorder("=")
            np.testing.assert_array_equal(na[...].read(), nb[...].read(), err_msg=p)
            fa, fb = na.fill_value, nb.fill_value
            assert (np.isnan(fa) and np.isnan(fb)) if na.dtype.kind == "f" and np.isnan(fa) else fa == fb


def test_v2_to_v3_to_v2_roundtrip_with_rechunking(tmp_path):
    src = _source_v2(str(tmp_path / "src.zarr"))
    v3 = ez.convert(src, str(tmp_path / "v3.zarr"), zarr_format=3)
    assert v3.zarr_format == 3
    for _, n in v3.members(max_depth=None):
        assert n.zarr_format == 3
    f3 = v3["sub/f"]
    assert f3.dimension_names == ("y", "x") and "_ARRAY_DIMENSIONS" not in f3.attrs
    names = [c["name"] for c in f3.codecs]
    assert names == ["transpose", "bytes", "numcodecs.zlib"]
    assert [c["name"] for c in v3["b"].codecs] == ["bytes", "gzip"]
    assert v3["b"].codecs[0]["configuration"]["endian"] == "big"
    assert [c["name"] for c in v3["d"].codecs] == ["numcodecs.delta", "bytes"]
    assert v3["sub/deeper/c"].codecs[-1]["name"] == "blosc"
    assert v3.attrs["title"] == "src" and v3["empty"].attrs["e"] is True
    # missing chunks stay missing
    assert sorted(v3["b"].stored_chunks()) == [(0,), (1,), (2,)]

    re3 = ez.convert(v3, str(tmp_path / "re3.zarr"), zarr_format=3, chunks=7, shards=False)
    assert re3["sub/f"].chunks == (7, 7) and re3["sub/deeper/c"].chunks == (7, 7, 7)
    back = ez.convert(re3, str(tmp_path / "back2.zarr"), zarr_format=2)
    assert back.zarr_format == 2
    fb = back["sub/f"].metadata
    assert fb.order == "F" and fb.compressor["id"] == "zlib" and fb.chunks == (7, 7)
    assert back["d"].metadata.filters[0]["id"] == "delta" and back["b"].dtype == np.dtype(">i4")
    assert back["sub/f"].attrs["_ARRAY_DIMENSIONS"] == ["y", "x"]
    _assert_same_hierarchy(src, v3)
    _assert_same_hierarchy(src, re3)
    _assert_same_hierarchy(src, back)

    # zarr-python reads every result
    for name in ("v3.zarr", "re3.zarr", "back2.zarr"):
        zg = zarr.open_group(str(tmp_path / name), mode="r")
        np.testing.assert_array_equal(zg["sub/f"][:], src["sub/f"][...].read())
        np.testing.assert_array_equal(zg["b"][:], src["b"][...].read())
        np.testing.assert_array_equal(zg["d"][:], src["d"][...].read())
        np.testing.assert_array_equal(zg["sub/deeper/c"][:], src["sub/deeper/c"][...].read())
        assert zg.attrs["title"] == "src"


@pytest.mark.parametrize("chunks,shards", [((10, 10), None), ((4, 6), (8, 12)), (25, (25, 50))])
def test_v3_rechunk_and_shard_exact(chunks, shards):
    data = np.arange(50 * 60, dtype="i8").reshape(50, 60)
    src = ez.array(data, MemoryStore(), chunks=(7, 9), fill_value=3)
    src[10:20, :] = 3  # fill-only regions
    expect = src[...].read()
    dst = ez.convert(src, MemoryStore(), zarr_format=3, chunks=chunks, shards=shards)
    assert isinstance(dst, ez.ZArray)
    np.testing.assert_array_equal(dst[...].read(), expect)
    want_chunks = chunks if isinstance(chunks, tuple) else (chunks, chunks)
    assert dst.chunks == want_chunks and dst.shards == shards
    back = ez.convert(dst, MemoryStore(), zarr_format=2, chunks=(13, 17))
    assert back.zarr_format == 2 and back.chunks == (13, 17)
    np.testing.assert_array_equal(back[...].read(), expect)


def test_sharded_source_to_v2_unwraps_sharding(tmp_path):
    src = ez.create(str(tmp_path / "s.zarr"), shape=(40, 40), chunks=(5, 5), shards=(20, 20),
                    dtype="u4", codecs=[{"name": "zstd", "configuration": {"level": 3, "checksum": True}},
                                        {"name": "crc32c"}])
    src[:] = np.arange(1600, dtype="u4").reshape(40, 40)
    v2 = ez.convert(src, str(tmp_path / "v2.zarr"), zarr_format=2)
    m = v2.metadata
    assert m.chunks == (5, 5) and m.filters[0]["id"] == "zstd" and m.compressor == {"id": "crc32c"}
    np.testing.assert_array_equal(v2[...].read(), src[...].read())
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "v2.zarr"), mode="r")[:],
                                  src[...].read())
    # and back to v3 keeps everything, sharded again on request
    v3 = ez.convert(v2, str(tmp_path / "v3.zarr"), zarr_format=3, shards=(10, 40))
    assert v3.shards == (10, 40) and v3.chunks == (5, 5)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "v3.zarr"), mode="r")[:],
                                  src[...].read())


def test_big_endian_with_dtype_filter_roundtrip():
    """v2 filters see stored byte order, v3 array->array codecs in-memory order: delta's
    dtype follows.  (zarr-python 3.1.6 cannot read its own [numcodecs.delta, bytes(big)]
    v3 arrays, so this one is checked against exzarr and NumPy only.)"""
    src = ez.create(MemoryStore(), shape=(40,), chunks=(16,), dtype=">i4", fill_value=-7,
                    zarr_format=2, filters=[{"id": "delta", "dtype": ">i4"}], compressor="gzip")
    src[:30] = np.arange(30) * 1000
    v3 = ez.convert(src, MemoryStore(), zarr_format=3)
    assert v3.codecs[0]["name"] == "numcodecs.delta"
    assert v3.codecs[0]["configuration"]["dtype"] == "<i4"
    v2 = ez.convert(v3, MemoryStore(), zarr_format=2)
    assert v2.dtype == np.dtype(">i4") and v2.metadata.filters[0]["dtype"] == ">i4"
    want = np.r_[np.arange(30) * 1000, [-7] * 10]
    for node in (src, v3, v2):
        assert node[...].read().tolist() == want.tolist()


def test_codec_overrides():
    src = ez.array(np.arange(100, dtype="f8"), MemoryStore(), chunks=(10,), zarr_format=2)
    d = ez.convert(src, MemoryStore(), compressor="gzip")
    assert [c["name"] for c in d.codecs] == ["bytes", "gzip"]
    d = ez.convert(src, MemoryStore(), codecs=[{"name": "bytes", "configuration": {"endian": "big"}},
                                                {"name": "crc32c"}])
    assert [c["name"] for c in d.codecs] == ["bytes", "crc32c"]
    d2 = ez.convert(d, MemoryStore(), zarr_format=2, compressor=None)
    assert d2.metadata.compressor is None and d2.dtype == np.dtype(">f8")
    for node in (d, d2):
        np.testing.assert_array_equal(node[...].read(), np.arange(100))
    with pytest.raises(ValueError, match="codecs= is for zarr_format=3"):
        ez.convert(src, MemoryStore(), zarr_format=2, codecs=["zstd"])
    with pytest.raises(ValueError, match="sharding|Zarr v2"):
        ez.convert(src, MemoryStore(), zarr_format=2, shards=(50,))


@register
class _Rot13(BytesBytesCodec):
    """A real (reversible) bytes->bytes codec with no numcodecs form."""
    name = "test.rot1"

    def encode(self, data, spec):
        return bytes((b + 1) % 256 for b in bytes(data))

    def decode(self, data, spec, ctx=None):
        return bytes((b - 1) % 256 for b in bytes(data))


def test_codec_without_v2_form_is_named_in_the_error():
    src = ez.create(MemoryStore(), shape=(8,), chunks=(4,), dtype="u1",
                    codecs=[{"name": "bytes"}, {"name": "test.rot1"}])
    src[:] = np.arange(8)
    assert src[...].read().tolist() == list(range(8))
    with pytest.raises(CodecError, match="test.rot1") as e:
        ez.convert(src, MemoryStore(), zarr_format=2)
    assert "compressor=" in str(e.value)  # says what to do
    ok = ez.convert(src, MemoryStore(), zarr_format=2, compressor="zstd")
    assert ok[...].read().tolist() == list(range(8))


def test_transpose_without_v2_form():
    src = ez.create(MemoryStore(), shape=(2, 3, 4), chunks=(2, 3, 4), dtype="i2",
                    codecs=[{"name": "transpose", "configuration": {"order": [1, 0, 2]}},
                            {"name": "bytes", "configuration": {"endian": "little"}}])
    src[:] = np.arange(24).reshape(2, 3, 4)
    with pytest.raises(CodecError, match="transpose"):
        ez.convert(src, MemoryStore(), zarr_format=2)


def test_copy_same_format_raw_and_rechunked(fmt):
    s = MemoryStore()
    g = ez.group(s, zarr_format=fmt, attributes={"a": 1})
    x = g.create_array("x", shape=(30, 30), chunks=(10, 10), dtype="i4", compressor="zstd")
    x[:15] = 5
    ez.consolidate_metadata(s)
    d = MemoryStore()
    out = ez.copy(s, d)
    assert out.zarr_format == fmt and out.consolidated  # consolidated source -> consolidated copy
    # unchanged layout: chunks copied as stored bytes
    keys = sorted(k for k in s.list() if not k.endswith((".zmetadata", "zarr.json", ".zarray",
                                                         ".zattrs", ".zgroup")))
    assert keys and all(d.get(k) == s.get(k) for k in keys)
    re = ez.copy(s, MemoryStore(), chunks=(7, 7))
    assert re["x"].chunks == (7, 7) and re.zarr_format == fmt
    np.testing.assert_array_equal(re["x"][...].read(), x[...].read())
    _assert_same_hierarchy(g, out)


def test_destination_must_be_empty_unless_overwrite(tmp_path):
    src = ez.array(np.arange(4), MemoryStore())
    dst = str(tmp_path / "d.zarr")
    ez.convert(src, dst)
    with pytest.raises(NodeExistsError, match="overwrite=True"):
        ez.convert(src, dst)
    ez.convert(src, dst, overwrite=True, zarr_format=2)
    assert ez.open(dst, mode="r").zarr_format == 2


def test_src_path_and_dst_path():
    s = MemoryStore()
    g = ez.group(s)
    g.create_array("a/b", shape=(3,), dtype="i1")[:] = [1, 2, 3]
    d = MemoryStore()
    out = ez.convert(s, d, zarr_format=2, src_path="a", dst_path="copied/here")
    assert out.path == "copied/here" and list(out) == ["b"]
    assert ez.open(d, path="copied/here/b", mode="r")[...].read().tolist() == [1, 2, 3]


def test_convert_memory_is_bounded(tmp_path):
    """Peak traced memory stays far below the array size (chunks in flight only)."""
    n = 2048
    src = ez.create(MemoryStore(), shape=(n, n), chunks=(128, 128), dtype="f8", compressor="zstd")
    for i in range(0, n, 256):  # write in bands so the test itself stays small
        src[i:i + 256] = np.arange(i * n, (i + 256) * n, dtype="f8").reshape(256, n)
    nbytes = n * n * 8  # 32 MiB
    with ez.config.set(threads=4):
        tracemalloc.start()
        try:  # rechunked (each task reads parts of 2-4 source chunks) into a directory
            out = ez.convert(src, str(tmp_path / "out.zarr"), zarr_format=2, chunks=(256, 64))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert out.nchunks_initialized == out.nchunks == 256
    assert peak < nbytes / 8, f"peak {peak / 2**20:.1f} MiB for a {nbytes / 2**20:.0f} MiB array"
    for i in range(0, n, 512):
        np.testing.assert_array_equal(out[i:i + 512].read(),
                                      np.arange(i * n, (i + 512) * n, dtype="f8").reshape(512, n))


def test_progress_bar(capsys):
    src = ez.array(np.arange(100), MemoryStore(), chunks=(10,))
    ez.convert(src, MemoryStore(), zarr_format=2, progress=True)
    err = capsys.readouterr().err
    assert "10/10" in err and "chunk" in err


def test_progress_false_does_not_import_tqdm():
    import subprocess
    import sys
    code = ("import sys, numpy as np, exzarr as ez\n"
            "a = ez.array(np.arange(10), 'memory://p', chunks=(5,))\n"
            "ez.convert(a, 'memory://q')\n"
            "print('tqdm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_zero_size_and_0d_arrays(fmt):
    s = MemoryStore()
    g = ez.group(s, zarr_format=fmt)
    g.create_array("empty", shape=(0, 5), chunks=(2, 2), dtype="f4")
    z0 = g.create_array("scalar", shape=(), dtype="i8", fill_value=0)
    z0[...] = 42
    out = ez.convert(s, MemoryStore(), zarr_format=5 - fmt)
    assert out["empty"].shape == (0, 5)
    assert out["scalar"][...].read() == 42


def test_json_of_converted_metadata_is_valid_for_zarr_python(tmp_path):
    src = _source_v2(str(tmp_path / "s.zarr"))
    ez.convert(src, str(tmp_path / "d.zarr"), zarr_format=3)
    with open(tmp_path / "d.zarr" / "sub" / "f" / "zarr.json") as f:
        doc = json.load(f)
    assert doc["dimension_names"] == ["y", "x"] and doc["fill_value"] == "NaN"
    assert zarr.open_array(str(tmp_path / "d.zarr" / "sub" / "f"), mode="r").metadata.dimension_names == ("y", "x")
