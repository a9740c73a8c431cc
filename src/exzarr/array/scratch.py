"""Per-thread scratch buffers for decoding/encoding one chunk at a time.

Allocating a fresh megabyte-sized array for every chunk costs page faults and zeroing;
each worker thread instead reuses one buffer per (shape, dtype, order).  A buffer is only
valid until the same thread asks for it again, so callers must finish with it first.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["scratch"]

_local = threading.local()
_MAX_BUFFERS = 4


def scratch(shape: tuple[int, ...], dtype: np.dtype, order: str = "C") -> np.ndarray:
    cache = getattr(_local, "bufs", None)
    if cache is None:
        cache = _local.bufs = {}
    key = (tuple(shape), np.dtype(dtype).str, order)
    buf = cache.get(key)
    if buf is None:
        if len(cache) >= _MAX_BUFFERS:
            cache.clear()
        buf = cache[key] = np.empty(shape, dtype=dtype, order="F" if order == "F" else "C")
    return buf
