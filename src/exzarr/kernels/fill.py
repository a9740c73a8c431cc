"""Is a chunk entirely fill_value?  Bitwise for exact types, NaN-aware for floats.

Comparison is on the bit pattern (so ``-0.0`` is not mistaken for a ``0.0`` fill and
lost), except that any NaN matches a NaN fill_value.  Early exit on the first miss.
"""

from __future__ import annotations

import numpy as np

from .copy import words_view
from .jit import lazy_njit

__all__ = ["is_all_fill", "is_all_fill_reference", "is_all_bytes"]


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


def _is_nan_fill(dtype: np.dtype, fill) -> bool:
    if dtype.kind not in "fc" or fill is None:
        return False
    return bool(np.isnan(np.asarray(fill)).any())


def is_all_fill(arr: np.ndarray, fill) -> bool:
    """True if every element of ``arr`` equals ``fill`` (NaN-aware, sign of zero kept)."""
    if arr.size == 0:
        return True
    if arr.dtype.hasobject:  # variable-length strings: compare values
        return all(isinstance(v, type(fill)) and v == fill for v in arr.flat)
    arr = arr if (arr.flags.c_contiguous or arr.flags.f_contiguous) else np.ascontiguousarray(arr)
    if _is_nan_fill(arr.dtype, fill):
        flat = arr.ravel(order="K").astype(arr.dtype.newbyteorder("="), copy=False)
        if arr.dtype.kind == "c":
            f = complex(fill)
            return _matches_part(flat.real, f.real) and _matches_part(flat.imag, f.imag)
        if flat.dtype.itemsize == 2:  # Numba has no float16: widen exactly
            flat = flat.astype(np.float32)
        return bool(_all_nan(flat))
    words, w = words_view(arr)
    value, _ = words_view(np.asarray(fill, dtype=arr.dtype).reshape(1))
    return bool(_all_words(words, value, w))


def is_all_bytes(arr: np.ndarray, fill) -> bool:
    """True if every element of ``arr`` has exactly ``fill``'s bytes (NaN payloads too)."""
    if arr.size == 0:
        return True
    if arr.dtype.hasobject:
        return all(isinstance(v, type(fill)) and v == fill for v in arr.flat)
    if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
        arr = np.ascontiguousarray(arr)
    words, w = words_view(arr)
    value, _ = words_view(np.asarray(fill, dtype=arr.dtype).reshape(1))
    return bool(_all_words(words, value, w))


def _matches_part(part: np.ndarray, f) -> bool:
    if np.isnan(f):
        return bool(_all_nan(np.ascontiguousarray(part)))
    words, w = words_view(np.ascontiguousarray(part))
    value, _ = words_view(np.asarray(f, dtype=part.dtype).reshape(1))
    return bool(_all_words(words, value, w))


def is_all_fill_reference(arr: np.ndarray, fill) -> bool:
    """Pure-NumPy equivalent of :func:`is_all_fill` (test oracle)."""
    if arr.size == 0:
        return True
    if arr.dtype.hasobject:
        return all(isinstance(v, type(fill)) and v == fill for v in arr.flat)
    f = np.asarray(fill, dtype=arr.dtype)
    if arr.dtype.kind == "c" and _is_nan_fill(arr.dtype, fill):
        return bool(np.all(((arr.real == f.real) | (np.isnan(arr.real) & np.isnan(f.real)))
                           & ((arr.imag == f.imag) | (np.isnan(arr.imag) & np.isnan(f.imag)))))
    if _is_nan_fill(arr.dtype, fill):
        return bool(np.isnan(arr).all())
    a = np.ascontiguousarray(arr)
    return a.tobytes() == np.full(a.shape, f, dtype=a.dtype).tobytes()
