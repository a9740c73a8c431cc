"""Interop with zarr-python 3.1.6: we parse what it writes; it opens what we write; the JSON of
both is the same for the same array."""

import json
import math
import warnings

import numpy as np
import pytest

from exzarr.metadata import (
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    GroupMetadataV2,
    GroupMetadataV3,
)

zarr = pytest.importorskip("zarr")

pytestmark = pytest.mark.filterwarnings("ignore")

NAN, INF = math.nan, math.inf

V3_CASES = {
    "bool": [None, True, False],
    "int8": [None, -128, 127],
    "int16": [-3],
    "int32": [2**31 - 1],
    "int64": [None, -(2**63)],
    "uint8": [255],
    "uint16": [7],
    "uint32": [2**32 - 1],
    "uint64": [None, 2**64 - 1],
    "float16": [None, 0.1, NAN, INF, -INF],
    "float32": [None, 0.1, -0.0, NAN, INF, -INF, 3.4e38],
    "float64": [None, 1e-300, NAN, INF, -INF],
    "complex64": [None, 1 + 2j, complex(NAN, INF), complex(-INF, 0.5)],
    "complex128": [None, complex(1e300, -1e-300), complex(INF, NAN)],
}
V3_PARAMS = [(dt, fv) for dt, fvs in V3_CASES.items() for fv in fvs]

V2_CASES = {
    "|b1": [None, True], "|i1": [None, -5], "<i2": [300], ">i2": [-300], "<i4": [None, 1],
    ">i8": [2**62], "|u1": [255], "<u2": [None], ">u4": [4], "<u8": [2**64 - 1],
    "<f2": [1.5, NAN], ">f2": [None, -INF], "<f4": [None, 0.1, NAN, INF, -INF],
    ">f4": [NAN, 2.5], "<f8": [None, 0.0, NAN, INF, -INF, -0.0], ">f8": [1e300, -INF],
    "<c8": [None, 1 + 2j, complex(NAN, -INF)], ">c8": [complex(1, INF)],
    "<c16": [complex(INF, NAN)], ">c16": [None, 3j],
    "<M8[ns]": [None, np.datetime64(5, "ns"), np.datetime64("NaT", "ns")],
    ">M8[s]": [np.datetime64("2020-01-01T00:00:00", "s")],
    "<m8[ms]": [None, np.timedelta64(-7, "ms"), np.timedelta64("NaT", "ms")],
    "|S5": [None, b"ab", b""], "<U3": [None, "ab", "héj"], ">U3": ["xy"],
    "|V3": [None, b"abc"],
}
V2_PARAMS = [(dt, fv) for dt, fvs in V2_CASES.items() for fv in fvs]


def same_fill(ours, theirs, dtype):
    if ours is None or theirs is None:
        return ours is None and theirs is None
    a, b = np.array(ours, dtype=dtype), np.array(theirs, dtype=dtype)
    if dtype.kind in "fc":
        an, bn = np.isnan(a.real), np.isnan(b.real)
        in_, bi = np.isnan(a.imag), np.isnan(b.imag)
        if an != bn or in_ != bi:
            return False
        a, b = np.where(np.isnan(a.real), 0, a.real) + 1j * np.where(np.isnan(a.imag), 0, a.imag), \
            np.where(np.isnan(b.real), 0, b.real) + 1j * np.where(np.isnan(b.imag), 0, b.imag)
        return a.tobytes() == b.tobytes()
    return a.tobytes() == b.tobytes()


def read_doc(path, name):
    return json.loads((path / name).read_text())


# =============================================================== they write, we read


@pytest.mark.parametrize("dt,fv", V3_PARAMS)
def test_v3_we_read_theirs_all_dtypes_and_fills(tmp_path, dt, fv):
    p = tmp_path / "a.zarr"
    z = zarr.create_array(str(p), shape=(7, 5), chunks=(3, 2), dtype=dt, fill_value=fv,
                          zarr_format=3)
    raw = (p / "zarr.json").read_bytes()
    m = ArrayMetadataV3.from_bytes(raw, store=str(p), key="zarr.json")
    assert m.shape == (7, 5) and m.chunks == (3, 2) and m.dtype == np.dtype(dt)
    assert m.order == "C" and m.dimension_names is None and m.attributes == {}
    assert same_fill(m.fill_value, z.metadata.fill_value, m.dtype)
    assert m.chunk_key_encoding == ChunkKeyEncoding("default", "/")
    doc = json.loads(raw)
    assert list(m.codecs) == doc["codecs"]
    # re-serialising gives back exactly what zarr-python wrote
    assert m.to_json() == doc
    assert m.to_bytes() == raw


