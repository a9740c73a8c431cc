"""ArrayMetadataV2 / ArrayMetadataV3: parsing, writing, validation, extensions, errors."""

import copy
import json
import math

import numpy as np
import pytest

from exzarr.errors import InvalidMetadataError, UnsupportedExtensionError
from exzarr.metadata import (
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    parse_array_metadata,
)

STORE = "file:///data/t.zarr"
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}

V3_DOC = {
    "shape": [10000, 1000],
    "data_type": "float64",
    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [1000, 100]}},
    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
    "fill_value": "NaN",
    "codecs": [BYTES, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}],
    "attributes": {"foo": 42, "bar": "apples", "baz": [1, 2, 3, 4]},
    "dimension_names": ["rows", "columns"],
    "zarr_format": 3,
    "node_type": "array",
    "storage_transformers": [],
}

V2_DOC = {
    "shape": [10000, 10000],
    "chunks": [1000, 1000],
    "dtype": "<f8",
    "fill_value": "NaN",
    "order": "C",
    "filters": [{"id": "delta", "dtype": "<f8", "astype": "<f4"}],
    "dimension_separator": ".",
    "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
    "zarr_format": 2,
}


def v3doc(**changes):
    d = copy.deepcopy(V3_DOC)
    for k, v in changes.items():
        if v is KeyError:
            del d[k]
        else:
            d[k] = v
    return d


def v2doc(**changes):
    d = copy.deepcopy(V2_DOC)
    for k, v in changes.items():
        if v is KeyError:
            del d[k]
        else:
            d[k] = v
    return d


def assert_located(exc_info, key):
    msg = str(exc_info.value)
    assert STORE in msg and key in msg, msg
    assert exc_info.value.key == key and exc_info.value.store_url == STORE


# ===================================================================== v3


def test_v3_spec_example_fields():
    m = ArrayMetadataV3.from_json(V3_DOC)
    assert m.zarr_format == 3 and m.node_type == "array"
    assert m.shape == (10000, 1000) and m.chunks == (1000, 100) and m.ndim == 2
    assert m.dtype == np.dtype("float64") and math.isnan(m.fill_value)
    assert isinstance(m.fill_value, np.float64)
    assert m.order == "C"
    assert m.dimension_names == ("rows", "columns")
    assert m.attributes == {"foo": 42, "bar": "apples", "baz": [1, 2, 3, 4]}
    assert m.chunk_key_encoding == ChunkKeyEncoding("default", "/")
    assert m.codecs == tuple(V3_DOC["codecs"])
    assert m.storage_transformers == () and m.extra_fields == {}
    assert m.metadata_key == "zarr.json"
    assert m.grid_shape == (10, 10) and m.nchunks == 100
    assert m.to_json() == V3_DOC


def test_v3_to_bytes_formatting():
    m = ArrayMetadataV3.from_json(v3doc(attributes={"é": float("nan"), "inf": float("-inf")}))
    text = m.to_bytes().decode("ascii")
    assert text == json.dumps(json.loads(text), indent=2)  # two-space indent, ASCII escapes
    assert "\\u00e9" in text and not text.endswith("\n")
    assert "NaN" not in text.replace('"NaN"', "")  # no bare NaN/Infinity tokens
    assert "Infinity" not in text.replace('"-Infinity"', "")
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert json.loads(text)["attributes"] == {"é": "NaN", "inf": "-Infinity"}


def test_v3_bare_nan_in_attributes_is_read():
    text = json.dumps(v3doc(attributes={"n": float("nan")}), indent=2).encode()
    assert b"NaN," in text or b"NaN\n" in text
    m = ArrayMetadataV3.from_bytes(text)
    assert math.isnan(m.attributes["n"])


def test_v3_round_trip_bytes_and_equality():
    m = ArrayMetadataV3.from_json(V3_DOC)
    again = ArrayMetadataV3.from_bytes(m.to_bytes())
    assert again == m and hash(again) == hash(m)
    assert again != m.replace(attributes={})


def test_v3_create_defaults():
    m = ArrayMetadataV3.create((5,), (2,), "int16", None, [BYTES])
    assert m.fill_value == 0 and m.fill_value.dtype == np.dtype("int16")
    assert m.chunk_key_encoding == ChunkKeyEncoding("default", "/")
    assert m.dimension_names is None and m.attributes == {}
    doc = m.to_json()
    assert "dimension_names" not in doc
    assert doc["attributes"] == {} and doc["storage_transformers"] == []
    assert list(doc) == ["shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value",
                         "codecs", "attributes", "zarr_format", "node_type",
                         "storage_transformers"]


