"""Move data between one decoded chunk and the output/input buffer of a selection.

Basic selections (ints and slices) use NumPy slicing, which needs no compiled code;
fancy selections use the Numba offset kernels of :mod:`exzarr.kernels.copy`.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from ..indexing.plan import ChunkPlan, ChunkTask, UnitKind
from ..indexing.selection import DimKind
from ..indexing.slices import Slice
from .scratch import scratch

__all__ = ["basic_view", "BasicTuples", "Boxes", "prefix_nbytes", "decode_start", "row_offsets",
           "unit_offsets"]


def basic_view(plan: ChunkPlan, out: np.ndarray) -> np.ndarray:
    """``out`` with new axes removed and sliced axes ordered like the base dims (a view)."""
    sel = plan.selection
    slice_axes = [dm.axes[0] for dm in sel.dims if dm.kind is DimKind.SLICE]
    new_axes = tuple(a for a in range(len(sel.out_shape)) if a not in slice_axes)
    squeezed = np.squeeze(out, axis=new_axes) if new_axes else out
    remaining = sorted(slice_axes)
    perm = [remaining.index(a) for a in slice_axes]
    return squeezed.transpose(perm) if perm != list(range(len(perm))) else squeezed


def _py(s: object) -> object:
    return s.as_python_slice() if isinstance(s, Slice) else s


class BasicTuples:
    """``tuples(task)``: (selection inside the chunk, selection in the basic view) for the
    tasks of one basic plan; each piece's Python slices are made once (a piece is shared by
    every task of its row or column of chunks)."""

    __slots__ = ("_units", "_outer_order", "_ndim", "_memo", "_chunks", "_whole", "_pieces")

    def __init__(self, plan: ChunkPlan):
        self._ndim = len(plan.chunks)
        self._chunks = plan.chunks
        self._pieces = [u.pieces for u in plan.units]
        # id(piece) -> its output start when it selects its whole chunk along its dimension
        # (step 1, every element), else -1
        self._whole: dict[int, int] = {}
        self._units = [(u.dims[0], u.kind is UnitKind.SLICE) for u in plan.units]
        # the slice units by base dimension: the order of the basic view's axes
        self._outer_order = [i for i, (d, is_slice) in
                             sorted(enumerate(self._units), key=lambda x: x[1][0]) if is_slice]
        # id(piece) -> (inner, outer); the plan keeps its pieces alive, so ids are not reused
        self._memo: dict[int, tuple[object, slice | None]] = {}

    def _slices(self, i: int, p) -> tuple[object, slice | None]:
        got = self._memo.get(id(p))
        if got is None:  # (Piece.outer of a slice unit is a Slice)
            got = self._memo[id(p)] = (
                _py(p.inner[0]),
                cast(Slice, p.outer).as_python_slice() if self._units[i][1] else None)
        return got

    def _whole_start(self, i: int, p) -> int:
        """Where piece ``p`` of unit ``i`` starts in the basic view when it takes its
        chunk's every element along its dimension in order (a step-1 slice), else -1."""
        start = self._whole.get(id(p))
        if start is None:
            inner, outer = p.inner[0], p.outer
            dim, is_slice = self._units[i]
            start = self._whole[id(p)] = (
                cast(Slice, outer).start
                if is_slice and isinstance(inner, Slice) and inner.step == 1
                and inner.start == 0 and inner.n == self._chunks[dim] else -1)
        return start

    def whole_chunk_origin(self, task: ChunkTask) -> tuple[int, ...] | None:
        """Where the task's chunk starts in the basic view when the task takes the whole
        chunk in order (every dimension a step-1 slice of all its elements), else None."""
        origin = []
        for i, p in enumerate(task.pieces):
            start = self._whole_start(i, p)
            if start < 0:
                return None
            origin.append(start)
        return tuple(origin[i] for i in self._outer_order)

    @property
    def ntasks(self) -> int:
        """How many tasks the plan has."""
        return math.prod(len(pieces) for pieces in self._pieces)

    def whole_bases(self, strides: tuple[int, ...], limit: tuple[int, ...]) -> np.ndarray:
        """:meth:`whole_chunk_origin` of every task at once, as a byte offset in the
        basic view (``strides``: its byte strides), indexed by :attr:`ChunkTask.index`:
        -1 where the task does not take its chunk whole or its origin is past ``limit``
        (per axis of the view: the last start a whole chunk fits at).  A few NumPy
        operations per plan, where the per-task look-up costs a write of many small
        chunks microseconds per chunk under the GIL."""
        counts = [len(pieces) for pieces in self._pieces]
        at = {unit: axis for axis, unit in enumerate(self._outer_order)}
        bases = np.zeros(counts, dtype=np.int64)
        ok = np.ones(counts, dtype=bool)
        for i, pieces in enumerate(self._pieces):
            axis = at.get(i)
            if axis is None:  # an int: never a whole chunk here
                ok[...] = False
                continue
            starts = np.array([self._whole_start(i, p) for p in pieces], dtype=np.int64)
            along = [1] * len(counts)
            along[i] = len(pieces)
            ok &= ((starts >= 0) & (starts <= limit[axis])).reshape(along)
            bases += (starts * strides[axis]).reshape(along)
        return np.where(ok, bases, -1).reshape(-1)

    def __call__(self, task: ChunkTask) -> tuple[tuple, tuple]:
        inner: list[object] = [None] * self._ndim
        pieces = task.pieces
        for i, p in enumerate(pieces):
            inner[self._units[i][0]] = self._slices(i, p)[0]
        outer = tuple(self._slices(i, pieces[i])[1] for i in self._outer_order)
        return tuple(inner), outer


