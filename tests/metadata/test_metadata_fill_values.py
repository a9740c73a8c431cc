"""Fill value forms of v2 and v3, in and out of JSON."""

import math

import numpy as np
import pytest

from exzarr.errors import InvalidMetadataError
from exzarr.metadata.fill_values import (
    default_fill_value,
    fill_from_json_v2,
    fill_from_json_v3,
    fill_to_json_v2,
    fill_to_json_v3,
    fill_values_equal,
    normalize_fill_value,
)


def bits(x):
    x = np.asarray(x)
    return x.view(f"u{x.dtype.itemsize}")[()] if x.dtype.kind == "f" else x.tobytes()


# ----------------------------------------------------------------- floats


@pytest.mark.parametrize("dt", ["<f2", "<f4", "<f8", ">f4", ">f8"])
@pytest.mark.parametrize("text,check", [("NaN", math.isnan), ("Infinity", lambda v: v == math.inf),
                                        ("-Infinity", lambda v: v == -math.inf)])
def test_special_float_strings_both_formats(dt, text, check):
    dtype = np.dtype(dt)
    v2 = fill_from_json_v2(text, dtype)
    assert check(float(v2)) and fill_to_json_v2(v2, dtype) == text
    native = dtype.newbyteorder("=")
    v3 = fill_from_json_v3(text, native)
    assert check(float(v3)) and fill_to_json_v3(v3, native) == text


@pytest.mark.parametrize("dt,value", [("f2", 0.0999755859375), ("f4", 0.10000000149011612),
                                      ("f8", 0.1), ("f8", 1e300), ("f8", -0.0), ("f4", 5e-45)])
def test_float_numbers_round_trip_exactly(dt, value):
    dtype = np.dtype(dt)
    for to_json, from_json in ((fill_to_json_v2, fill_from_json_v2),
                               (fill_to_json_v3, fill_from_json_v3)):
        x = from_json(value, dtype)
        out = to_json(x, dtype)
        assert isinstance(out, float)
        assert bits(from_json(out, dtype)) == bits(np.array(value, dtype))
    assert math.copysign(1, float(fill_from_json_v3(-0.0, np.dtype("f8")))) == -1


def test_float_number_rounds_to_nearest():
    assert fill_from_json_v3(0.1, np.dtype("f4")) == np.float32(0.1)
    assert fill_from_json_v2(1, np.dtype("f8")) == 1.0


def test_float_overflow_is_not_representable():
    with pytest.raises(InvalidMetadataError, match="not representable"):
        fill_from_json_v3(1e300, np.dtype("f4"))
    with pytest.raises(InvalidMetadataError, match="not representable"):
        normalize_fill_value(70000.0, np.dtype("f2"))


@pytest.mark.parametrize("dt,hexstr,expect", [
    ("f4", "0x7fc00000", "nan"), ("f4", "0x3f800000", 1.0), ("f4", "0x7f800000", math.inf),
    ("f4", "0xff800000", -math.inf), ("f8", "0x3ff0000000000000", 1.0),
    ("f8", "0x8000000000000000", -0.0), ("f2", "0x3c00", 1.0), ("f2", "0x7e00", "nan"),
    ("f4", "0X3F800000", 1.0), ("f4", "0x1", 1.401298464324817e-45),
])
def test_v3_hex_bit_patterns(dt, hexstr, expect):
    x = fill_from_json_v3(hexstr, np.dtype(dt))
    assert x.dtype == np.dtype(dt)
    assert int(bits(x)) == int(hexstr, 16)
    if expect == "nan":
        assert math.isnan(x)
    else:
        assert float(x) == expect and math.copysign(1, float(x)) == math.copysign(1, expect)


def test_v3_hex_nan_payload_round_trips_exactly():
    dt = np.dtype("f4")
    x = fill_from_json_v3("0x7fc00001", dt)
    assert math.isnan(x) and int(bits(x)) == 0x7FC00001
    assert fill_to_json_v3(x, dt) == "0x7fc00001"
    neg = fill_from_json_v3("0xfff8000000000000", np.dtype("f8"))
    assert fill_to_json_v3(neg, np.dtype("f8")) == "0xfff8000000000000"
    # the canonical NaN is written as "NaN", as zarr-python writes it
    assert fill_to_json_v3(np.float32("nan"), dt) == "NaN"