@pytest.mark.parametrize("dt,expected", [("bool", False), ("c8", [0.0, 0.0]), ("f2", 0.0),
                                         ("u8", 0)])
def test_v3_default_fill_values_written(dt, expected):
    assert ArrayMetadataV3.create((1,), (1,), dt, None, [BYTES]).to_json()["fill_value"] == expected


def test_v3_big_endian_dtype_becomes_native():
    m = ArrayMetadataV3.create((3,), (3,), ">f4", 1.5, [BYTES])
    assert m.dtype == np.dtype("float32") and m.dtype.isnative
    assert m.to_json()["data_type"] == "float32"


def test_v3_codecs_kept_in_the_form_given():
    # shorthand strings become objects; a configuration is kept when given (even empty:
    # zarr-python writes vlen-utf8 that way) -- the codec layer's to_json decides the form

    m = ArrayMetadataV3.create((4,), (2,), "f4", 0, [
        "transpose_like_shorthand",
        {"name": "bytes", "configuration": {"endian": "big"}},
        {"name": "crc32c", "configuration": {}},
        {"name": "sharding_indexed", "configuration": {
            "chunk_shape": [1], "codecs": [{"name": "bytes", "configuration": {}}],
            "index_codecs": [BYTES, "crc32c"], "index_location": "end"}},
    ])
    assert m.codecs[0] == {"name": "transpose_like_shorthand"}
    assert m.codecs[1] == {"name": "bytes", "configuration": {"endian": "big"}}
    assert m.codecs[2] == {"name": "crc32c", "configuration": {}}
    shard = m.codecs[3]["configuration"]
    assert shard["codecs"] == [{"name": "bytes", "configuration": {}}]
    assert shard["index_codecs"] == [BYTES, {"name": "crc32c"}]


def test_v3_replace_validates():
    m = ArrayMetadataV3.from_json(V3_DOC)
    r = m.replace(shape=(20000, 1000))
    assert r.shape == (20000, 1000) and r.grid_shape == (20, 10) and m.shape == (10000, 1000)
    assert m.replace(attributes={"x": 1}).attributes == {"x": 1}
    with pytest.raises(InvalidMetadataError, match="dimension_names"):
        m.replace(shape=(1, 2, 3), chunks=(1, 1, 1))
    with pytest.raises(InvalidMetadataError, match="negative|non-negative"):
        m.replace(shape=(-1, 5))


def test_v3_is_frozen():
    m = ArrayMetadataV3.from_json(V3_DOC)
    with pytest.raises(AttributeError):
        m.shape = (1, 1)


def test_v3_fill_value_or_default():
    m = ArrayMetadataV3.create((1,), (1,), "f4", 2.5, [BYTES])
    assert m.fill_value_or_default == 2.5


def test_v3_hex_fill_value_round_trip():
    m = ArrayMetadataV3.from_json(v3doc(data_type="float32", fill_value="0x7fc00001"))
    assert math.isnan(m.fill_value)
    assert m.to_json()["fill_value"] == "0x7fc00001"
    m1 = ArrayMetadataV3.from_json(v3doc(data_type="float32", fill_value="0x3f800000"))
    assert m1.fill_value == 1.0 and m1.to_json()["fill_value"] == 1.0


def test_v3_shorthand_forms_accepted():
    m = ArrayMetadataV3.from_json(v3doc(chunk_key_encoding="v2", data_type={"name": "int8"},
                                        fill_value=3))
    assert m.chunk_key_encoding == ChunkKeyEncoding("v2", ".")
    assert m.dtype == np.dtype("int8")


def test_v3_optional_fields_absent():
    m = ArrayMetadataV3.from_json(v3doc(attributes=KeyError, storage_transformers=KeyError,
                                        dimension_names=KeyError))
    assert m.attributes == {} and m.storage_transformers == () and m.dimension_names is None


def test_v3_zero_dim():
    m = ArrayMetadataV3.from_json(v3doc(shape=[], chunk_grid={"name": "regular", "configuration":
                                        {"chunk_shape": []}}, dimension_names=[]))
    assert m.shape == () and m.chunks == () and m.grid_shape == () and m.chunk_key(()) == "c"


# --- v3 errors -------------------------------------------------------------------------------

