"""The Array API's manipulation and linear-algebra functions, lazy (see
:mod:`.namespace`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..compute import (BroadcastTo, Concat, Elementwise, Expr, Index, Matmul, Permute, Reduce,
                       Reshape)
from .operands import _axis, _ex, _full, _result_dtype
from .readable import lazy, materialise

# -- manipulation ---------------------------------------------------------------------
def permute_dims(x: Any, /, axes: Sequence[int]) -> Any:
    e = _ex(x)
    return lazy(Permute(e, [_axis(int(a), e.ndim) for a in axes]))


def matrix_transpose(x: Any, /) -> Any:
    e = _ex(x)
    if e.ndim < 2:
        raise ValueError("matrix_transpose needs at least 2 dimensions")
    return lazy(Permute(e, tuple(range(e.ndim - 2)) + (e.ndim - 1, e.ndim - 2)))


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int], /) -> Any:
    e = _ex(x)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_axis(a, e.ndim) for a in src]
    dst = [_axis(a, e.ndim) for a in dst]
    order = [a for a in range(e.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return lazy(Permute(e, order))


def expand_dims(x: Any, /, axis: int | Sequence[int] = 0) -> Any:
    e = _ex(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    nd = e.ndim + len(axes)
    axes = sorted(_axis(a, nd) for a in axes)
    sel: list[Any] = _full(e.shape)
    for a in axes:
        sel.insert(a, None)
    return lazy(Index(e, sel))


def squeeze(x: Any, /, axis: int | Sequence[int]) -> Any:
    e = _ex(x)
    axes = {_axis(a, e.ndim) for a in ([axis] if isinstance(axis, int) else axis)}
    for a in axes:
        if e.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of length {e.shape[a]}")
    return lazy(Index(e, [0 if d in axes else slice(0, n, 1) for d, n in enumerate(e.shape)]))


def flip(x: Any, /, *, axis: int | Sequence[int] | None = None) -> Any:
    e = _ex(x)
    axes = set(range(e.ndim)) if axis is None else \
        {_axis(a, e.ndim) for a in ([axis] if isinstance(axis, int) else axis)}
    return lazy(Index(e, [slice(n - 1, -1, -1) if d in axes and n else slice(0, n, 1)
                          for d, n in enumerate(e.shape)]))


def roll(x: Any, /, shift: int | Sequence[int], *, axis: int | Sequence[int] | None = None) -> Any:
    e = _ex(x)
    if axis is None:
        flat = Reshape(e, (e.size,))
        pos = (np.arange(e.size) - int(shift)) % max(e.size, 1)  # type: ignore[arg-type]
        return lazy(Reshape(Index(flat, [pos.astype(np.int64)]), e.shape))
    shifts = [shift] if isinstance(shift, int) else list(shift)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    total = dict.fromkeys(range(e.ndim), 0)
    for s, a in zip(shifts, axes):
        total[_axis(a, e.ndim)] += int(s)
    sel = [((np.arange(n) - total[d]) % n).astype(np.int64) if total[d] and n else
           slice(0, n, 1) for d, n in enumerate(e.shape)]
    return lazy(Index(e, sel))


def repeat(x: Any, repeats: int | Any, /, *, axis: int | None = None) -> Any:
    e = _ex(x)
    if axis is None:
        e = Reshape(e, (e.size,))
        axis = 0
    ax = _axis(axis, e.ndim)
    reps = np.asarray(materialise(repeats))
    pos = np.repeat(np.arange(e.shape[ax]), reps).astype(np.int64)
    sel: list[Any] = _full(e.shape)
    sel[ax] = pos
    return lazy(Index(e, sel))


def tile(x: Any, repetitions: Sequence[int], /) -> Any:
    e = _ex(x)
    reps = list(repetitions)
    nd = max(e.ndim, len(reps))
    reps = [1] * (nd - len(reps)) + reps
    if e.ndim < nd:
        e = Index(e, [None] * (nd - e.ndim) + _full(e.shape))
    sel = [(np.arange(n * r) % n).astype(np.int64) if r != 1 else slice(0, n, 1)
           for n, r in zip(e.shape, reps)]
    return lazy(Index(e, sel))


def take(x: Any, indices: Any, /, *, axis: int | None = None) -> Any:
    e = _ex(x)
    if axis is None:
        if e.ndim != 1:
            raise ValueError("take: axis is required for arrays of more than 1 dimension")
        axis = 0
    ax = _axis(axis, e.ndim)
    idx = np.asarray(materialise(indices)).astype(np.int64)
    if idx.ndim != 1:
        raise ValueError("take: indices must be 1-d")
    n = e.shape[ax]
    if ((idx < -n) | (idx >= n)).any():
        raise IndexError(f"take: index out of bounds for axis {ax} with size {n}")
    sel: list[Any] = _full(e.shape)
    sel[ax] = idx % max(n, 1)
    return lazy(Index(e, sel))


def broadcast_to(x: Any, /, shape: Sequence[int]) -> Any:
    return lazy(BroadcastTo(_ex(x), tuple(shape)))


def broadcast_arrays(*arrays: Any) -> list[Any]:
    exprs = [_ex(a) for a in arrays]
    shape = np.broadcast_shapes(*[e.shape for e in exprs])
    return [lazy(BroadcastTo(e, shape)) for e in exprs]


def reshape(x: Any, /, shape: Sequence[int], *, copy: bool | None = None) -> Any:
    e = _ex(x)
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape = tuple(e.size // known if s == -1 and known else s for s in shape)
    if copy is False and shape != e.shape:
        raise ValueError("reshape(copy=False): a lazy reshape is evaluated into new memory")
    return lazy(e) if shape == e.shape else lazy(Reshape(e, shape))


def concat(arrays: Sequence[Any], /, *, axis: int | None = 0) -> Any:
    exprs = [_ex(a) for a in arrays]
    if not exprs:
        raise ValueError("concat needs at least one array")
    if axis is None:
        exprs = [Reshape(e, (e.size,)) for e in exprs]
        axis = 0
    ax = _axis(axis, exprs[0].ndim)
    dt = _result_dtype(exprs)
    return lazy(Concat(exprs, ax, dt))


def stack(arrays: Sequence[Any], /, *, axis: int = 0) -> Any:
    exprs = [_ex(a) for a in arrays]
    if not exprs:
        raise ValueError("stack needs at least one array")
    if len({e.shape for e in exprs}) != 1:
        raise ValueError(f"stack: all arrays must have the same shape, got "
                         f"{[e.shape for e in exprs]}")
    ax = _axis(axis, exprs[0].ndim + 1)
    return lazy(Concat([Index(e, _full(e.shape)[:ax] + [None] + _full(e.shape)[ax:])
                        for e in exprs], ax, _result_dtype(exprs)))


def unstack(x: Any, /, *, axis: int = 0) -> tuple[Any, ...]:
    e = _ex(x)
    ax = _axis(axis, e.ndim)
    return tuple(lazy(Index(e, [i if d == ax else slice(0, n, 1) for d, n in enumerate(e.shape)]))
                 for i in range(e.shape[ax]))


# -- linear algebra -------------------------------------------------------------------
def matmul(x1: Any, x2: Any, /) -> Any:
    a, b = _ex(x1), _ex(x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least 1 dimension")
    a2 = Index(a, [None, slice(0, a.shape[0], 1)]) if a.ndim == 1 else a
    b2 = Index(b, [slice(0, b.shape[0], 1), None]) if b.ndim == 1 else b
    out: Expr = Matmul(a2, b2)
    if a.ndim == 1 or b.ndim == 1:
        sel: list[Any] = _full(out.shape)
        if a.ndim == 1:
            sel[-2] = 0
        if b.ndim == 1:
            sel[-1] = 0
        out = Index(out, sel)
    return lazy(out)


def tensordot(x1: Any, x2: Any, /, *, axes: int | tuple[Sequence[int], Sequence[int]] = 2) -> Any:
    a, b = _ex(x1), _ex(x2)
    if isinstance(axes, int):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a = [_axis(i, a.ndim) for i in axes[0]]
        ax_b = [_axis(i, b.ndim) for i in axes[1]]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape mismatch on contracted axes {i} and {j}")
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    # a as (free_a..., contracted..., 1 x free_b) and b as (1 x free_a, contracted..., free_b)
    pa = Permute(a, free_a + ax_a)
    pb = Permute(b, ax_b + free_b)
    ea = Index(pa, _full(pa.shape) + [None] * len(free_b))
    eb = Index(pb, [None] * len(free_a) + _full(pb.shape))
    prod = Elementwise(np.multiply, [ea, eb], "multiply")
    k = len(ax_a)
    red = tuple(range(len(free_a), len(free_a) + k))
    dt = np.asarray(np.multiply(np.ones(1, a.dtype), np.ones(1, b.dtype))).dtype
    return lazy(Reduce("sum", prod, red, False, dt))


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    a, b = _ex(x1), _ex(x2)
    conj = Elementwise(np.conj, [a], "conj") if a.dtype.kind == "c" else a
    prod = Elementwise(np.multiply, [conj, b], "multiply")
    if prod.shape[axis] != a.shape[axis] or a.shape[axis] != b.shape[axis]:
        raise ValueError("vecdot: the contracted axes differ in length")
    return lazy(Reduce("sum", prod, axis, False, prod.dtype))
