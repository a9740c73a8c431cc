"""Coerce values written to an array: NumPy casting rules, refusing unsafe casts."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeMismatchError, UnsafeCastError

__all__ = ["coerce_value", "broadcast_value"]

_PY_SCALARS = (bool, int, float, complex, str, bytes)


def _unsafe(src, dtype: np.dtype, where: str, why: str = "") -> UnsafeCastError:
    return UnsafeCastError(
        f"cannot write {src} to an array of dtype {dtype} at {where}: {why or 'unsafe cast'}; "
        f"convert the data explicitly first (e.g. np.asarray(value).astype({str(dtype)!r}))")


def coerce_value(value, dtype: np.dtype, where: str) -> np.ndarray:
    """``value`` as an array of ``dtype`` (same_kind casting; Python scalars are weak)."""
    if dtype.kind == "O":  # variable-length strings: str values only
        arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) \
            or value.dtype.kind in "OU" else None
        if arr is None or not all(isinstance(v, str) for v in arr.flat):
            raise _unsafe(f"data of type {getattr(value, 'dtype', type(value).__name__)}",
                          dtype, where, "string arrays hold str values only")
        return arr
    if isinstance(value, _PY_SCALARS) and not isinstance(value, np.generic):
        if dtype.kind in "SU":
            arr = np.asarray(value)
        else:
            try:
                rt = np.result_type(value, dtype)
            except (TypeError, ValueError) as e:
                raise _unsafe(f"{type(value).__name__} {value!r}", dtype, where, str(e)) from None
            if rt.kind != dtype.kind and not (dtype.kind in "fc" and rt.kind in "biuf"):
                raise _unsafe(f"{type(value).__name__} {value!r}", dtype, where)
            try:
                return np.asarray(value, dtype=dtype)
            except (OverflowError, ValueError) as e:
                raise _unsafe(f"{value!r}", dtype, where, str(e)) from None
    else:
        arr = np.asarray(value)
    if arr.dtype == dtype:
        return arr
    if arr.dtype.kind in "SU" and dtype.kind in "SU":
        if arr.dtype.kind != dtype.kind:
            raise _unsafe(f"data of dtype {arr.dtype}", dtype, where, "bytes/str mismatch")
        if arr.size and int(np.char.str_len(arr).max()) > dtype.itemsize // (4 if dtype.kind == "U" else 1):
            raise _unsafe(f"data of dtype {arr.dtype}", dtype, where, "strings would be truncated")
        return arr.astype(dtype)
    if arr.dtype.kind in "iu" and dtype.kind in "iu":  # integers: allowed when values fit
        info = np.iinfo(dtype)
        if arr.size and (int(arr.min()) < info.min or int(arr.max()) > info.max):
            raise _unsafe(f"data of dtype {arr.dtype}", dtype, where,
                          f"values outside the range [{info.min}, {info.max}] of {dtype}")
        return arr.astype(dtype)
    if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
        raise _unsafe(f"data of dtype {arr.dtype}", dtype, where,
                      f"casting {arr.dtype} to {dtype} is not a same-kind cast")
    return arr.astype(dtype)


def broadcast_value(arr: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    """``arr`` broadcast to ``shape`` (a read-only view), or ShapeMismatchError."""
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ShapeMismatchError(
            f"cannot write data of shape {arr.shape} into a selection of shape {shape} at "
            f"{where}: the shapes do not broadcast; reshape the data or change the selection") \
            from None