V3_ERRORS = [
    (dict(zarr_format=2), "zarr_format"),
    (dict(zarr_format=True), "zarr_format"),
    (dict(zarr_format=KeyError), "zarr_format"),
    (dict(node_type="group"), "node_type"),
    (dict(shape=KeyError), "'shape'"),
    (dict(codecs=KeyError), "'codecs'"),
    (dict(fill_value=KeyError), "'fill_value'"),
    (dict(shape=[10, 10, 10]), "dimensions"),
    (dict(shape=[-1, 10]), "non-negative"),
    (dict(shape="10"), "shape"),
    (dict(shape=[1.5, 10]), "integer"),
    (dict(chunk_grid={"name": "regular", "configuration": {"chunk_shape": [0, 10]}}), "positive"),
    (dict(chunk_grid={"name": "regular", "configuration": {}}), "chunk_shape"),
    (dict(fill_value="banana"), "banana"),
    (dict(data_type="int8", fill_value=300), "300"),
    (dict(data_type="bool", fill_value="yes"), "yes"),
    (dict(codecs=[]), "codecs is empty"),
    (dict(codecs={"name": "bytes"}), "codecs"),
    (dict(dimension_names=["x"]), "dimension_names"),
    (dict(dimension_names=["x", 3]), "dimension name"),
    (dict(attributes=[1, 2]), "attributes"),
    (dict(chunk_key_encoding={"name": "default", "configuration": {"separator": "-"}}), "separator"),
]


@pytest.mark.parametrize("changes,needle", V3_ERRORS)
def test_v3_invalid_documents(changes, needle):
    with pytest.raises(InvalidMetadataError) as ei:
        ArrayMetadataV3.from_json(v3doc(**changes), store=STORE, key="a/zarr.json")
    assert needle in str(ei.value)
    assert_located(ei, "a/zarr.json")


def test_v3_corrupt_json():
    for bad in (b'{"shape": [1,', b"\xff\xfe", b"", b"[1, 2]"):
        with pytest.raises(InvalidMetadataError) as ei:
            ArrayMetadataV3.from_bytes(bad, store=STORE, key="x/zarr.json")
        assert "JSON" in str(ei.value)
        assert_located(ei, "x/zarr.json")
    with pytest.raises(InvalidMetadataError, match="not valid JSON"):
        ArrayMetadataV3.from_bytes(b'{"shape": [1,', store=STORE, key="x/zarr.json")


# --- v3 extensions -----------------------------------------------------------------------------


@pytest.mark.parametrize("field,value,name", [
    ("chunk_grid", {"name": "rectilinear", "configuration": {}}, "rectilinear"),
    ("chunk_grid", {"name": "rectilinear", "must_understand": False}, "rectilinear"),
    ("chunk_key_encoding", {"name": "fancy"}, "fancy"),
    ("data_type", {"name": "numpy.datetime32", "configuration": {"unit": "ns"}}, "numpy.datetime32"),
    ("storage_transformers", [{"name": "sharding"}], "sharding"),
    ("storage_transformers", [{"name": "sharding", "must_understand": True}], "sharding"),
    ("my_extension", {"name": "x"}, "my_extension"),
    ("my_extension", {"must_understand": True}, "my_extension"),
    ("my_extension", 5, "my_extension"),
])
def test_v3_unknown_extensions_refused(field, value, name):
    with pytest.raises(UnsupportedExtensionError) as ei:
        ArrayMetadataV3.from_json(v3doc(**{field: value}), store=STORE, key="zarr.json")
    assert name in str(ei.value) and "cannot read" in str(ei.value)
    assert_located(ei, "zarr.json")


def test_v3_ignorable_extensions_kept_and_written_back():
    ext = {"must_understand": False, "configuration": {"a": [1, 2]}}
    st = {"name": "caching", "must_understand": False}
    m = ArrayMetadataV3.from_json(v3doc(my_extension=ext, storage_transformers=[st]))
    assert m.extra_fields == {"my_extension": ext}
    assert m.storage_transformers == (st,)
    doc = m.to_json()
    assert doc["my_extension"] == ext and doc["storage_transformers"] == [st]
    assert ArrayMetadataV3.from_bytes(m.to_bytes()) == m


def test_v3_extra_fields_must_be_ignorable():
    m = ArrayMetadataV3.from_json(V3_DOC)
    with pytest.raises(UnsupportedExtensionError):
        m.replace(extra_fields={"x": {"name": "y"}})
    with pytest.raises(InvalidMetadataError, match="clashes"):
        m.replace(extra_fields={"shape": {"must_understand": False}})


# ===================================================================== v2