@pytest.mark.parametrize("dt,fv", V2_PARAMS)
@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_we_read_theirs_all_dtypes_and_fills(tmp_path, dt, fv, order):
    p = tmp_path / "a.zarr"
    z = zarr.create_array(str(p), shape=(7, 5), chunks=(3, 2), dtype=dt, fill_value=fv,
                          zarr_format=2, order=order, attributes={"units": "m", "n": [1, 2]})
    raw = (p / ".zarray").read_bytes()
    m = ArrayMetadataV2.from_bytes(raw, zattrs=(p / ".zattrs").read_bytes(), store=str(p),
                                   key=".zarray")
    assert m.shape == (7, 5) and m.chunks == (3, 2)
    assert m.dtype == np.dtype(dt) and m.dtype == z.metadata.dtype.to_native_dtype()
    assert m.order == order and m.dimension_separator == "."
    assert m.attributes == {"units": "m", "n": [1, 2]}
    assert same_fill(m.fill_value, z.metadata.fill_value, m.dtype)
    if fv is None:
        assert m.fill_value is None
    doc = json.loads(raw)
    assert m.compressor == doc["compressor"] and m.filters is None
    assert m.to_json() == doc
    assert m.to_bytes() == raw
    assert m.attrs_to_bytes() == (p / ".zattrs").read_bytes()


@pytest.mark.parametrize("sep", [".", "/"])
def test_v2_separators_we_read(tmp_path, sep):
    p = tmp_path / "a.zarr"
    z = zarr.create_array(str(p), shape=(4, 4), chunks=(2, 2), dtype="i4", zarr_format=2,
                          chunk_key_encoding={"name": "v2", "separator": sep})
    z[:] = 1
    m = ArrayMetadataV2.from_bytes((p / ".zarray").read_bytes())
    assert m.dimension_separator == sep
    for coords in [(0, 0), (1, 1), (0, 1)]:
        assert (p / m.chunk_key(coords)).is_file()


@pytest.mark.parametrize("cke", [{"name": "default", "separator": "/"},
                                 {"name": "default", "separator": "."},
                                 {"name": "v2", "separator": "."},
                                 {"name": "v2", "separator": "/"}])
def test_v3_chunk_key_encodings_we_read(tmp_path, cke):
    p = tmp_path / "a.zarr"
    z = zarr.create_array(str(p), shape=(4, 6), chunks=(2, 3), dtype="u2", zarr_format=3,
                          chunk_key_encoding=cke, dimension_names=["y", None],
                          attributes={"long_name": "thing", "nested": {"a": [1.5, None]}})
    z[:] = 3
    raw = (p / "zarr.json").read_bytes()
    m = ArrayMetadataV3.from_bytes(raw)
    assert m.chunk_key_encoding == ChunkKeyEncoding(cke["name"], cke["separator"])
    assert m.dimension_names == ("y", None)
    assert m.attributes == {"long_name": "thing", "nested": {"a": [1.5, None]}}
    for coords in [(0, 0), (1, 1), (0, 1)]:
        assert (p / m.chunk_key(coords)).is_file(), m.chunk_key(coords)
    assert m.to_bytes() == raw


def test_v3_zero_dim_chunk_key_matches(tmp_path):
    for cke, key in [({"name": "default", "separator": "/"}, "c"), ({"name": "v2", "separator": "."}, "0")]:
        p = tmp_path / f"s{key}.zarr"
        z = zarr.create_array(str(p), shape=(), dtype="f8", zarr_format=3, chunk_key_encoding=cke)
        z[()] = 2.0
        m = ArrayMetadataV3.from_bytes((p / "zarr.json").read_bytes())
        assert m.chunk_key(()) == key and (p / key).is_file()


def test_v2_zero_dim_chunk_key_matches(tmp_path):
    p = tmp_path / "s.zarr"
    z = zarr.create_array(str(p), shape=(), dtype="f8", zarr_format=2)
    z[()] = 2.0
    m = ArrayMetadataV2.from_bytes((p / ".zarray").read_bytes())
    assert m.chunk_key(()) == "0" and (p / "0").is_file()


def test_v3_sharding_codecs_read_and_rewritten_identically(tmp_path):
    p = tmp_path / "a.zarr"
    zarr.create_array(str(p), shape=(8, 8), chunks=(2, 2), shards=(4, 4), dtype="f4",
                      zarr_format=3, filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}])
    raw = (p / "zarr.json").read_bytes()
    m = ArrayMetadataV3.from_bytes(raw)
    assert m.chunks == (4, 4)
    assert m.codecs[0]["name"] == "sharding_indexed"
    assert m.to_bytes() == raw


