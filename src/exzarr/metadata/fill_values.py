"""Fill values: Python/NumPy values <-> NumPy scalars <-> the JSON forms of v2 and v3.

In memory a fill value is a NumPy scalar of the array's dtype (``None`` only for a v2
``null``).  JSON forms, one encoder/decoder pair per dtype kind in a registry:

====== =============================================== ====================================
kind   v2 (spec + what zarr-python writes)             v3 (core spec)
====== =============================================== ====================================
b      true/false                                      true/false
i, u   integer                                         integer
f      number, "NaN", "Infinity", "-Infinity"          + hex bit pattern "0x7fc00000"
c      [re, im], parts as for f                        [re, im], parts as for f (hex too)
m, M   integer (NaT: -2**63)                           -
S, V   base64 of the bytes                             -
U      the string itself                               -
struct base64 of the bytes                             -
====== =============================================== ====================================
"""

from __future__ import annotations

import base64
import binascii
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._common import fail, is_int

__all__ = [
    "normalize_fill_value",
    "default_fill_value",
    "fill_to_json_v2",
    "fill_from_json_v2",
    "fill_to_json_v3",
    "fill_from_json_v3",
    "fill_values_equal",
    "fill_key",
]

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_UINT_OF_SIZE = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def default_fill_value(dtype: np.dtype) -> Any:
    """Zero of ``dtype``: 0, False, 0j, b"", "", all-zero bytes ("" for strings); NaT for
    datetime64/timedelta64, as zarr-python."""
    if dtype.kind == "O":
        return ""
    if dtype.kind in "mM":
        return np.array("NaT", dtype=dtype)[()]
    return np.zeros((), dtype=dtype)[()]


def _kind(dtype: np.dtype) -> str:
    return "struct" if dtype.fields is not None else dtype.kind


# ------------------------------------------------------------ Python value -> scalar


def normalize_fill_value(value: Any, dtype: np.dtype) -> np.generic:
    """Convert a Python/NumPy value to a scalar of ``dtype``, refusing lossy conversions."""
    if type(value) is dtype.type and dtype.isnative and value.dtype == dtype:
        return value  # already one (e.g. parsed from the document): kept as it is
    converter = _NORMALIZERS.get(_kind(dtype), _to_exact_bytes)
    return converter(value, dtype)


def _bad(value: Any, dtype: np.dtype, why: str) -> None:
    fail(f"fill value {value!r} is not representable as {dtype} ({why})",
         "choose a fill value of the array's data type")


def _to_bool(value, dtype):
    if isinstance(value, (bool, np.bool_)) or (is_int(value) and value in (0, 1)):
        return np.bool_(bool(value))
    _bad(value, dtype, "expected true or false")


def _to_int(value, dtype):
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if not is_int(value):
        _bad(value, dtype, "expected an integer")
    info = np.iinfo(dtype)
    if not info.min <= int(value) <= info.max:
        _bad(value, dtype, f"outside [{info.min}, {info.max}]")
    return np.array(int(value), dtype=dtype)[()]


def _to_float(value, dtype):
    if isinstance(value, str) and value in _SPECIAL:
        value = _SPECIAL[value]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                      np.floating)):
        _bad(value, dtype, "expected a real number")
    if isinstance(value, np.floating) and value.dtype.itemsize == dtype.itemsize:
        return value.astype(dtype.newbyteorder("="))  # keeps NaN payloads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.array(value, dtype=dtype)[()]
    if math.isinf(out) and math.isfinite(float(value)):
        _bad(value, dtype, "too large: it would become infinity")
    return out


def _to_complex(value, dtype):
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != 2:
            _bad(value, dtype, "a complex fill value is a [real, imaginary] pair")
        part = np.dtype(f"f{dtype.itemsize // 2}")
        re, im = (_to_float(v, part) for v in value)
        out = np.zeros((), dtype=dtype)
        out.real, out.imag = re, im
        return out[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, complex, np.integer, np.floating, np.complexfloating)
    ):
        _bad(value, dtype, "expected a complex number or a [real, imaginary] pair")
    c = complex(value)
    return _to_complex([c.real, c.imag], dtype)


