"""Data types: Zarr v2 typestr/descr and Zarr v3 data type names <-> NumPy dtypes.

v2 (spec "Data type encoding"): a NumPy typestr with explicit byte order (``"<f8"``,
``">i2"``, ``"|b1"``, ``"|S10"``, ``"<U5"``, ``"<M8[ns]"``, ``"|V4"``) or, for structured
types, a list of ``[name, type, (shape)]`` entries.

v3 (core data types): ``bool``, ``int8`` ... ``uint64``, ``float16/32/64``,
``complex64/128``.  The in-memory dtype of a v3 array is native-endian: byte order is
a property of the ``bytes`` codec, not of the data type.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from exzarr.errors import InvalidMetadataError, UnsupportedExtensionError

from ._common import fail, is_int
from .dtypes_ext import EXT_PARSERS, ext_to_json
from .extensions import parse_extension

__all__ = [
    "parse_dtype_v2",
    "dtype_to_v2",
    "parse_dtype_v3",
    "dtype_to_v3",
    "V3_DATA_TYPES",
    "check_dtype_v2",
]

# v3 core data type name -> native NumPy dtype.
V3_DATA_TYPES: dict[str, np.dtype] = {
    name: np.dtype(name)
    for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
    )
}
_V3_NAME_OF: dict[tuple[str, int], str] = {(dt.kind, dt.itemsize): n for n, dt in V3_DATA_TYPES.items()}

# v2 typestr kinds we read and write -> allowed item sizes (None: any positive size).
_V2_KIND_SIZES: dict[str, frozenset[int] | None] = {
    "b": frozenset({1}),
    "i": frozenset({1, 2, 4, 8}),
    "u": frozenset({1, 2, 4, 8}),
    "f": frozenset({2, 4, 8}),
    "c": frozenset({8, 16}),
    "m": frozenset({8}),
    "M": frozenset({8}),
    "S": None,
    "U": None,
    "V": None,
    "O": frozenset({np.dtype(object).itemsize}),  # variable-length strings (vlen-utf8)
}
_V2_TYPESTR = re.compile(r"^([<>|])([biufcmMSUV])(\d+)(\[[0-9]*[A-Za-z]+\])?$")
_DATETIME_UNITS = frozenset({"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps",
                             "fs", "as", "generic"})
_V2_HINT = ("use a NumPy typestr with byte order, e.g. '<f8', '>i2', '|b1', '|S10', '<U5', "
            "'<M8[ns]', or a structured list [[name, typestr], ...]")


# --------------------------------------------------------------------------- v2


def parse_dtype_v2(x: Any) -> np.dtype:
    """Parse a v2 ``dtype`` field (typestr or structured list) into a NumPy dtype."""
    if isinstance(x, str):
        return _parse_typestr(x)
    if isinstance(x, (list, tuple)):
        return _parse_structured(x)
    fail(f"dtype {x!r} is neither a typestr nor a structured-type list", _V2_HINT)


def _parse_typestr(s: str) -> np.dtype:
    if s == "|O":  # variable-length strings: an object array with a vlen-utf8 filter
        return np.dtype(object)
    m = _V2_TYPESTR.match(s)
    if m is None:
        fail(f"unsupported or malformed v2 dtype {s!r}", _V2_HINT)
    order, kind, unit = m.group(1), m.group(2), m.group(4)
    if unit is not None and kind not in "mM":
        fail(f"v2 dtype {s!r} has a unit but is not datetime64/timedelta64", _V2_HINT)
    if unit is not None and unit[1:-1].lstrip("0123456789") not in _DATETIME_UNITS:
        fail(f"v2 dtype {s!r} has unknown time unit {unit}",
             "use a NumPy datetime unit such as [s], [ms], [us] or [ns]")
    try:
        dt = np.dtype(s)
    except TypeError as exc:
        fail(f"v2 dtype {s!r} is not understood by NumPy ({exc})", _V2_HINT)
    check_dtype_v2(dt)
    if dt.itemsize > 1 and order == "|" and kind not in "SV":
        fail(f"v2 dtype {s!r} has no byte order ('|') but items of {dt.itemsize} bytes",
             "the byte order of multi-byte types must be '<' or '>'")
    return dt


def _parse_structured(fields: list | tuple) -> np.dtype:
    if not fields:
        fail("structured v2 dtype is an empty list", "give at least one [name, typestr] field")
    spec: list[tuple[str, np.dtype] | tuple[str, np.dtype, tuple[int, ...]]] = []
    for f in fields:
        if not isinstance(f, (list, tuple)) or len(f) not in (2, 3) or not isinstance(f[0], str):
            fail(f"structured v2 dtype field {f!r} is not [name, type] or [name, type, shape]",
                 _V2_HINT)
        sub = parse_dtype_v2(f[1])
        if len(f) == 3:
            if not isinstance(f[2], (list, tuple)) or not all(is_int(n) and n >= 0 for n in f[2]):
                fail(f"structured v2 dtype field {f!r} has a bad shape",
                     "the shape must be a list of non-negative integers")
            spec.append((f[0], sub, tuple(int(n) for n in f[2])))
        else:
            spec.append((f[0], sub))
    try:
        return np.dtype(spec)
    except (TypeError, ValueError) as exc:
        fail(f"structured v2 dtype {fields!r} is invalid ({exc})", _V2_HINT)


def check_dtype_v2(dt: np.dtype) -> np.dtype:
    """Raise unless ``dt`` is representable in v2 metadata; returns it."""
    if dt.fields is not None and dt.names is not None:  # structured (both set together)
        for name in dt.names:
            check_dtype_v2(dt.fields[name][0])
        return dt
    if dt.subdtype is not None:
        check_dtype_v2(dt.subdtype[0])
        return dt
    sizes = _V2_KIND_SIZES.get(dt.kind, frozenset())
    ok = dt.itemsize > 0 if sizes is None else dt.itemsize in sizes
    if dt.kind == "V" and dt.itemsize == 0:
        ok = False
    if dt.kind in "SU" and dt.itemsize == 0:
        ok = False
    if not ok:
        fail(f"data type {dt!r} is not supported by exzarr for Zarr v2 arrays",
             "use bool, (u)int8-64, float16/32/64, complex64/128, datetime64, timedelta64, "
             "fixed-length bytes 'S<n>', unicode 'U<n>', void 'V<n>' or a structured type "
             "of these")
    return dt


def dtype_to_v2(dtype: Any) -> str | list:
    """The v2 ``dtype`` field for a NumPy dtype (typestr, or descr list for structured)."""
    dt = check_dtype_v2(np.dtype(dtype))
    if dt.fields is not None:
        return _descr_to_json(dt.descr)
    return dt.str


def _descr_to_json(descr: list) -> list:
    out = []
    for entry in descr:
        name, typ = entry[0], entry[1]
        item = [name, _descr_to_json(typ) if isinstance(typ, list) else typ]
        if len(entry) == 3:
            item.append(list(entry[2]))
        out.append(item)
    return out


# --------------------------------------------------------------------------- v3


def parse_dtype_v3(x: Any) -> np.dtype:
    """Parse a v3 ``data_type`` (short-hand name or extension object) into a native dtype."""
    ext = parse_extension(x, "data_type")
    dt = V3_DATA_TYPES.get(ext.name)
    if dt is None and ext.name in EXT_PARSERS:
        return EXT_PARSERS[ext.name](ext.configuration or {})
    if dt is None:
        raise UnsupportedExtensionError(
            f"data type {ext.name!r} is an extension this exzarr cannot read; supported v3 "
            f"data types are {', '.join([*V3_DATA_TYPES, *EXT_PARSERS])}"
        )
    if ext.configuration:
        fail(f"data type {ext.name!r} takes no configuration, got {ext.configuration!r}",
             f"write the data type as the string {ext.name!r}")
    return dt


def dtype_to_v3(dtype: Any) -> str | dict:
    """The v3 ``data_type`` for a NumPy dtype (byte order is ignored): a core name, or
    the object form of one of zarr-python's extension types (datetime64/timedelta64,
    fixed-length UTF-32, null-terminated bytes)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidMetadataError(f"{dtype!r} is not a data type ({exc}); "
                                   "pass a NumPy dtype or a name such as 'float32'") from None
    name = _V3_NAME_OF.get((dt.kind, dt.itemsize)) if dt.fields is None else None
    if name is None and dt.subdtype is None:
        ext = ext_to_json(dt)
        if ext is not None:
            return ext
    if name is None or dt.subdtype is not None:
        fail(f"data type {dt!r} is not a Zarr v3 core data type",
             f"use one of {', '.join(V3_DATA_TYPES)} (or write a Zarr v2 array)")
    return name