def test_groups_we_read(tmp_path):
    g3 = zarr.open_group(str(tmp_path / "g3.zarr"), mode="w", attributes={"q": 2})
    g3.create_group("sub")
    m3 = GroupMetadataV3.from_bytes((tmp_path / "g3.zarr" / "zarr.json").read_bytes())
    assert m3.attributes == {"q": 2}
    assert m3.to_bytes() == (tmp_path / "g3.zarr" / "zarr.json").read_bytes()
    zarr.consolidate_metadata(str(tmp_path / "g3.zarr"))
    raw = (tmp_path / "g3.zarr" / "zarr.json").read_bytes()
    mc = GroupMetadataV3.from_bytes(raw)
    assert mc.consolidated_metadata["kind"] == "inline"
    assert "sub" in mc.consolidated_metadata["metadata"]
    assert mc.to_json() == json.loads(raw)

    zarr.open_group(str(tmp_path / "g2.zarr"), mode="w", zarr_format=2, attributes={"q": 2})
    d = tmp_path / "g2.zarr"
    m2 = GroupMetadataV2.from_bytes((d / ".zgroup").read_bytes(), zattrs=(d / ".zattrs").read_bytes())
    assert m2.attributes == {"q": 2}
    assert m2.to_bytes() == (d / ".zgroup").read_bytes()
    assert m2.attrs_to_bytes() == (d / ".zattrs").read_bytes()


def test_their_bare_nan_attributes_are_read(tmp_path):
    p = tmp_path / "a.zarr"
    zarr.create_array(str(p), shape=(2,), dtype="f8", zarr_format=3,
                      attributes={"missing": float("nan"), "top": float("inf")})
    assert b"NaN" in (p / "zarr.json").read_bytes()
    m = ArrayMetadataV3.from_bytes((p / "zarr.json").read_bytes())
    assert math.isnan(m.attributes["missing"]) and m.attributes["top"] == math.inf
    # we never write bare tokens; zarr-python reads our spelling back as strings
    (p / "zarr.json").write_bytes(m.to_bytes())
    assert dict(zarr.open_array(str(p)).attrs) == {"missing": "NaN", "top": "Infinity"}


# =============================================================== we write, they read