def test_v2_spec_example_fields():
    m = ArrayMetadataV2.from_json(V2_DOC, attributes={"a": 1})
    assert m.zarr_format == 2 and m.metadata_key == ".zarray"
    assert m.shape == (10000, 10000) and m.chunks == (1000, 1000)
    assert m.dtype == np.dtype("<f8") and math.isnan(m.fill_value)
    assert m.order == "C" and m.dimension_separator == "."
    assert m.compressor == V2_DOC["compressor"]
    assert m.filters == tuple(V2_DOC["filters"])
    assert m.dimension_names is None
    assert m.attributes == {"a": 1}
    assert m.to_json() == V2_DOC  # attributes are not part of .zarray
    assert json.loads(m.attrs_to_bytes()) == {"a": 1}


def test_v2_null_fill_value():
    m = ArrayMetadataV2.from_json(v2doc(fill_value=None))
    assert m.fill_value is None
    assert m.fill_value_or_default == 0.0 and m.fill_value_or_default.dtype == np.dtype("<f8")
    assert m.to_json()["fill_value"] is None
    s = ArrayMetadataV2.from_json(v2doc(dtype="|S4", fill_value=None))
    assert s.fill_value_or_default == b""


def test_v2_key_order_and_bytes():
    m = ArrayMetadataV2.create((4,), (2,), "<i4", 0, None, None, order="F",
                               dimension_separator="/", attributes={"k": "v"})
    doc = m.to_json()
    assert list(doc) == ["shape", "chunks", "dtype", "fill_value", "order", "filters",
                         "dimension_separator", "compressor", "zarr_format"]
    text = m.to_bytes().decode()
    assert text == json.dumps(doc, indent=2)
    assert m.attrs_to_bytes() == b'{\n  "k": "v"\n}'


def test_v2_from_bytes_with_zattrs():
    m = ArrayMetadataV2.create((4,), (2,), "<i4", 0, None, None, attributes={"k": [1, 2]})
    again = ArrayMetadataV2.from_bytes(m.to_bytes(), zattrs=m.attrs_to_bytes())
    assert again == m and again.attributes == {"k": [1, 2]}
    assert ArrayMetadataV2.from_bytes(m.to_bytes()).attributes == {}


def test_v2_corrupt_zattrs_names_the_zattrs_key():
    m = ArrayMetadataV2.create((4,), (2,), "<i4", 0, None, None)
    with pytest.raises(InvalidMetadataError) as ei:
        ArrayMetadataV2.from_bytes(m.to_bytes(), zattrs=b"{oops", store=STORE, key="g/a/.zarray")
    assert_located(ei, "g/a/.zattrs")
    assert "not valid JSON" in str(ei.value)


def test_v2_dimension_separator_optional():
    assert ArrayMetadataV2.from_json(v2doc(dimension_separator=KeyError)).dimension_separator == "."
    assert ArrayMetadataV2.from_json(v2doc(dimension_separator=None)).dimension_separator == "."
    m = ArrayMetadataV2.from_json(v2doc(dimension_separator="/"))
    assert m.chunk_key((1, 2)) == "1/2"


def test_v2_empty_filters_is_none():
    assert ArrayMetadataV2.from_json(v2doc(filters=[])).filters is None
    assert ArrayMetadataV2.from_json(v2doc(filters=None)).to_json()["filters"] is None


def test_v2_unknown_keys_kept():
    m = ArrayMetadataV2.from_json(v2doc(custom={"a": 1}))
    assert m.extra_fields == {"custom": {"a": 1}}
    assert m.to_json()["custom"] == {"a": 1}


def test_v2_order_f_and_big_endian():
    m = ArrayMetadataV2.from_json(v2doc(order="F", dtype=">i2", fill_value=-3))
    assert m.order == "F" and m.dtype == np.dtype(">i2") and m.fill_value == -3
    assert m.to_json()["dtype"] == ">i2"


def test_v2_replace():
    m = ArrayMetadataV2.from_json(V2_DOC)
    r = m.replace(shape=(5, 5))
    assert r.shape == (5, 5) and r.grid_shape == (1, 1)
    with pytest.raises(InvalidMetadataError, match="order"):
        m.replace(order="K")
    with pytest.raises(InvalidMetadataError, match="dimension_separator"):
        m.replace(dimension_separator="-")


