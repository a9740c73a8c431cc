"""Lazy manipulation of expressions: orthogonal indexing (slices with any step, integer
positions, dropped and new axes), axis permutation, broadcasting, concatenation and
C-order reshape.  Each maps an output region onto the regions of its inputs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .expr import EvalContext, Expr, Grid, broadcast_region
from .region import Index1, Region, compose_index, index_len, region_shape

__all__ = ["Index", "Permute", "BroadcastTo", "Concat", "Reshape", "Assign", "AssignPoints",
           "NEWAXIS"]

#: marks a new axis of length 1 in an :class:`Index` selection
NEWAXIS = None


class Index(Expr):
    """``arg`` selected orthogonally: per input dimension a slice or 1-d int positions
    (an output axis each) or an int (dropped); ``None`` entries insert new axes.

    ``selection`` lists output-order entries: for input dims in order, with ``None``
    (new axes) anywhere between them."""

    def __init__(self, arg: Expr, selection: Sequence[Index1 | int | None]) -> None:
        self.arg = arg
        self.selection = tuple(selection)
        n_in = sum(1 for s in self.selection if s is not None)
        if n_in != arg.ndim:
            raise ValueError(f"an index needs one entry per dimension ({arg.ndim}), got {n_in}")
        self.dtype = arg.dtype
        shape = []
        for s in self.selection:
            if s is None:
                shape.append(1)
            elif not isinstance(s, (int, np.integer)):
                shape.append(index_len(s))
        self.shape = tuple(shape)

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        it = iter(region)
        arg_region: list[Index1] = []
        drop: list[int] = []
        for s in self.selection:
            if s is None:
                next(it)
            elif isinstance(s, (int, np.integer)):
                drop.append(len(arg_region))
                arg_region.append(slice(int(s), int(s) + 1, 1))
            else:
                arg_region.append(compose_index(s, next(it)))
        block = self.arg.evaluate(tuple(arg_region), ctx)
        if drop:
            block = block.reshape([n for d, n in enumerate(block.shape) if d not in drop])
        return block.reshape(region_shape(region))

    def grid(self) -> Grid | None:
        g = self.arg.grid()
        out: list[tuple[int, int]] = []
        d = 0
        for s in self.selection:
            if s is None:
                out.append((1, 0))
                continue
            if isinstance(s, slice) and g is not None and g[d][0]:
                size, off = g[d]
                step = abs(s.step)
                if step == 1:
                    out.append((size, (off - s.start) % size if s.step > 0 else 0))
                else:
                    out.append((max(1, size // step), 0))
            elif not isinstance(s, (int, np.integer)):
                out.append((0, 0))
            d += 1
        return tuple(out) if any(s for s, _ in out) else None

    def describe(self) -> str:
        return "index"


class Permute(Expr):
    def __init__(self, arg: Expr, axes: Sequence[int]) -> None:
        self.arg = arg
        self.axes = tuple(int(a) for a in axes)
        if sorted(self.axes) != list(range(arg.ndim)):
            raise ValueError(f"axes {tuple(axes)} are not a permutation of {arg.ndim} axes")
        self.shape = tuple(arg.shape[a] for a in self.axes)
        self.dtype = arg.dtype

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        inv = np.argsort(self.axes)
        block = self.arg.evaluate(tuple(region[i] for i in inv), ctx)
        return block.transpose(self.axes)

    def grid(self) -> Grid | None:
        g = self.arg.grid()
        return None if g is None else tuple(g[a] for a in self.axes)


class BroadcastTo(Expr):
    def __init__(self, arg: Expr, shape: Sequence[int]) -> None:
        self.arg = arg
        self.shape = tuple(int(s) for s in shape)
        self.dtype = arg.dtype
        if np.broadcast_shapes(arg.shape, self.shape) != self.shape:
            raise ValueError(f"cannot broadcast shape {arg.shape} to {self.shape}")

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        block = self.arg.evaluate(broadcast_region(region, self.shape, self.arg.shape), ctx)
        return np.broadcast_to(block, region_shape(region))

    def grid(self) -> Grid | None:
        g = self.arg.grid()
        if g is None:
            return None
        lead = self.ndim - self.arg.ndim
        return tuple([(0, 0)] * lead + [g[j] if self.arg.shape[j] == self.shape[lead + j]
                                        else (0, 0) for j in range(self.arg.ndim)])


class Concat(Expr):
    """``args`` joined along ``axis`` (their other dimensions equal)."""

    def __init__(self, args: Sequence[Expr], axis: int, dtype: Any) -> None:
        self.args = tuple(args)
        self.axis = axis
        self.dtype = np.dtype(dtype)
        base = list(self.args[0].shape)
        for a in self.args[1:]:
            other = list(a.shape)
            if len(other) != len(base) or any(x != y for d, (x, y) in enumerate(zip(base, other))
                                               if d != axis):
                raise ValueError(f"concat: shapes {[x.shape for x in self.args]} differ "
                                 f"outside axis {axis}")
        base[axis] = sum(a.shape[axis] for a in self.args)
        self.shape = tuple(base)
        self.offsets = np.cumsum([0] + [a.shape[axis] for a in self.args])

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        ax = self.axis
        ix = region[ax]
        pos = np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice) else ix
        out = np.empty(region_shape(region), dtype=self.dtype)
        for k, arg in enumerate(self.args):
            lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
            where = np.nonzero((pos >= lo) & (pos < hi))[0]
            if where.size == 0:
                continue
            local = pos[where] - lo
            sub = list(region)
            if where.size > 1 and np.all(np.diff(local) == 1):
                sub[ax] = slice(int(local[0]), int(local[-1]) + 1, 1)
            else:
                sub[ax] = local.astype(np.int64)
            block = arg.evaluate(tuple(sub), ctx)
            dst: list[Any] = [slice(None)] * self.ndim
            dst[ax] = where
            out[tuple(dst)] = block
        return out

    def grid(self) -> Grid | None:
        return self.args[0].grid() if len(self.args) == 1 else None


class Reshape(Expr):
    """C-order reshape.  A region is read as the rows of the input (along its first
    axes) that hold the region's flat range, so blocks that span whole trailing
    dimensions (what :meth:`grid` asks for) read no more than they return."""

    def __init__(self, arg: Expr, shape: Sequence[int]) -> None:
        self.arg = arg
        self.shape = tuple(int(s) for s in shape)
        self.dtype = arg.dtype
        if math.prod(self.shape) != arg.size:
            raise ValueError(f"cannot reshape an array of size {arg.size} into shape "
                             f"{self.shape}")

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        want = region_shape(region)
        if 0 in want:
            return np.zeros(want, dtype=self.dtype)
        los, his = [], []
        for ix in region:
            p = np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice) else ix
            los.append(int(p.min()))
            his.append(int(p.max()))
        flat_lo = int(np.ravel_multi_index(los, self.shape)) if self.shape else 0
        flat_hi = int(np.ravel_multi_index(his, self.shape)) + 1 if self.shape else 1
        src_shape = self.arg.shape
        # the bounding box of the flat range [flat_lo, flat_hi) in the input: dimension d
        # narrows when the range lies inside one index of every dimension before it
        strides = [math.prod(src_shape[d + 1:]) for d in range(len(src_shape))]
        sub: list[slice] = []
        for d, n in enumerate(src_shape):
            lo_d = (flat_lo // strides[d]) % n if strides[d] else 0
            hi_d = ((flat_hi - 1) // strides[d]) % n if strides[d] else 0
            if (flat_hi - 1) // (strides[d] * n) == flat_lo // (strides[d] * n):
                sub.append(slice(lo_d, hi_d + 1, 1))
            else:
                sub.append(slice(0, n, 1))
        sub_t = tuple(sub)
        block = self.arg.evaluate(sub_t, ctx).reshape(-1)
        origin = [s.start for s in sub if isinstance(s, slice)]
        sub_shape = region_shape(sub_t)
        # flat output positions of the region -> positions inside the block
        grids = np.meshgrid(*[np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice)
                              else ix for ix in region], indexing="ij")
        flat = np.ravel_multi_index(grids, self.shape) if self.shape else np.zeros((), np.int64)
        src_idx = np.unravel_index(flat, src_shape) if src_shape else ()
        local = [np.asarray(i) - o for i, o in zip(src_idx, origin)]
        inner = np.ravel_multi_index(local, sub_shape) if src_shape else np.zeros((), np.int64)
        return block[inner].reshape(want)

    def grid(self) -> Grid | None:
        # whole trailing dimensions: the first axis in blocks
        if not self.shape:
            return None
        return ((max(1, self.shape[0] // 8), 0),) + tuple((n, 0) for n in self.shape[1:])


class Assign(Expr):
    """``base`` with ``value`` written at an orthogonal selection: per dimension of
    ``base`` the positions written (1-d int arrays; a repeated position takes the last of
    its values, as NumPy).  ``value`` has one dimension per position list.  A functional
    update: ``base`` itself is unchanged."""

    def __init__(self, base: Expr, positions: Sequence[np.ndarray], value: Expr) -> None:
        self.base, self.value = base, value
        self.positions = tuple(np.asarray(p, dtype=np.int64) for p in positions)
        self.shape, self.dtype = base.shape, base.dtype
        want = tuple(p.shape[0] for p in self.positions)
        if value.shape != want:
            raise ValueError(f"assigned value has shape {value.shape}, the selection {want}")
        self._last = []
        for p, n in zip(self.positions, self.shape):
            last = np.full(n, -1, dtype=np.int64)
            last[p] = np.arange(p.shape[0])  # repeated positions: the last one wins
            self._last.append(last)

    def children(self) -> tuple[Expr, ...]:
        return (self.base, self.value)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        block = np.array(self.base.evaluate(region, ctx), dtype=self.dtype, copy=True)
        where: list[np.ndarray] = []
        take: list[np.ndarray] = []
        for ix, last in zip(region, self._last):
            pos = np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice) else ix
            k = last[pos]
            hit = np.nonzero(k >= 0)[0]
            if hit.size == 0:
                return block
            where.append(hit)
            take.append(k[hit])
        values = self.value.evaluate(tuple(take), ctx)
        block[np.ix_(*where)] = np.asarray(values).astype(self.dtype, copy=False)
        return block

    def grid(self) -> Grid | None:
        return self.base.grid()

    def describe(self) -> str:
        return "assign"


class AssignPoints(Expr):
    """``base`` with ``values[i]`` written at the point ``coords[:, i]`` (one row of
    ``coords`` per dimension; a repeated point takes its last value)."""

    def __init__(self, base: Expr, coords: np.ndarray, values: np.ndarray) -> None:
        self.base = base
        self.values = np.asarray(values).reshape(-1).astype(base.dtype)
        # (ndim, points): explicit, as a 0-d base has no axis to infer the points from
        self.coords = np.asarray(coords, dtype=np.int64).reshape(base.ndim, self.values.size)
        self.shape, self.dtype = base.shape, base.dtype

    def children(self) -> tuple[Expr, ...]:
        return (self.base,)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        block = np.array(self.base.evaluate(region, ctx), dtype=self.dtype, copy=True)
        inside = np.ones(self.coords.shape[1], dtype=bool)
        local = []
        for ix, n, c in zip(region, self.shape, self.coords):
            pos = np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice) else ix
            inv = np.full(n, -1, dtype=np.int64)
            inv[pos] = np.arange(pos.shape[0])
            loc = inv[c]
            inside &= loc >= 0
            local.append(loc)
        if inside.any():
            block[tuple(loc[inside] for loc in local)] = self.values[inside]
        return block

    def grid(self) -> Grid | None:
        return self.base.grid()
