"""Is a chunk entirely fill_value?  The one rule every writer uses to skip empty chunks.

Unsharded chunks, inner chunks of shards and inner chunks written one at a time all ask
:func:`is_all_fill`; a chunk for which it is True is not stored (unless
``write_empty_chunks``).  The rule is zarr-python 3's (``NDBuffer.all_equal`` as called by
its codec pipeline when ``write_empty_chunks`` is False, zarr-python 3.1.x including PR
#3216), so exzarr and zarr-python drop the same chunks:

* ``fill`` is taken as an element of the array's dtype; ``None`` (Zarr v2 without a
  fill value) means the dtype's zero, as zarr-python's ``fill_value_or_default``.
* An empty array is all fill.
* Floats and complex numbers with a zero fill (``0.0``, ``-0.0``, ``0j``): the bit
  pattern must match, so ``-0.0`` (or a ``-0.0`` part) in a ``0.0``-filled array is kept
  (and ``0.0`` in a ``-0.0``-filled one).  zarr-python 3.1 applies this to real floats
  only and drops a chunk of complex ``-0.0`` parts, which then reads back as ``0.0``;
  exzarr keeps such a chunk (it stores a chunk zarr-python would skip, never the
  reverse), so the sign of zero always survives.
* Strings, bytes, structured/void and object arrays: value equality (``==``), no NaN
  rule.
* Everything else (bool, ints, other floats and complex, datetimes): value equality
  where NaN matches NaN (``numpy.array_equal(..., equal_nan=True)``).  So any NaN
  (any payload) matches a NaN fill; for complex a value is NaN when either part is.

:func:`is_all_fill_reference` states the rule in NumPy (it is also the fallback when
Numba is unavailable or ``exzarr.config`` ``jit`` is False); :func:`is_all_fill` runs it
with Numba kernels that stop at the first element that differs.
"""

from __future__ import annotations

import numpy as np

from . import jit
from .copy import words_view
from .jit import lazy_njit

__all__ = ["fill_bits", "is_all_fill", "is_all_fill_reference"]

_NO_NAN_RULE = "USVO"  # kinds compared with plain ==, as zarr-python does


@lazy_njit
def _all_words(words, value, w):
    n = words.shape[0] // w if w else 0
    for i in range(n):
        for t in range(w):
            if words[i * w + t] != value[t]:
                return False
    return True


@lazy_njit
def _all_nan(flat):
    for i in range(flat.shape[0]):
        x = flat[i]
        if x == x:
            return False
    return True


@lazy_njit
def _all_complex_nan(parts):
    """``parts``: real and imaginary parts interleaved; True if every value has a NaN."""
    for i in range(parts.shape[0] // 2):
        re = parts[2 * i]
        im = parts[2 * i + 1]
        if re == re and im == im:
            return False
    return True


@lazy_njit
def _all_complex_equal(parts, re, im):
    for i in range(parts.shape[0] // 2):
        if not (parts[2 * i] == re and parts[2 * i + 1] == im):
            return False
    return True


def _fill_scalar(dtype: np.dtype, fill):
    """``fill`` as a 0-d array of ``dtype`` (None: the dtype's zero)."""
    if fill is None:
        return np.zeros((), dtype=dtype)
    return np.asarray(fill, dtype=dtype)


def fill_bits(dtype: np.dtype, fill) -> np.ndarray | None:
    """``fill`` as a 0-d array of ``dtype`` when the rule above is bit equality with it
    (an element counts as fill exactly when its bytes are the fill's), else None: object
    and structured dtypes, a NaN fill (any NaN counts), and a complex fill with one zero
    part beside a non-zero one (``1-0j`` counts as ``1+0j`` by value)."""
    if dtype.hasobject or dtype.kind == "V":
        return None
    try:
        f = _fill_scalar(dtype, fill)
    except (TypeError, ValueError, OverflowError):
        return None
    if dtype.kind == "f" and np.isnan(f):
        return None
    if dtype.kind == "c":
        if np.isnan(f) or (f != 0 and (f.real == 0 or f.imag == 0)):
            return None
    return f


def _bit_view(a: np.ndarray) -> np.ndarray:
    """``a`` viewed as unsigned ints (or raw void) of the same item size: compares bits."""
    n = a.dtype.itemsize
    return a.view(f"u{n}" if n in (1, 2, 4, 8) else f"V{n}")


def is_all_fill_reference(arr: np.ndarray, fill) -> bool:
    """The rule in NumPy (see the module docstring); the fallback without Numba."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return True
    if arr.dtype.hasobject:
        f = np.empty((), dtype=object)
        f[()] = fill
        return bool(np.all(arr == f))
    f = _fill_scalar(arr.dtype, fill)
    kind = arr.dtype.kind
    if kind in "fc" and f == 0:  # the sign of zero counts
        return bool(np.all(_bit_view(arr) == _bit_view(f)))
    if kind in _NO_NAN_RULE:
        return bool(np.all(arr == f))
    return bool(np.array_equal(arr, np.broadcast_to(f, arr.shape), equal_nan=True))


def is_all_fill(arr: np.ndarray, fill) -> bool:
    """True if every element of ``arr`` counts as ``fill`` under the rule above."""
    arr = np.asarray(arr)
    if arr.size == 0:
        return True
    dt = arr.dtype
    if dt.hasobject or dt.kind == "V" or not jit.enabled():
        return is_all_fill_reference(arr, fill)
    f = _fill_scalar(dt, fill)
    if dt.kind == "c":
        if dt.itemsize not in (8, 16):  # no Numba type for complex256
            return is_all_fill_reference(arr, fill)
        parts = _native_flat(arr).view(f"f{dt.itemsize // 2}")
        if np.isnan(f):
            return bool(_all_complex_nan(parts))
        if f != 0:
            return bool(_all_complex_equal(parts, float(f.real), float(f.imag)))
        # a zero fill: bit equality (the sign of zero counts), below
    if dt.kind == "f":
        if dt.itemsize not in (2, 4, 8):  # long double: padding bytes are not value bits
            return is_all_fill_reference(arr, fill)
        if np.isnan(f):
            flat = _native_flat(arr)
            if dt.itemsize == 2:  # Numba has no float16: widen exactly
                flat = flat.astype(np.float32)
            return bool(_all_nan(flat))
        # not NaN: a zero fill compares bits by the rule; any other value has exactly one
        # bit pattern, so value equality is bit equality
    # bool, ints, datetimes (NaT is one bit pattern), bytes and str of one item size:
    # value equality is bit equality
    a = arr if (arr.flags.c_contiguous or arr.flags.f_contiguous) else np.ascontiguousarray(arr)
    words, w = words_view(a)
    value, _ = words_view(f.reshape(1))
    return bool(_all_words(words, value, w))


def _native_flat(arr: np.ndarray) -> np.ndarray:
    """The elements of ``arr`` as a contiguous 1-d array in native byte order (copied
    only when needed)."""
    a = arr if (arr.flags.c_contiguous or arr.flags.f_contiguous) else np.ascontiguousarray(arr)
    flat = a.ravel(order="K")
    return flat.astype(flat.dtype.newbyteorder("="), copy=False)