def _open(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(str(path), mode="r")


def _native(dt):
    return np.dtype(dt).newbyteorder("=") if np.dtype(dt).byteorder not in "=|" else np.dtype(dt)


@pytest.mark.parametrize("dt,fv", V3_PARAMS)
def test_v3_they_read_ours(tmp_path, dt, fv):
    p = tmp_path / "a.zarr"
    p.mkdir()
    endian = {} if np.dtype(dt).itemsize == 1 else {"configuration": {"endian": "little"}}
    m = ArrayMetadataV3.create((9, 4), (4, 4), dt, fv, [{"name": "bytes", **endian}],
                               dimension_names=["t", "x"], attributes={"a": [1, "b"]})
    (p / "zarr.json").write_bytes(m.to_bytes())
    z = _open(p)
    assert z.shape == (9, 4) and z.chunks == (4, 4) and z.dtype == np.dtype(dt)
    assert z.order == "C" and z.metadata.dimension_names == ("t", "x")
    assert dict(z.attrs) == {"a": [1, "b"]}
    assert same_fill(m.fill_value, z.fill_value, m.dtype)
    # an unwritten array reads as the fill value
    assert same_fill(z[0, 0], m.fill_value, m.dtype)


@pytest.mark.parametrize("dt,fv", V2_PARAMS)
@pytest.mark.parametrize("order,sep", [("C", "."), ("F", "/")])
def test_v2_they_read_ours(tmp_path, dt, fv, order, sep):
    p = tmp_path / "a.zarr"
    p.mkdir()
    m = ArrayMetadataV2.create((9, 4), (4, 4), dt, fv, {"id": "zlib", "level": 1}, None,
                               order=order, dimension_separator=sep, attributes={"k": {"v": 1}})
    (p / ".zarray").write_bytes(m.to_bytes())
    (p / ".zattrs").write_bytes(m.attrs_to_bytes())
    z = _open(p)
    assert z.shape == (9, 4) and z.chunks == (4, 4)
    assert z.metadata.dtype.to_native_dtype() == np.dtype(dt)
    assert z.order == order and z.metadata.dimension_separator == sep
    assert dict(z.attrs) == {"k": {"v": 1}}
    assert same_fill(m.fill_value, z.fill_value, m.dtype)


def test_v3_they_read_our_chunks_layout(tmp_path):
    """zarr-python reads chunks it wrote at the keys our metadata names, for every encoding."""
    for kind, sep in [("default", "/"), ("default", "."), ("v2", "."), ("v2", "/")]:
        p = tmp_path / f"{kind}{ord(sep)}.zarr"
        p.mkdir()
        m = ArrayMetadataV3.create((4, 4), (2, 2), "i2", -1, [{"name": "bytes", "configuration": {"endian": "little"}}],
                                   chunk_key_encoding=ChunkKeyEncoding(kind, sep))
        (p / "zarr.json").write_bytes(m.to_bytes())
        z = zarr.open_array(str(p), mode="r+")
        z[:] = np.arange(16, dtype="i2").reshape(4, 4)
        keys = {str(f.relative_to(p)) for f in p.rglob("*") if f.is_file()} - {"zarr.json"}
        assert keys == {m.chunk_key((i, j)) for i in range(2) for j in range(2)}


# =============================================================== same array, same JSON


@pytest.mark.parametrize("dt,fv", V3_PARAMS)
def test_v3_same_json_as_zarr_python(tmp_path, dt, fv):
    p = tmp_path / "a.zarr"
    zarr.create_array(str(p), shape=(10, 3), chunks=(4, 3), dtype=dt, fill_value=fv,
                      zarr_format=3, dimension_names=["a", "b"], attributes={"x": 1},
                      chunk_key_encoding={"name": "v2", "separator": "/"})
    theirs = read_doc(p, "zarr.json")
    ours = ArrayMetadataV3.create((10, 3), (4, 3), dt, fv, theirs["codecs"],
                                  chunk_key_encoding=ChunkKeyEncoding("v2", "/"),
                                  dimension_names=["a", "b"], attributes={"x": 1})
    assert json.loads(ours.to_bytes()) == theirs
    assert ours.to_bytes() == (p / "zarr.json").read_bytes()


@pytest.mark.parametrize("dt,fv", V2_PARAMS)
def test_v2_same_json_as_zarr_python(tmp_path, dt, fv):
    p = tmp_path / "a.zarr"
    zarr.create_array(str(p), shape=(10, 3), chunks=(4, 3), dtype=dt, fill_value=fv,
                      zarr_format=2, order="F", attributes={"x": [1.5]},
                      compressors={"id": "zlib", "level": 3},
                      chunk_key_encoding={"name": "v2", "separator": "/"})
    theirs = read_doc(p, ".zarray")
    ours = ArrayMetadataV2.create((10, 3), (4, 3), dt, fv, {"id": "zlib", "level": 3}, None,
                                  order="F", dimension_separator="/", attributes={"x": [1.5]})
    assert json.loads(ours.to_bytes()) == theirs
    assert ours.to_bytes() == (p / ".zarray").read_bytes()
    assert ours.attrs_to_bytes() == (p / ".zattrs").read_bytes()


def test_groups_same_json_as_zarr_python(tmp_path):
    zarr.open_group(str(tmp_path / "g3"), mode="w", attributes={"q": [1, 2]})
    assert GroupMetadataV3(attributes={"q": [1, 2]}).to_bytes() == (tmp_path / "g3" / "zarr.json").read_bytes()
    zarr.open_group(str(tmp_path / "g2"), mode="w", zarr_format=2, attributes={"q": 1})
    g2 = GroupMetadataV2(attributes={"q": 1})
    assert g2.to_bytes() == (tmp_path / "g2" / ".zgroup").read_bytes()
    assert g2.attrs_to_bytes() == (tmp_path / "g2" / ".zattrs").read_bytes()


def test_v2_structured_dtype_both_ways(tmp_path):
    dt = np.dtype([("x", "<f4"), ("y", "|u1"), ("s", "|S2")])
    fv = np.array((1.5, 3, b"hi"), dtype=dt)[()]
    p = tmp_path / "theirs.zarr"
    zarr.create_array(str(p), shape=(5,), chunks=(2,), dtype=dt, fill_value=fv, zarr_format=2)
    raw = (p / ".zarray").read_bytes()
    m = ArrayMetadataV2.from_bytes(raw)
    assert m.dtype == dt and m.fill_value.tobytes() == fv.tobytes()
    assert m.to_bytes() == raw
    q = tmp_path / "ours.zarr"
    q.mkdir()
    (q / ".zarray").write_bytes(ArrayMetadataV2.create((5,), (2,), dt, fv, None, None).to_bytes())
    z = _open(q)
    assert z.metadata.dtype.to_native_dtype() == dt
    assert np.array(z.fill_value, dtype=dt).tobytes() == fv.tobytes()


def test_v3_hex_fill_values_they_read(tmp_path):
    p = tmp_path / "a.zarr"
    p.mkdir()
    m = ArrayMetadataV3.from_json({
        "zarr_format": 3, "node_type": "array", "shape": [3], "data_type": "float32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3]}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": "0x7fc00001",
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]})
    (p / "zarr.json").write_bytes(m.to_bytes())
    assert json.loads((p / "zarr.json").read_bytes())["fill_value"] == "0x7fc00001"
    z = _open(p)
    assert np.array(z.fill_value, dtype="f4").view("u4") == 0x7FC00001