V2_ERRORS = [
    (dict(zarr_format=3), "zarr_format"),
    (dict(zarr_format=KeyError), "zarr_format"),
    (dict(compressor=KeyError), "'compressor'"),
    (dict(filters=KeyError), "'filters'"),
    (dict(order=KeyError), "'order'"),
    (dict(fill_value=KeyError), "'fill_value'"),
    (dict(chunks=[10]), "dimensions"),
    (dict(chunks=[0, 10]), "positive"),
    (dict(shape=[-5, 10]), "non-negative"),
    (dict(dtype="<f16"), "dtype"),
    (dict(dtype="<O"), "dtype"),
    (dict(fill_value="banana"), "banana"),
    (dict(dtype="|u1", fill_value=-1), "-1"),
    (dict(order="X"), "order"),
    (dict(dimension_separator=":"), "dimension_separator"),
    (dict(compressor={"level": 1}), "'id'"),
    (dict(compressor="zlib"), "compressor"),
    (dict(filters=[{"dtype": "<f8"}]), "'id'"),
    (dict(filters={"id": "delta"}), "filters"),
]


@pytest.mark.parametrize("changes,needle", V2_ERRORS)
def test_v2_invalid_documents(changes, needle):
    with pytest.raises(InvalidMetadataError) as ei:
        ArrayMetadataV2.from_json(v2doc(**changes), store=STORE, key="a/.zarray")
    assert needle in str(ei.value)
    assert_located(ei, "a/.zarray")


def test_v2_corrupt_json():
    with pytest.raises(InvalidMetadataError) as ei:
        ArrayMetadataV2.from_bytes(b'{"zarr_format": 2,,}', store=STORE, key="a/.zarray")
    assert "not valid JSON" in str(ei.value) and "line 1" in str(ei.value)
    assert_located(ei, "a/.zarray")


def test_create_errors_without_location_are_still_clear():
    with pytest.raises(InvalidMetadataError) as ei:
        ArrayMetadataV2.create((4,), (0,), "<i4", 0, None, None)
    assert "positive" in str(ei.value) and "Zarr v2 array metadata" in str(ei.value)
    with pytest.raises(InvalidMetadataError, match="not representable"):
        ArrayMetadataV3.create((4,), (1,), "u1", 256, [BYTES])
    with pytest.raises(InvalidMetadataError, match="cannot be stored in JSON"):
        ArrayMetadataV3.create((4,), (1,), "u1", 0, [BYTES], attributes={"x": object()})
    with pytest.raises(InvalidMetadataError, match="keys must be strings"):
        ArrayMetadataV3.create((4,), (1,), "u1", 0, [BYTES], attributes={1: 2})


def test_numpy_values_in_attributes_become_json():
    m = ArrayMetadataV3.create((4,), (1,), "u1", 0, [BYTES],
                               attributes={"a": np.int64(3), "b": np.arange(3), "c": (1, 2)})
    assert m.attributes == {"a": 3, "b": [0, 1, 2], "c": [1, 2]}
    assert type(m.attributes["a"]) is int


# ===================================================================== helper


def test_parse_array_metadata_dispatch():
    assert isinstance(parse_array_metadata(3, V3_DOC), ArrayMetadataV3)
    m2 = parse_array_metadata(2, V2_DOC, attributes={"q": 1})
    assert isinstance(m2, ArrayMetadataV2) and m2.attributes == {"q": 1}
    with pytest.raises(InvalidMetadataError) as ei:
        parse_array_metadata(4, V3_DOC, store=STORE, key="zarr.json")
    assert_located(ei, "zarr.json")
    with pytest.raises(InvalidMetadataError, match="zarr_format"):
        parse_array_metadata(2, V3_DOC)


def test_v2_and_v3_share_the_core_interface():
    v3 = ArrayMetadataV3.create((10, 4), (3, 4), "f8", None, [BYTES])
    v2 = ArrayMetadataV2.create((10, 4), (3, 4), "<f8", None, None, None)
    for m in (v2, v3):
        assert m.shape == (10, 4) and m.chunks == (3, 4) and m.ndim == 2
        assert m.dtype == np.dtype("<f8") and m.order == "C" and m.dimension_names is None
        assert m.grid_shape == (4, 1) and m.attributes == {}
        assert m.fill_value_or_default == 0.0
        assert isinstance(m.chunk_key_encoding, ChunkKeyEncoding)
    assert v3.fill_value == 0.0 and v2.fill_value is None


def test_to_json_returns_a_copy():
    m = ArrayMetadataV3.from_json(V3_DOC)
    doc = m.to_json()
    doc["codecs"][1]["configuration"]["level"] = 99
    doc["attributes"]["foo"] = 0
    assert m.codecs[1]["configuration"]["level"] == 0 and m.attributes["foo"] == 42
    m2 = ArrayMetadataV2.from_json(V2_DOC)
    d2 = m2.to_json()
    d2["compressor"]["clevel"] = 1
    assert m2.compressor["clevel"] == 5