class Boxes:
    """The box each task of a basic plan takes of its chunk, as arrays indexed by
    :attr:`ChunkTask.index` (for :mod:`exzarr.kernels.decode_scatter`): ``ok`` (the task's
    selection is a box: a slice or an int along every dimension), ``extents`` (elements
    per dimension), ``skips`` (byte offset of the box's first element in the decoded
    C-order chunk), ``chunk_strides`` (bytes from one of the box's elements to the next
    along each dimension in the chunk: the C-order strides times the dimension's step,
    negative for a backward step) and ``bases`` (in the basic view ``view``, whose byte
    strides per dimension are ``out_strides``: 0 along an int's dimension).  Built with
    a few NumPy operations per plan, not per task."""

    __slots__ = ("ok", "extents", "skips", "bases", "out_strides", "chunk_strides")

    def __init__(self, plan: ChunkPlan, view: np.ndarray):
        m = len(plan.chunks)
        units = plan.units
        counts = [len(u.pieces) for u in units]
        grids = np.indices(counts, dtype=np.int64).reshape(len(units), -1)
        k = grids.shape[1] if units else 1
        out_strides = np.zeros(m, dtype=np.int64)
        slice_dims = sorted(u.dims[0] for u in units if u.kind is UnitKind.SLICE)
        for d, stride in zip(slice_dims, view.strides):
            out_strides[d] = stride
        lo = np.zeros((k, m), dtype=np.int64)
        steps = np.ones(m, dtype=np.int64)
        self.extents = np.ones((k, m), dtype=np.int64)
        self.bases = np.zeros(k, dtype=np.int64)
        self.ok = np.full(k, m > 0 and len(slice_dims) == view.ndim)
        for u, g in zip(units, grids):
            d = u.dims[0]
            if u.kind is UnitKind.INT:
                lo[:, d] = np.array([p.inner[0] for p in u.pieces], dtype=np.int64)[g]
                continue
            inner = [cast(Slice, p.inner[0]) for p in u.pieces]
            lo[:, d] = np.array([s.start for s in inner], dtype=np.int64)[g]
            self.extents[:, d] = np.array([s.n for s in inner], dtype=np.int64)[g]
            at = np.array([cast(Slice, p.outer).start for p in u.pieces], dtype=np.int64)
            self.bases += at[g] * out_strides[d]
            steps[d] = inner[0].step if inner else 1  # (a slice's pieces share its step)
            self.ok &= np.array([s.step == steps[d] for s in inner], dtype=bool)[g]
        self.out_strides = out_strides
        c_strides = np.array(c_order_strides(plan.chunks, view.itemsize), dtype=np.int64)
        self.skips = lo @ c_strides
        self.chunk_strides = c_strides * steps

    def ends(self, itemsize: int) -> np.ndarray:
        """Per task, the byte just past its box's last element in the decoded chunk: for
        a box (``ok``), what :func:`prefix_nbytes` gives for its selection, for every
        task at once."""
        reach = (self.extents - 1) * np.maximum(self.chunk_strides, 0)
        return self.skips + reach.sum(axis=1) + itemsize