@pytest.mark.parametrize("bad", ["0x", "0x123456789", "0xzz", "0x_1", "nan", "inf", "1.5", "",
                                 None, True, [1.0]])
def test_v3_bad_float_fill_values(bad):
    with pytest.raises(InvalidMetadataError):
        fill_from_json_v3(bad, np.dtype("f4"))


def test_v2_has_no_hex_form():
    with pytest.raises(InvalidMetadataError):
        fill_from_json_v2("0x7fc00000", np.dtype("<f4"))


# ----------------------------------------------------------------- complex


@pytest.mark.parametrize("dt", ["c8", "c16"])
def test_complex_pairs(dt):
    dtype = np.dtype(dt)
    x = fill_from_json_v3([1, "-Infinity"], dtype)
    assert x == complex(1, -math.inf) and x.dtype == dtype
    assert fill_to_json_v3(x, dtype) == [1.0, "-Infinity"]
    y = fill_from_json_v3(["NaN", "0x3ff0000000000000" if dt == "c16" else "0x3f800000"], dtype)
    assert math.isnan(y.real) and y.imag == 1.0
    assert fill_to_json_v2(fill_from_json_v2([2.5, "Infinity"], np.dtype(">" + dt)),
                           np.dtype(">" + dt)) == [2.5, "Infinity"]


@pytest.mark.parametrize("bad", [1.0, [1.0], [1, 2, 3], "NaN", None, {"re": 1}])
def test_complex_bad_forms(bad):
    with pytest.raises(InvalidMetadataError, match="complex|null"):
        fill_from_json_v3(bad, np.dtype("c8"))


def test_complex_from_python_values():
    assert normalize_fill_value(1 + 2j, np.dtype("c8")) == np.complex64(1 + 2j)
    assert normalize_fill_value(3, np.dtype("c16")) == 3 + 0j
    assert normalize_fill_value((1, 2), np.dtype("c16")) == 1 + 2j


# ----------------------------------------------------------------- ints and bools


@pytest.mark.parametrize("dt,value", [("i1", -128), ("i1", 127), ("u1", 255), ("u8", 2**64 - 1),
                                      ("i8", -(2**63)), ("u2", 0), (">i4", -7)])
def test_int_fill_values(dt, value):
    dtype = np.dtype(dt)
    x = fill_from_json_v2(value, dtype)
    assert int(x) == value and fill_to_json_v2(x, dtype) == value
    assert type(fill_to_json_v2(x, dtype)) is int
    native = dtype.newbyteorder("=")
    assert fill_to_json_v3(fill_from_json_v3(value, native), native) == value


@pytest.mark.parametrize("dt,value", [("i1", 128), ("u1", -1), ("u8", 2**64), ("i8", 2**63),
                                      ("i4", 1.5), ("i4", "1"), ("i4", True), ("u1", None)])
def test_int_not_representable(dt, value):
    with pytest.raises(InvalidMetadataError) as ei:
        fill_from_json_v3(value, np.dtype(dt))
    assert str(value) in str(ei.value) or "null" in str(ei.value)


def test_integral_float_accepted_for_ints():
    assert fill_from_json_v3(3.0, np.dtype("i2")) == 3


def test_bool_fill_values():
    b = np.dtype(bool)
    assert fill_from_json_v3(True, b) is np.True_
    assert fill_to_json_v3(np.False_, b) is False
    assert fill_to_json_v2(fill_from_json_v2(True, b), b) is True
    for bad in ("true", 2, None, 0.5):
        with pytest.raises(InvalidMetadataError):
            fill_from_json_v3(bad, b)


# ----------------------------------------------------------------- v2-only kinds


def test_v2_null_is_none():
    assert fill_from_json_v2(None, np.dtype("<f8")) is None
    assert fill_to_json_v2(None, np.dtype("<f8")) is None


def test_v3_null_is_rejected():
    with pytest.raises(InvalidMetadataError, match="null"):
        fill_from_json_v3(None, np.dtype("f8"))


