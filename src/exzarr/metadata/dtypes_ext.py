"""Zarr v3 extension data types with a fixed item size, as zarr-python 3 writes them.

``numpy.datetime64`` / ``numpy.timedelta64`` (``unit`` + ``scale_factor``),
``fixed_length_utf32`` (``length_bytes``, 4 per character) and
``null_terminated_bytes`` (``length_bytes``), and the variable-length ``string`` (an
object array of ``str`` in memory, encoded by the ``vlen-utf8`` codec).  A registry maps each name to a parser
(configuration -> NumPy dtype) and each NumPy kind to a writer (dtype -> JSON).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ._common import fail

__all__ = ["EXT_PARSERS", "ext_to_json"]

_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic")


def _int_field(config: Mapping, field: str, name: str, minimum: int) -> int:
    v = config.get(field)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        fail(f"data type {name!r} needs an integer {field!r} >= {minimum}, got {v!r}",
             f"write the configuration as {{\"{field}\": <int>, ...}}")
    return v


def _time(kind: str, name: str) -> Callable[[Mapping], np.dtype]:
    def parse(config: Mapping) -> np.dtype:
        unit = config.get("unit")
        if unit not in _UNITS:
            fail(f"data type {name!r} has unit {unit!r}", f"use one of {', '.join(_UNITS)}")
        scale = _int_field(config, "scale_factor", name, 1) if "scale_factor" in config else 1
        if unit == "generic":
            return np.dtype(f"{kind}8")
        return np.dtype(f"{kind}8[{scale if scale != 1 else ''}{unit}]")
    return parse


def _utf32(config: Mapping) -> np.dtype:
    n = _int_field(config, "length_bytes", "fixed_length_utf32", 0)
    if n % 4:
        fail(f"fixed_length_utf32 length_bytes {n} is not a multiple of 4",
             "UTF-32 uses 4 bytes per character")
    return np.dtype(f"U{n // 4}")


def _bytes(config: Mapping) -> np.dtype:
    return np.dtype(f"S{_int_field(config, 'length_bytes', 'null_terminated_bytes', 0)}")


#: extension data type name -> configuration parser
EXT_PARSERS: dict[str, Callable[[Mapping], np.dtype]] = {
    "numpy.datetime64": _time("M", "numpy.datetime64"),
    "numpy.timedelta64": _time("m", "numpy.timedelta64"),
    "fixed_length_utf32": _utf32,
    "null_terminated_bytes": _bytes,
    # variable-length UTF-8 strings (zarr-python's "string"), held as object arrays of str
    "string": lambda config: np.dtype(object),
}


def _time_json(dt: np.dtype) -> dict:
    unit, scale = np.datetime_data(dt)
    name = "numpy.datetime64" if dt.kind == "M" else "numpy.timedelta64"
    return {"name": name, "configuration": {"unit": unit, "scale_factor": int(scale)}}


_WRITERS: dict[str, Callable[[np.dtype], dict | str]] = {
    "M": _time_json,
    "m": _time_json,
    "U": lambda dt: {"name": "fixed_length_utf32", "configuration": {"length_bytes": dt.itemsize}},
    "S": lambda dt: {"name": "null_terminated_bytes", "configuration": {"length_bytes": dt.itemsize}},
    "O": lambda dt: "string",
}


def ext_to_json(dt: np.dtype) -> Any:
    """The v3 JSON of an extension data type, or None if ``dt`` is not one."""
    writer = _WRITERS.get(dt.kind)
    return writer(dt) if writer is not None and dt.fields is None else None
