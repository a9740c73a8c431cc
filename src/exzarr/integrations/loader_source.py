"""The batch loader's view of one input array: its length along the loader's axis, which
chunk each sample lives in, and reading a window of samples in any order with each
needed chunk decoded once.

A source is a :class:`~exzarr.ZArray` (an array or any lazy view of one) or any other
array-like with ``shape`` and NumPy-style indexing that returns something ``read()``-able
or ``numpy.asarray``-able (a NumPy array, a lazy expression).  Chunk ids only steer how
samples are grouped into reads; results never depend on them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..array.zarray import ZArray
from ..errors import ShapeMismatchError
from ..indexing.selection import DimKind
from ..storage import Store

__all__ = ["Source", "to_xp"]


class Source:
    """One input of the loader: ``array`` sampled along ``axis``."""

    def __init__(self, array: Any, axis: int, name: str) -> None:
        shape = getattr(array, "shape", None)
        if shape is None or not hasattr(array, "__getitem__"):
            raise TypeError(f"{name} must be a ZArray or an array-like with .shape and "
                            f"indexing, not {type(array).__name__}")
        self.array = array
        self.name = name
        self.shape = tuple(int(s) for s in shape)
        if not -len(self.shape) <= axis < len(self.shape):
            raise ShapeMismatchError(f"{name} has shape {self.shape}: it has no axis {axis} "
                                     f"to take samples along; pass axis= within "
                                     f"[{-len(self.shape)}, {len(self.shape) - 1}]")
        self.axis = axis % len(self.shape)
        self.n = self.shape[self.axis]
        self.dtype = np.dtype(getattr(array, "dtype", np.float64))
        rest = self.shape[:self.axis] + self.shape[self.axis + 1:]
        self.sample_shape = rest
        self.bytes_per_sample = max(1, self.dtype.itemsize * math.prod(rest))

    @property
    def store(self) -> Store | None:
        stored = isinstance(self.array, ZArray) and not self.array.is_lazy
        return self.array.store if stored else None

    # -- chunk geometry -----------------------------------------------------------------
    def chunk_ids(self) -> np.ndarray:
        """For each sample along the axis, an id of the chunk holding it (int64)."""
        idx = np.arange(self.n, dtype=np.int64)
        a = self.array
        if isinstance(a, ZArray) and not a.is_lazy:  # lazy: its evaluation blocks, below
            base_chunks = a.chunks
            if not a.is_view:
                return idx // base_chunks[self.axis]
            sel = a.selection
            for d, dim in enumerate(sel.dims):
                if dim.axes != (self.axis,):
                    continue
                if dim.kind is DimKind.SLICE or dim.kind is DimKind.ARRAY:
                    base = np.asarray(dim.full(sel.out_shape), dtype=np.int64).reshape(-1)
                    if len(base) == self.n:
                        return base // base_chunks[d]
            # the axis is shared by several index arrays (vindex) or is a new axis:
            # group in runs of the first dimension's chunk length
            return idx // max(1, base_chunks[0])
        chunks = getattr(a, "chunks", None)
        if (isinstance(chunks, tuple) and len(chunks) == len(self.shape)
                and all(isinstance(c, (int, np.integer)) and c > 0 for c in chunks)):
            return idx // int(chunks[self.axis])
        return idx  # no chunks: every sample is its own unit

    def chunk_len(self) -> int:
        """Typical samples per chunk along the axis (for sizing buffers)."""
        ids = self.chunk_ids()
        if len(ids) == 0:
            return 1
        return max(1, math.ceil(len(ids) / len(np.unique(ids))))

    # -- reading ------------------------------------------------------------------------
    def _key(self, k: slice | np.ndarray) -> tuple[Any, ...]:
        return (slice(None),) * self.axis + (k,)

    def _read(self, k: slice | np.ndarray) -> np.ndarray:
        a = self.array
        if isinstance(k, np.ndarray) and hasattr(a, "oindex"):
            view = a.oindex[self._key(k)]
        else:
            view = a[self._key(k)]
        read = getattr(view, "read", None)
        return np.asarray(read() if callable(read) else view)

    def read(self, idx: np.ndarray) -> np.ndarray:
        """Samples ``idx`` (distinct indices, any order) in that order, stacked along the
        axis, with one read call: an increasing run is read as a slice, anything else as
        an orthogonal selection in the requested order, which decodes each chunk it needs
        once and scatters its rows straight to their places (no second gather pass)."""
        idx = np.asarray(idx, dtype=np.int64)
        m = len(idx)
        increasing_run = m > 0 and int(idx[-1]) - int(idx[0]) + 1 == m and (
            m == 1 or bool(np.all(np.diff(idx) == 1)))
        if increasing_run:
            data = self._read(slice(int(idx[0]), int(idx[0]) + m))
        elif m == 0:
            data = self._read(slice(0, 0))
        else:
            data = self._read(idx)
        expected = self.shape[:self.axis] + (m,) + self.shape[self.axis + 1:]
        if data.shape != expected:
            raise ShapeMismatchError(f"reading {m} samples of {self.name} along axis "
                                     f"{self.axis} returned shape {data.shape}, expected "
                                     f"{expected}: the array changed shape while loading, or "
                                     f"its indexing does not follow NumPy's")
        return data


def to_xp(a: np.ndarray, xp: Any) -> Any:
    """``a`` handed to the array library ``xp`` (zero-copy through DLPack when it can)."""
    if xp is None or xp is np:
        return a
    from_dlpack = getattr(xp, "from_dlpack", None)
    if from_dlpack is not None:
        try:
            return from_dlpack(a)
        except (BufferError, TypeError, ValueError, RuntimeError):
            pass  # e.g. a read-only or non-native-byte-order array: copy instead
    return xp.asarray(a)