def test_v2_bytes_are_base64():
    dt = np.dtype("|S5")
    x = fill_from_json_v2("YWI=", dt)
    assert x == b"ab"
    assert fill_to_json_v2(x, dt) == "YWI="
    assert fill_to_json_v2(fill_from_json_v2("", dt), dt) == ""
    with pytest.raises(InvalidMetadataError, match="base64"):
        fill_from_json_v2("not base64!", dt)
    with pytest.raises(InvalidMetadataError, match="longer than 5 bytes"):
        fill_from_json_v2("YWJjZGVmZw==", dt)  # b"abcdefg"


def test_v2_unicode_is_plain_string():
    dt = np.dtype("<U3")
    x = fill_from_json_v2("héj", dt)
    assert x == "héj" and fill_to_json_v2(x, dt) == "héj"
    assert fill_from_json_v2("ab", np.dtype(">U3")) == "ab"
    with pytest.raises(InvalidMetadataError, match="longer than 3 characters"):
        fill_from_json_v2("abcd", dt)
    with pytest.raises(InvalidMetadataError):
        fill_from_json_v2(5, dt)


def test_v2_void_and_structured_are_base64():
    v = np.dtype("|V3")
    x = fill_from_json_v2("YWJj", v)
    assert x.tobytes() == b"abc" and fill_to_json_v2(x, v) == "YWJj"
    with pytest.raises(InvalidMetadataError, match="exactly 3 bytes"):
        fill_from_json_v2("YWI=", v)
    s = np.dtype([("x", "<f4"), ("y", "|u1")])
    y = fill_from_json_v2("AADAPwM=", s)
    assert y["x"] == 1.5 and y["y"] == 3
    assert fill_to_json_v2(y, s) == "AADAPwM="
    assert normalize_fill_value((1.5, 3), s).tobytes() == y.tobytes()


@pytest.mark.parametrize("dt", ["<M8[ns]", ">M8[s]", "<m8[ms]", "<M8", "<m8"])
def test_v2_datetime_as_int(dt):
    dtype = np.dtype(dt)
    x = fill_from_json_v2(5, dtype)
    assert np.array(x).view("i8") == 5
    assert fill_to_json_v2(x, dtype) == 5
    nat = fill_from_json_v2(-(2**63), dtype)
    assert np.isnat(nat)
    assert fill_to_json_v2(nat, dtype) == -(2**63)
    assert np.isnat(fill_from_json_v2("NaT", dtype))
    with pytest.raises(InvalidMetadataError):
        fill_from_json_v2("2020-01-01", dtype)


def test_datetime_from_numpy_value():
    dt = np.dtype("M8[ns]")
    x = normalize_fill_value(np.datetime64("2020-01-01T00:00:01", "s"), dt)
    assert x == np.datetime64("2020-01-01T00:00:01", "ns")
    with pytest.raises(InvalidMetadataError, match="precision"):
        normalize_fill_value(np.datetime64(1, "ns"), np.dtype("M8[s]"))


def test_defaults():
    assert default_fill_value(np.dtype("f4")) == 0 and default_fill_value(np.dtype("f4")).dtype == "f4"
    assert default_fill_value(np.dtype(bool)) is np.False_
    assert default_fill_value(np.dtype("c8")) == 0j
    assert default_fill_value(np.dtype("S3")) == b""
    assert default_fill_value(np.dtype("U3")) == ""


def test_equality_is_bitwise_but_all_nans_equal():
    assert fill_values_equal(np.float32("nan"), fill_from_json_v3("0x7fc00001", np.dtype("f4")))
    assert not fill_values_equal(np.float64(0.0), np.float64(-0.0))
    assert fill_values_equal(None, None) and not fill_values_equal(None, np.float64(0))
    assert not fill_values_equal(np.float32(1), np.float64(1))


def test_timedelta_scalar_is_not_taken_for_an_integer():
    # np.timedelta64 subclasses np.signedinteger; it must go through the time conversion
    dt = np.dtype("<m8[ms]")
    assert normalize_fill_value(np.timedelta64(3, "s"), dt) == np.timedelta64(3000, "ms")
    assert np.isnat(normalize_fill_value(np.timedelta64("NaT", "ms"), dt))
    with pytest.raises(InvalidMetadataError, match="expected an integer"):
        normalize_fill_value(np.timedelta64(3, "s"), np.dtype("i8"))