def _to_time(value, dtype):
    scalar_type = np.datetime64 if dtype.kind == "M" else np.timedelta64
    if isinstance(value, str) and value == "NaT":
        return np.array("NaT", dtype=dtype)[()]
    if is_int(value):
        if not -(2**63) <= int(value) < 2**63:
            _bad(value, dtype, "outside the int64 range of time counts")
        return np.array(int(value), dtype=np.int64).view(dtype.newbyteorder("="))[()]
    if isinstance(value, scalar_type):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                out = np.array(value).astype(dtype)
            except (TypeError, ValueError, RuntimeWarning) as exc:
                _bad(value, dtype, str(exc))
        if not np.isnat(value) and out.astype(value.dtype) != value:
            _bad(value, dtype, "the conversion to this unit loses precision")
        return out[()]
    _bad(value, dtype, f"expected an integer count or a {scalar_type.__name__}")


def _to_bytes_str(value, dtype):
    if isinstance(value, str):
        try:
            value = value.encode("ascii")
        except UnicodeEncodeError:
            _bad(value, dtype, "a bytes fill value given as str must be ASCII")
    if not isinstance(value, (bytes, np.bytes_)):
        _bad(value, dtype, "expected bytes")
    if len(value.rstrip(b"\0")) > dtype.itemsize:
        _bad(value, dtype, f"longer than {dtype.itemsize} bytes")
    return np.array(value, dtype=dtype)[()]


def _to_unicode(value, dtype):
    if not isinstance(value, str):
        _bad(value, dtype, "expected a string")
    if len(value.rstrip("\0")) > dtype.itemsize // 4:
        _bad(value, dtype, f"longer than {dtype.itemsize // 4} characters")
    return np.array(value, dtype=dtype)[()]


def _to_string(value, dtype):
    if isinstance(value, (str, np.str_)):
        return str(value)
    _bad(value, dtype, "variable-length string arrays take a string fill value")


def _string_from_json(v, dtype):
    if not isinstance(v, str):
        fail(f"fill value {v!r} of a string data type is not a string",
             "write the fill value as a JSON string")
    return v


def _to_exact_bytes(value, dtype):
    """Void and structured types: a matching scalar, a tuple of fields, or raw bytes."""
    if isinstance(value, np.void) and value.dtype == dtype:
        return np.array(value, dtype=dtype)[()]
    if isinstance(value, (bytes, bytearray)):
        if len(value) != dtype.itemsize:
            _bad(value, dtype, f"expected exactly {dtype.itemsize} bytes, got {len(value)}")
        return np.frombuffer(bytes(value), dtype=dtype)[0]
    if isinstance(value, tuple) and dtype.fields is not None:
        try:
            return np.array(value, dtype=dtype)[()]
        except (TypeError, ValueError) as exc:
            _bad(value, dtype, str(exc))
    _bad(value, dtype, "expected bytes of the item size or a tuple of field values")


_NORMALIZERS: dict[str, Callable[[Any, np.dtype], np.generic]] = {
    "b": _to_bool,
    "i": _to_int,
    "u": _to_int,
    "f": _to_float,
    "c": _to_complex,
    "m": _to_time,
    "M": _to_time,
    "O": _to_string,
    "S": _to_bytes_str,
    "U": _to_unicode,
    "V": _to_exact_bytes,
    "struct": _to_exact_bytes,
}


# ------------------------------------------------------------ scalar <-> JSON


def _float_to_json(x: np.floating, *, hex_nan: bool) -> float | str:
    f = float(x)
    if math.isnan(f):
        if hex_nan and not _is_canonical_nan(x):
            return _hex_of(x)
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def _is_canonical_nan(x: np.floating) -> bool:
    return _bits(x) == _bits(np.array(np.nan, dtype=x.dtype)[()])


