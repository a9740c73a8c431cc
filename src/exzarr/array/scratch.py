"""Per-thread scratch buffers for decoding/encoding one chunk at a time.

Allocating a fresh megabyte-sized array for every chunk costs page faults and zeroing;
each worker thread instead reuses one buffer per (shape, dtype, order).  A buffer is only
valid until the same thread asks for it again, so callers must finish with it first.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Literal

import numpy as np

from ..errors import ChunkTooLargeError

__all__ = ["scratch", "allocate", "byte_scratch", "BYTES_KEPT"]

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
        buf = cache[key] = allocate(shape, dtype, order)
    return buf


#: a thread keeps its byte buffer (:func:`byte_scratch`) between calls up to this size
BYTES_KEPT = 4 << 20


def byte_scratch(n: int) -> memoryview:
    """A writable byte memoryview of ``n`` bytes: this thread's reused buffer (valid until
    the thread asks again), or a fresh one, not kept, beyond :data:`BYTES_KEPT`."""
    buf = getattr(_local, "bytes", None)
    if buf is None or buf.nbytes < n:
        if n > BYTES_KEPT:
            return allocate((n,), np.dtype(np.uint8)).data
        buf = _local.bytes = allocate((max(n, 1 << 20),), np.dtype(np.uint8))
    return buf.data[:n]


def allocate(shape: tuple[int, ...], dtype: np.dtype, order: str = "C",
             fill: Any = None) -> np.ndarray:
    """``np.empty`` (or ``np.full`` with ``fill``) for one chunk; a chunk too large to
    allocate raises ChunkTooLargeError (a MemoryError) instead of NumPy's bare MemoryError
    or ValueError."""
    layout: Literal["C", "F"] = "F" if order == "F" else "C"
    try:
        if fill is None:
            return np.empty(shape, dtype=dtype, order=layout)
        return np.full(shape, fill, dtype=dtype, order=layout)
    except (MemoryError, ValueError) as exc:
        if not isinstance(exc, MemoryError) and "too big" not in str(exc) \
                and "dimension" not in str(exc):
            raise  # a fill value NumPy refuses: not a size problem
        dt = np.dtype(dtype)
        nbytes = math.prod(int(s) for s in shape) * dt.itemsize
        raise ChunkTooLargeError(
            f"cannot allocate a chunk of shape {tuple(shape)} and dtype {dt} ({nbytes:,} "
            f"bytes: {exc}); the array's chunk shape is too large for this machine: rewrite "
            "the array with smaller chunks (the metadata may be corrupt or hostile)") from None
