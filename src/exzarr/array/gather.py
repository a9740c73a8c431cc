"""Move data between one decoded chunk and the output/input buffer of a selection.

Basic selections (ints and slices) use NumPy slicing, which needs no compiled code;
fancy selections use the Numba offset kernels of :mod:`exzarr.kernels.copy`.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from ..indexing.plan import ChunkPlan, ChunkTask, UnitKind
from ..indexing.selection import DimKind
from ..indexing.slices import Slice

__all__ = ["basic_view", "basic_tuples", "unit_offsets"]


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


def basic_tuples(plan: ChunkPlan, task: ChunkTask) -> tuple[tuple, tuple]:
    """(selection inside the chunk, selection in the basic view) for a basic-plan task."""
    ndim = len(plan.chunks)
    inner: list[object] = [None] * ndim
    order: list[tuple[int, slice]] = []
    for u, p in zip(plan.units, task.pieces):
        d = u.dims[0]
        inner[d] = _py(p.inner[0])
        if u.kind is UnitKind.SLICE:  # (Piece.outer of a slice unit is a Slice)
            order.append((d, cast(Slice, p.outer).as_python_slice()))
    order.sort()
    outer = tuple(s for _, s in order)
    return tuple(inner), outer


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