def _bits(x: np.floating | np.ndarray) -> int:
    return int(np.array(x, dtype=x.dtype.newbyteorder("=")).view(_UINT_OF_SIZE[x.dtype.itemsize]))


def _hex_of(x: np.floating) -> str:
    return f"0x{_bits(x):0{2 * x.dtype.itemsize}x}"


def _float_from_json(v: Any, dtype: np.dtype, *, allow_hex: bool):
    if isinstance(v, str):
        if v in _SPECIAL:
            return np.array(_SPECIAL[v], dtype=dtype)[()]
        if allow_hex and v[:2] in ("0x", "0X"):
            return _float_from_hex(v, dtype)
        fail(f"fill value {v!r} is not a number nor one of 'NaN', 'Infinity', '-Infinity'"
             + (" or a hex bit pattern" if allow_hex else ""),
             "write a JSON number or one of the special strings")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        fail(f"fill value {v!r} is not valid for data type {dtype}", "write a JSON number")
    return _to_float(v, dtype)


def _float_from_hex(v: str, dtype: np.dtype):
    width = 2 * dtype.itemsize
    digits = v[2:]
    try:
        bits = int(digits, 16)
    except ValueError:
        bits = -1
    if bits < 0 or not 0 < len(digits) <= width or "_" in digits:
        fail(f"fill value {v!r} is not a hex bit pattern of a {dtype} (up to {width} hex "
             "digits after '0x')", f"write e.g. '0x{'0' * width}'")
    return np.array(bits, dtype=_UINT_OF_SIZE[dtype.itemsize]).view(dtype.newbyteorder("="))[()]


def _complex_to_json(x, *, hex_nan: bool):
    return [_float_to_json(x.real, hex_nan=hex_nan), _float_to_json(x.imag, hex_nan=hex_nan)]


def _complex_from_json(v, dtype, *, allow_hex: bool):
    if not isinstance(v, list) or len(v) != 2:
        fail(f"fill value {v!r} of complex data type {dtype} is not a [real, imaginary] pair",
             "write a two-element JSON array such as [1.0, 0.0]")
    part = np.dtype(f"f{dtype.itemsize // 2}")
    re, im = (_float_from_json(p, part, allow_hex=allow_hex) for p in v)
    return _to_complex([re, im], dtype)


def _b64_to_json(x) -> str:
    raw = x if isinstance(x, bytes) else np.array(x).tobytes()
    return base64.standard_b64encode(bytes(raw)).decode("ascii")


def _b64_from_json(v, dtype):
    if not isinstance(v, str):
        fail(f"fill value {v!r} of data type {dtype} is not a base64 string",
             "v2 fill values of bytes, void and structured types are base64-encoded strings")
    try:
        raw = base64.b64decode(v.encode("ascii"), validate=True) if v else b""
    except (binascii.Error, UnicodeEncodeError, ValueError):
        fail(f"fill value {v!r} of data type {dtype} is not valid base64",
             "v2 fill values of bytes, void and structured types are base64-encoded strings")
    if dtype.kind == "S":
        return _to_bytes_str(raw, dtype)
    return _to_exact_bytes(raw, dtype)


def _bool_from_json(v, dtype):
    if isinstance(v, bool) or (isinstance(v, int) and v in (0, 1)):
        return np.bool_(bool(v))
    fail(f"fill value {v!r} of data type bool is not true or false", "write true or false")


def _int_from_json(v, dtype):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        fail(f"fill value {v!r} of data type {dtype} is not an integer", "write a JSON integer")
    return _to_int(v, dtype)


def _time_from_json(v, dtype):
    if v == "NaT" or (isinstance(v, int) and not isinstance(v, bool)):
        return _to_time(v, dtype)
    fail(f"fill value {v!r} of data type {dtype} is not an integer count of time units",
         "write the fill value as an integer (NaT is -9223372036854775808)")