def c_order_strides(shape: tuple[int, ...], itemsize: int) -> list[int]:
    """The byte strides of a C-order array of ``shape`` (plain ints: made once per read,
    where NumPy's ``cumprod`` of a tuple costs more than the loop)."""
    strides = [itemsize] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


def prefix_nbytes(inner: tuple, shape: tuple[int, ...], itemsize: int) -> int:
    """How many bytes from the start of a C-order chunk of ``shape`` hold every element
    that ``inner`` (one int or slice per dimension) selects: up to the last one."""
    last, stride = 0, 1
    for sel, n in zip(reversed(inner), reversed(shape)):
        if isinstance(sel, slice):
            r = range(*sel.indices(n))
            if not r:
                return 0
            hi = max(r[0], r[-1])
        else:
            hi = int(sel) % n if n else 0
        last += hi * stride
        stride *= n
    return (last + 1) * itemsize


def decode_start(raw, key: str, inner: tuple, chunks: tuple[int, ...], dtype: np.dtype,
                 decode, prefix, most: int) -> np.ndarray:
    """Chunk ``raw`` (at ``key``) decoded into this thread's scratch buffer, at least up to
    the elements ``inner`` selects: only its start (``prefix(raw, buf, need)``, where the
    encoding allows it) when that is at most ``most`` bytes, else whole (``decode``)."""
    buf = scratch(chunks, dtype)
    if prefix is not None and most > 0:
        need = prefix_nbytes(inner, chunks, dtype.itemsize)
        if need <= most and prefix(raw, buf, need):
            return buf
    return decode(raw, key, out=buf)


def unit_offsets(plan: ChunkPlan, task: ChunkTask, chunk_strides, out_strides, out_shape):
    """Per-unit element offsets (chunk side, output side) for the offset kernels."""
    src, dst = [], []
    for u, p in zip(plan.units, task.pieces):
        if u.kind is UnitKind.INT:
            src.append(np.array([p.inner[0] * chunk_strides[u.dims[0]]], np.int64))
            dst.append(np.zeros(1, np.int64))
        elif u.kind is UnitKind.SLICE:
            s: Slice = p.inner[0]
            o = cast(Slice, p.outer)
            src.append((s.to_array()) * chunk_strides[u.dims[0]])
            dst.append(o.to_array() * out_strides[u.axes[0]])
        else:  # points: Piece.outer holds the flat output positions
            flat = cast(np.ndarray, p.outer)
            so = np.zeros(len(flat), np.int64)
            for d, idx in zip(u.dims, p.inner):
                so += idx * chunk_strides[d]
            ushape = tuple(out_shape[a] for a in u.axes)
            pos = np.unravel_index(flat, ushape) if ushape else ()
            do = np.zeros(len(flat), np.int64)
            for a, pa in zip(u.axes, pos):
                do += pa * out_strides[a]
            src.append(so)
            dst.append(do)
    return src, dst


def elem_strides(arr: np.ndarray) -> tuple[int, ...]:
    return tuple(s // arr.itemsize for s in arr.strides)


def row_offsets(chunk_shape: tuple[int, ...], byte_strides: tuple[int, ...]) -> np.ndarray:
    """Byte offsets (from a chunk's first element) in an array with ``byte_strides`` of the
    chunk's rows (its last axis) in C order."""
    rows = np.zeros(1, dtype=np.int64)
    for n, stride in zip(chunk_shape[:-1], byte_strides[:-1]):
        rows = (rows[:, None] + np.arange(n, dtype=np.int64)[None, :] * stride).reshape(-1)
    return rows
