"""Data type encodings: v2 typestr/descr and v3 names <-> NumPy dtypes."""

import numpy as np
import pytest

from exzarr.errors import InvalidMetadataError, UnsupportedExtensionError
from exzarr.metadata import dtype_to_v2, dtype_to_v3, parse_dtype_v2, parse_dtype_v3

V3_NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64", "complex64", "complex128"]

V2_SIMPLE = [
    "|b1", "|i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "|u1", "<u2", ">u2", "<u4", ">u4",
    "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
    "<M8[ns]", ">M8[ns]", "<M8[s]", "<M8[D]", "<M8", "<m8[s]", ">m8[us]", "<m8", "<M8[10s]",
    "|S10", "|S1", "<U5", ">U5", "|V4",
]


@pytest.mark.parametrize("typestr", V2_SIMPLE)
def test_v2_typestr_round_trip(typestr):
    dt = parse_dtype_v2(typestr)
    assert dt == np.dtype(typestr)
    assert dt.str == typestr
    assert dtype_to_v2(dt) == typestr


def test_v2_byte_order_preserved():
    assert parse_dtype_v2(">f8").byteorder == ">"
    assert parse_dtype_v2("<f8").byteorder in "<="


def test_v2_one_byte_types_accept_any_order_marker():
    assert parse_dtype_v2("<i1") == np.dtype("i1")
    assert dtype_to_v2(np.dtype("<i1")) == "|i1"
    assert dtype_to_v2(np.dtype("bool")) == "|b1"
    assert dtype_to_v2(np.dtype("S3")) == "|S3"


def test_v2_structured_list_form():
    doc = [["x", "<f4"], ["y", ">i2", [2, 3]], ["nested", [["a", "|u1"], ["b", "<f8"]]]]
    dt = parse_dtype_v2(doc)
    assert dt.names == ("x", "y", "nested")
    assert dt["y"].shape == (2, 3) and dt["y"].base == np.dtype(">i2")
    assert dt["nested"]["b"] == np.dtype("<f8")
    assert dtype_to_v2(dt) == doc
    assert parse_dtype_v2(dtype_to_v2(dt)) == dt


@pytest.mark.parametrize("bad", ["f8", "<f16", "<O", "<f3", "<i3", "float64", "<U", "|S0",
                                 "<f8[ns]", "<M8[parsecs]", "<i8 ", 5, None, {"a": 1}, []])
def test_v2_bad_dtype_rejected(bad):
    with pytest.raises(InvalidMetadataError) as ei:
        parse_dtype_v2(bad)
    assert "dtype" in str(ei.value) or "data type" in str(ei.value)


def test_v2_multibyte_without_byte_order_rejected():
    with pytest.raises(InvalidMetadataError, match="byte order"):
        parse_dtype_v2("|f8")


def test_v2_object_dtype_is_variable_length_strings():
    assert dtype_to_v2(np.dtype(object)) == "|O"
    assert parse_dtype_v2("|O") == np.dtype(object)
    assert parse_dtype_v3("string") == np.dtype(object)
    assert dtype_to_v3(np.dtype(object)) == "string"


@pytest.mark.parametrize("name", V3_NAMES)
def test_v3_names_round_trip(name):
    dt = parse_dtype_v3(name)
    assert dt == np.dtype(name)
    assert dt.isnative
    assert dtype_to_v3(dt) == name
    assert parse_dtype_v3({"name": name}) == dt


@pytest.mark.parametrize("name", V3_NAMES)
def test_v3_endianness_is_not_part_of_the_type(name):
    dt = np.dtype(name)
    assert dtype_to_v3(dt.newbyteorder(">")) == name
    assert dtype_to_v3(dt.newbyteorder("<")) == name


@pytest.mark.parametrize("name", ["float128", "r16", "numpy.datetime32",
                                  {"name": "my.ext", "configuration": {}}])
def test_v3_unknown_data_type_is_unsupported_extension(name):
    with pytest.raises(UnsupportedExtensionError) as ei:
        parse_dtype_v3(name)
    n = name if isinstance(name, str) else name["name"]
    assert repr(n) in str(ei.value) and "cannot read" in str(ei.value)


def test_v3_data_type_must_understand_false_is_still_refused():
    # the spec forbids must_understand: false for data types
    with pytest.raises(UnsupportedExtensionError):
        parse_dtype_v3({"name": "my.ext", "must_understand": False})


@pytest.mark.parametrize("dt,doc", [
    ("M8[ns]", {"name": "numpy.datetime64", "configuration": {"unit": "ns", "scale_factor": 1}}),
    ("M8[10s]", {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}),
    ("m8[ms]", {"name": "numpy.timedelta64", "configuration": {"unit": "ms", "scale_factor": 1}}),
    ("U3", {"name": "fixed_length_utf32", "configuration": {"length_bytes": 12}}),
    ("S5", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 5}}),
])
def test_zarr_python_extension_data_types_round_trip(dt, doc):
    assert dtype_to_v3(np.dtype(dt)) == doc
    assert parse_dtype_v3(doc) == np.dtype(dt)


@pytest.mark.parametrize("doc", [
    "numpy.datetime64",  # no unit
    {"name": "numpy.datetime64", "configuration": {"unit": "fortnights", "scale_factor": 1}},
    {"name": "numpy.timedelta64", "configuration": {"unit": "s", "scale_factor": 0}},
    {"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}},
    {"name": "null_terminated_bytes", "configuration": {"length_bytes": -1}},
])
def test_bad_extension_data_type_configurations(doc):
    with pytest.raises(InvalidMetadataError):
        parse_dtype_v3(doc)


@pytest.mark.parametrize("dt", ["V4", [("a", "f4")]])
def test_dtype_to_v3_rejects_non_core(dt):
    with pytest.raises(InvalidMetadataError, match="not a Zarr v3 core data type"):
        dtype_to_v3(np.dtype(dt))


def test_v3_bad_data_type_forms():
    with pytest.raises(InvalidMetadataError):
        parse_dtype_v3(7)
    with pytest.raises(InvalidMetadataError):
        parse_dtype_v3({"configuration": {}})
    with pytest.raises(InvalidMetadataError, match="takes no configuration"):
        parse_dtype_v3({"name": "int8", "configuration": {"x": 1}})