def _unicode_from_json(v, dtype):
    if not isinstance(v, str):
        fail(f"fill value {v!r} of unicode data type {dtype} is not a string",
             "write the fill value as a JSON string")
    return _to_unicode(v, dtype)


# kind -> (to_json(scalar), from_json(json, dtype))
_V2_CODECS: dict[str, tuple[Callable, Callable]] = {
    "b": (bool, _bool_from_json),
    "i": (int, _int_from_json),
    "u": (int, _int_from_json),
    "f": (lambda x: _float_to_json(x, hex_nan=False),
          lambda v, dt: _float_from_json(v, dt, allow_hex=False)),
    "c": (lambda x: _complex_to_json(x, hex_nan=False),
          lambda v, dt: _complex_from_json(v, dt, allow_hex=False)),
    "m": (lambda x: int(np.array(x).view(np.int64)), _time_from_json),
    "M": (lambda x: int(np.array(x).view(np.int64)), _time_from_json),
    "S": (_b64_to_json, _b64_from_json),
    "U": (str, _unicode_from_json),
    "V": (_b64_to_json, _b64_from_json),
    "struct": (_b64_to_json, _b64_from_json),
    "O": (str, _string_from_json),
}
_V3_CODECS: dict[str, tuple[Callable, Callable]] = {
    "b": _V2_CODECS["b"],
    "i": _V2_CODECS["i"],
    "u": _V2_CODECS["u"],
    "f": (lambda x: _float_to_json(x, hex_nan=True),
          lambda v, dt: _float_from_json(v, dt, allow_hex=True)),
    "c": (lambda x: _complex_to_json(x, hex_nan=True),
          lambda v, dt: _complex_from_json(v, dt, allow_hex=True)),
    # zarr-python's extension data types use the v2 forms
    "m": _V2_CODECS["m"],
    "M": _V2_CODECS["M"],
    "S": _V2_CODECS["S"],
    "U": _V2_CODECS["U"],
    "O": _V2_CODECS["O"],
}


def fill_to_json_v2(value: np.generic | None, dtype: np.dtype) -> Any:
    """The v2 JSON ``fill_value`` (``None`` -> ``null``)."""
    if value is None:
        return None
    return _V2_CODECS[_kind(dtype)][0](value)


def fill_from_json_v2(value: Any, dtype: np.dtype) -> np.generic | None:
    """Parse a v2 JSON ``fill_value`` (``null`` -> ``None``)."""
    if value is None:
        return None
    return _V2_CODECS[_kind(dtype)][1](value, dtype)


def fill_to_json_v3(value: np.generic, dtype: np.dtype) -> Any:
    """The v3 JSON ``fill_value``; NaN is "NaN" unless its bits differ (then hex)."""
    return _V3_CODECS[_kind(dtype)][0](value)


def fill_from_json_v3(value: Any, dtype: np.dtype) -> np.generic:
    """Parse a v3 JSON ``fill_value`` (numbers, special strings, hex, [re, im], bools)."""
    if value is None:
        fail(f"fill_value is null, but a Zarr v3 array of {dtype} needs a fill value",
             "write the fill value, e.g. 0 (null is not allowed for core data types)")
    return _V3_CODECS[_kind(dtype)][1](value, dtype)


def fill_key(value: np.generic | None) -> Any:
    """A hashable identity of a fill value: its bytes (all NaNs of a type compare equal)."""
    if value is None:
        return None
    arr = np.array(value)
    if arr.dtype.kind == "f" and np.isnan(arr):
        return ("nan", arr.dtype.str)
    if arr.dtype.kind == "c":
        parts = []
        for p in (arr.real, arr.imag):
            parts.append(("nan",) if np.isnan(p) else p.tobytes())
        return ("c", arr.dtype.str, tuple(parts))
    return (arr.dtype.str, arr.tobytes())


def fill_values_equal(a: np.generic | None, b: np.generic | None) -> bool:
    return fill_key(a) == fill_key(b)
