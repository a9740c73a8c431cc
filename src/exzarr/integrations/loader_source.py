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
import threading
from typing import Any

import numpy as np

from .. import executor
from ..array.zarray import ZArray
from ..errors import ShapeMismatchError
from ..indexing.selection import DimKind
from ..storage import Store

__all__ = ["Source", "Part", "BufferPool", "to_xp"]


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
        self._chunk_len: int | None = None

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
        """Typical samples per chunk along the axis (for sizing buffers and reads)."""
        if self._chunk_len is None:
            ids = self.chunk_ids()
            self._chunk_len = (1 if len(ids) == 0
                               else max(1, math.ceil(len(ids) / len(np.unique(ids)))))
        return self._chunk_len

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

    def _read_runs(self, idx: np.ndarray, pool: BufferPool | None) -> Part | None:
        """``idx`` read as its sorted runs of consecutive samples, each decoded straight
        into its place in one buffer (from ``pool``), with the gather order that puts
        them in the requested order.  None when the runs are too short for that to pay
        (a global shuffle's scattered samples): an orthogonal read is cheaper then."""
        order = np.argsort(idx, kind="stable")
        s = idx[order]
        if len(s) > 1 and bool(np.any(s[1:] == s[:-1])):
            return None  # repeated samples: the orthogonal read handles them
        starts = np.flatnonzero(np.diff(s) != 1) + 1
        bounds = np.concatenate(([0], starts, [len(s)]))
        if len(s) < (len(bounds) - 1) * max(1, self.chunk_len() // 2):
            return None
        shape = self.shape[:self.axis] + (len(s),) + self.shape[self.axis + 1:]
        buf = pool.get(shape, self.dtype) if pool is not None else np.empty(shape, self.dtype)

        def read_run(run: tuple[int, int]) -> None:
            a, b = run
            part = buf[self._key(slice(a, b))]
            view = self.array[self._key(slice(int(s[a]), int(s[a]) + b - a))]
            if self.axis == 0:
                view.read(out=part)
            else:
                part[...] = view.read()
        # the runs decode on the worker threads: a window is ready as soon as possible
        executor.run(read_run, list(zip(bounds[:-1].tolist(), bounds[1:].tolist())),
                     store=self.store)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order), dtype=order.dtype)
        return Part(buf, self.axis, inverse, pool)

    def read(self, idx: np.ndarray) -> np.ndarray:
        """Samples ``idx`` (distinct indices, any order) in that order, stacked along the
        axis (see :meth:`read_part`)."""
        part = self.read_part(idx)
        return part.take(0, part.n)

    def read_part(self, idx: np.ndarray, pool: BufferPool | None = None) -> Part:
        """Samples ``idx`` (distinct indices, any order), each chunk they need decoded
        once: an increasing run is read as a slice; whole chunks in any order (a
        chunk-buffer shuffle) are decoded in place in sorted runs into a buffer from
        ``pool``, and each batch is later gathered from it (:meth:`Part.take`), so no
        window-sized array is allocated per window; scattered samples (a global shuffle)
        are one orthogonal selection in the requested order, which scatters each decoded
        chunk's rows straight to their places."""
        idx = np.asarray(idx, dtype=np.int64)
        m = len(idx)
        increasing_run = m > 0 and int(idx[-1]) - int(idx[0]) + 1 == m and (
            m == 1 or bool(np.all(np.diff(idx) == 1)))
        if increasing_run:
            data = self._read(slice(int(idx[0]), int(idx[0]) + m))
        elif m == 0:
            data = self._read(slice(0, 0))
        else:
            runs = self._read_runs(idx, pool) if self.store is not None else None
            if runs is not None:
                return runs
            data = self._read(idx)
        expected = self.shape[:self.axis] + (m,) + self.shape[self.axis + 1:]
        if data.shape != expected:
            raise ShapeMismatchError(f"reading {m} samples of {self.name} along axis "
                                     f"{self.axis} returned shape {data.shape}, expected "
                                     f"{expected}: the array changed shape while loading, or "
                                     f"its indexing does not follow NumPy's")
        return Part(data, self.axis)


class BufferPool:
    """Window buffers handed back when their batches have been gathered, reused for later
    windows (thread-safe): a fresh window-sized array per window would cost the kernel
    zeroing its pages every time."""

    def __init__(self, keep: int) -> None:
        self._free: list[np.ndarray] = []
        self._keep = keep
        self._lock = threading.Lock()

    def get(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        with self._lock:
            for i, b in enumerate(self._free):
                if b.shape == shape and b.dtype == dtype:
                    return self._free.pop(i)
        return np.empty(shape, dtype=dtype)

    def put(self, buf: np.ndarray) -> None:
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(buf)


class Part:
    """One window of one input: ``data`` along ``axis``, in order, or (``order`` given)
    the samples ``data[order]``, gathered batch by batch."""

    def __init__(self, data: np.ndarray, axis: int, order: np.ndarray | None = None,
                 pool: BufferPool | None = None) -> None:
        self.data: np.ndarray | None = data
        self.axis = axis
        self.order = order
        self.pool = pool
        self.n = data.shape[axis] if order is None else len(order)

    def take(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of the window: a view when the data is in order, a
        new array gathered from the buffer otherwise."""
        assert self.data is not None, "window already released"
        if self.order is None:
            return self.data[(slice(None),) * self.axis + (slice(start, stop),)]
        return np.take(self.data, self.order[start:stop], axis=self.axis)

    def release(self) -> None:
        """Done with this window: a pooled buffer goes back to its pool (only gathered
        copies of it were handed out)."""
        if self.order is not None and self.pool is not None and self.data is not None:
            self.pool.put(self.data)
        self.data = None


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
