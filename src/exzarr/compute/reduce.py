"""Reductions evaluated block by block: per-block partial results combined in a tree.

``sum``/``prod`` keep NumPy's pairwise summation inside a block and add block partials
pairwise (a binary-counter tree), so float sums stay as accurate as NumPy's; integer
results are exact.  ``mean``/``var``/``std`` combine (count, mean, M2) with Chan's
parallel formula.  ``argmin``/``argmax`` keep the first occurrence, NaN first, as NumPy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import executor
from .expr import EvalContext, Expr, Grid
from .region import Region, index_len, region_shape

__all__ = ["Reduce", "ArgReduce", "Cumulative", "REDUCTIONS", "subregions", "tree_combine",
           "split_output"]

State = Any


def subregions(expr: Expr, region: Region, split_axes: Sequence[int],
               block_bytes: int) -> list[Region]:
    """``region`` of ``expr`` cut along ``split_axes`` only (the reduced axes: every
    partial result must cover the whole output region) into pieces of about
    ``block_bytes``, cut at ``expr``'s preferred block boundaries."""
    shape = list(region_shape(region))
    item = max(1, expr.dtype.itemsize)
    grid = expr.grid() or tuple((0, 0) for _ in shape)
    sizes = list(shape)
    for d in split_axes:
        total = item
        for s in sizes:
            total *= max(1, s)
        if total <= block_bytes:
            break
        unit = grid[d][0] if grid[d][0] else 1
        others = total // max(1, sizes[d])
        fit = max(1, block_bytes // max(1, others))
        sizes[d] = min(sizes[d], max(unit, (fit // unit) * unit)) if unit <= fit else min(sizes[d], unit)
    pieces: list[list[Any]] = []
    for d, ix in enumerate(region):
        n = index_len(ix)
        step = max(1, sizes[d])
        if n <= step:
            pieces.append([ix])
            continue
        parts: list[Any] = []
        if isinstance(ix, slice):
            off = 0
            size, goff = grid[d]
            if size and ix.step == 1 and step % size == 0:
                off = (goff - ix.start) % step  # align the cuts to the source chunks
            cuts = sorted({0, n, *range(off if off else step, n, step)})
            for lo, hi in zip(cuts[:-1], cuts[1:]):
                parts.append(slice(ix.start + lo * ix.step, ix.start + hi * ix.step, ix.step))
        else:
            parts = [ix[i:i + step] for i in range(0, n, step)]
        pieces.append(parts)
    out: list[Region] = [()]
    for parts in pieces:
        out = [r + (p,) for r in out for p in parts]
    return out


def _slab_bytes(expr: Expr, region: Region, axes: Sequence[int]) -> int:
    """Bytes of the smallest piece :func:`subregions` can cut from ``region``: one grid
    unit along each reduced axis, everything along the others."""
    grid = expr.grid()
    n = max(1, expr.dtype.itemsize)
    for d, ix in enumerate(region):
        length = index_len(ix)
        if d in axes:
            unit = grid[d][0] if grid is not None and grid[d][0] else 1
            length = min(length, unit)
        n *= max(1, length)
    return n


def split_output(node: Expr, region: Region, arg_region: Region, axes: Sequence[int],
                 ctx: EvalContext, evaluate: Callable[[Region], np.ndarray]) -> np.ndarray | None:
    """When even one grid unit along the reduced axes of ``arg_region`` is larger than
    the block size, the output ``region`` evaluated in pieces along its longest axis
    (each piece a smaller reduction), so memory stays at the block size; else None."""
    arg = node.children()[0]
    slab = _slab_bytes(arg, arg_region, axes)
    shape = region_shape(region)
    if slab <= ctx.block_bytes or not shape or max(shape) <= 1:
        return None
    d = max(range(len(shape)), key=lambda i: shape[i])
    pieces = min(shape[d], -(-slab // ctx.block_bytes))
    step = -(-shape[d] // pieces)
    out = np.empty(shape, dtype=node.dtype)
    ix = region[d]
    for lo in range(0, shape[d], step):
        hi = min(lo + step, shape[d])
        sub = list(region)
        sub[d] = slice(ix.start + lo * ix.step, ix.start + hi * ix.step, ix.step) \
            if isinstance(ix, slice) else ix[lo:hi]
        dst: list[Any] = [slice(None)] * len(shape)
        dst[d] = slice(lo, hi)
        out[tuple(dst)] = evaluate(tuple(sub))
    return out


def tree_combine(states: Iterator[State], combine: Callable[[State, State], State]) -> State:
    """Combine a stream of partial states pairwise (O(log n) states held)."""
    stack: list[tuple[int, State]] = []
    for s in states:
        level = 0
        while stack and stack[-1][0] == level:
            _, prev = stack.pop()
            s = combine(prev, s)
            level += 1
        stack.append((level, s))
    if not stack:
        raise ValueError("nothing to reduce")
    acc = stack.pop()[1]
    while stack:
        acc = combine(stack.pop()[1], acc)
    return acc


def _map_blocks(arg: Expr, region: Region, axes: tuple[int, ...], ctx: EvalContext,
                fn: Callable[[Region, np.ndarray], State]) -> Iterator[State]:
    subs = subregions(arg, region, axes, ctx.block_bytes)

    def one(sub: Region) -> State:
        return fn(sub, arg.evaluate(sub, ctx))
    if len(subs) == 1 or not ctx.parallel:
        return (one(s) for s in subs)
    return executor.imap(one, subs, ordered=True)


# -- the reductions -------------------------------------------------------------------
class _Op:
    """partial(block, axes) -> state (keepdims); combine; finalize(state, count)."""

    def __init__(self, dtype: np.dtype, correction: float = 0.0) -> None:
        self.dtype = dtype
        self.correction = correction

    def partial(self, block: np.ndarray, axes: tuple[int, ...]) -> State:
        raise NotImplementedError

    def combine(self, a: State, b: State) -> State:
        raise NotImplementedError

    def finalize(self, s: State) -> np.ndarray:
        return np.asarray(s, dtype=self.dtype)


class _Sum(_Op):
    def partial(self, block, axes):
        return np.sum(block, axis=axes, keepdims=True, dtype=self.dtype)

    def combine(self, a, b):
        return np.add(a, b, dtype=self.dtype)


class _Prod(_Op):
    def partial(self, block, axes):
        return np.prod(block, axis=axes, keepdims=True, dtype=self.dtype)

    def combine(self, a, b):
        return np.multiply(a, b, dtype=self.dtype)


class _Min(_Op):
    def partial(self, block, axes):
        return np.min(block, axis=axes, keepdims=True)

    def combine(self, a, b):
        return np.minimum(a, b)


class _Max(_Op):
    def partial(self, block, axes):
        return np.max(block, axis=axes, keepdims=True)

    def combine(self, a, b):
        return np.maximum(a, b)


class _Any(_Op):
    def partial(self, block, axes):
        return np.any(block, axis=axes, keepdims=True)

    def combine(self, a, b):
        return np.logical_or(a, b)


class _All(_Op):
    def partial(self, block, axes):
        return np.all(block, axis=axes, keepdims=True)

    def combine(self, a, b):
        return np.logical_and(a, b)


def _count(block: np.ndarray, axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= block.shape[a]
    return n


class _Mean(_Op):
    def partial(self, block, axes):
        return _count(block, axes), np.sum(block, axis=axes, keepdims=True, dtype=self.dtype)

    def combine(self, a, b):
        return a[0] + b[0], np.add(a[1], b[1], dtype=self.dtype)

    def finalize(self, s):
        n, total = s
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.true_divide(total, n, dtype=self.dtype), dtype=self.dtype)


class _Var(_Op):
    """(count, mean, M2) per block, combined with Chan et al.'s formula."""

    sqrt = False

    def partial(self, block, axes):
        n = _count(block, axes)
        wide = np.result_type(block.dtype, np.float64) if block.dtype.kind in "biu" else block.dtype
        if n == 0:
            z = np.zeros(np.sum(block, axis=axes, keepdims=True).shape, dtype=wide)
            return 0, z, z.real.copy()
        mean = np.mean(block, axis=axes, keepdims=True, dtype=wide)
        dev = np.abs(block - mean) ** 2 if block.dtype.kind == "c" else (block - mean) ** 2
        return n, mean, np.sum(dev, axis=axes, keepdims=True)

    def combine(self, a, b):
        na, ma, qa = a
        nb, mb, qb = b
        if na == 0:
            return b
        if nb == 0:
            return a
        n = na + nb
        delta = mb - ma
        d2 = np.abs(delta) ** 2 if np.iscomplexobj(delta) else delta * delta
        return n, ma + delta * (nb / n), qa + qb + d2 * (na * nb / n)

    def finalize(self, s):
        n, _, q = s
        with np.errstate(invalid="ignore", divide="ignore"):
            var = q / max(n - self.correction, 0) if n - self.correction > 0 else q * np.nan
        out = np.sqrt(var) if self.sqrt else var
        return np.asarray(out, dtype=self.dtype)


class _Std(_Var):
    sqrt = True


#: name -> (op class, NumPy function used to find the result dtype)
REDUCTIONS: dict[str, tuple[type[_Op], Callable[..., Any]]] = {
    "sum": (_Sum, np.sum), "prod": (_Prod, np.prod), "min": (_Min, np.min),
    "max": (_Max, np.max), "any": (_Any, np.any), "all": (_All, np.all),
    "mean": (_Mean, np.mean), "var": (_Var, np.var), "std": (_Std, np.std),
}


def _norm_axes(axis: int | Sequence[int] | None, ndim: int, name: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise np.exceptions.AxisError(a, ndim, f"{name}: axis {a} is out of bounds")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axes}")
    return tuple(sorted(out)) if ndim else ()


class Reduce(Expr):
    """``name(arg, axis=..., keepdims=..., dtype=...)`` evaluated blockwise."""

    def __init__(self, name: str, arg: Expr, axis: int | Sequence[int] | None = None,
                 keepdims: bool = False, dtype: Any = None, correction: float = 0.0) -> None:
        if name not in REDUCTIONS:
            raise ValueError(f"unknown reduction {name!r}; known: {sorted(REDUCTIONS)}")
        cls, np_fn = REDUCTIONS[name]
        self.name, self.arg, self.keepdims = name, arg, keepdims
        self.axes = _norm_axes(axis, arg.ndim, name)
        kw: dict[str, Any] = {}
        if dtype is not None:
            kw["dtype"] = dtype
        if name in ("var", "std"):
            kw["ddof"] = correction
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ddof >= the one sample's size
            sample = np_fn(np.ones((1,) * arg.ndim, dtype=arg.dtype), **kw)
        self.dtype = np.asarray(sample).dtype
        acc = self.dtype
        if name in ("min", "max", "any", "all"):
            acc = self.dtype
        self.op = cls(acc, correction)
        self.shape = tuple((1 if d in self.axes else n) for d, n in enumerate(arg.shape)
                           if keepdims or d not in self.axes)

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _arg_region(self, region: Region) -> Region:
        out: list[Any] = []
        it = iter(region)
        for d, n in enumerate(self.arg.shape):
            if d in self.axes:
                if self.keepdims:
                    next(it)
                out.append(slice(0, n, 1))
            else:
                out.append(next(it))
        return tuple(out)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        arg_region = self._arg_region(region)
        if any(index_len(arg_region[d]) == 0 for d in self.axes) and self.name in ("min", "max"):
            raise ValueError(f"zero-size array to reduction operation {self.name} which has "
                             f"no identity")
        pieces = split_output(self, region, arg_region, self.axes, ctx,
                              lambda sub: self._evaluate(sub, ctx))
        if pieces is not None:
            return pieces
        op = self.op
        state = tree_combine(_map_blocks(self.arg, arg_region, self.axes, ctx,
                                         lambda _r, b: op.partial(b, self.axes)), op.combine)
        out = op.finalize(state)
        if not self.keepdims:
            out = out.reshape(region_shape(region))
        return out

    def grid(self) -> Grid | None:
        g = self.arg.grid()
        if g is None:
            return None
        return tuple((1, 0) if d in self.axes else g[d] for d in range(self.arg.ndim)
                     if self.keepdims or d not in self.axes)

    def describe(self) -> str:
        return f"{self.name}(axis={self.axes})"


class ArgReduce(Expr):
    """``argmin``/``argmax`` over one axis (or all, flattened), first occurrence kept."""

    def __init__(self, name: str, arg: Expr, axis: int | None = None,
                 keepdims: bool = False) -> None:
        if name not in ("argmin", "argmax"):
            raise ValueError(name)
        if arg.size == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        self.name, self.arg, self.keepdims = name, arg, keepdims
        self.axis = None if axis is None else _norm_axes(axis, arg.ndim, name)[0]
        self.axes: tuple[int, ...] = tuple(range(arg.ndim)) if self.axis is None else (self.axis,)
        self.dtype = np.dtype(np.int64)
        if axis is None:
            self.shape = (1,) * arg.ndim if keepdims else ()
        else:
            self.shape = tuple(1 if d == self.axis else n for d, n in enumerate(arg.shape)
                               if keepdims or d != self.axis)

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _better(self, new: np.ndarray, old: np.ndarray) -> np.ndarray:
        cmp = np.less if self.name == "argmin" else np.greater
        with np.errstate(invalid="ignore"):
            better = cmp(new, old)
        if new.dtype.kind in "fc":
            better = better | (np.isnan(new) & ~np.isnan(old))
        return better

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        arg = self.arg
        kept = iter([r for d, r in enumerate(region) if d not in self.axes]
                    if self.keepdims else region)
        arg_region = tuple(slice(0, n, 1) if d in self.axes else next(kept)
                           for d, n in enumerate(arg.shape))
        pieces = split_output(self, region, arg_region, self.axes, ctx,
                              lambda sub: self._evaluate(sub, ctx))
        if pieces is not None:
            return pieces
        fn = np.argmin if self.name == "argmin" else np.argmax

        def partial(sub: Region, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if self.axis is None:
                local = int(fn(block))
                idx = np.unravel_index(local, block.shape)
                glob = tuple(int(ix.start + i * ix.step) if isinstance(ix, slice) else int(ix[i])
                             for ix, i in zip(sub, idx))
                flat = np.ravel_multi_index(glob, arg.shape) if arg.ndim else 0
                return np.asarray(block[idx]), np.asarray(flat, dtype=np.int64)
            local = fn(block, axis=self.axis, keepdims=True)
            vals = np.take_along_axis(block, local, axis=self.axis)
            ix = sub[self.axis]
            pos = (ix.start + local * ix.step) if isinstance(ix, slice) else ix[local]
            return vals, np.asarray(pos, dtype=np.int64)

        def combine(a: Any, b: Any) -> Any:
            better = self._better(b[0], a[0])
            return np.where(better, b[0], a[0]), np.where(better, b[1], a[1])

        state = tree_combine(_map_blocks(arg, arg_region, self.axes, ctx, partial), combine)
        return np.asarray(state[1], dtype=np.int64).reshape(region_shape(region))

    def grid(self) -> Grid | None:
        g = self.arg.grid()
        if g is None or self.axis is None:
            return None
        return tuple((1, 0) if d == self.axis else g[d] for d in range(self.arg.ndim)
                     if self.keepdims or d != self.axis)


class Cumulative(Expr):
    """``cumulative_sum``/``cumulative_prod`` along one axis: each block adds the
    reduction of everything before it along the axis."""

    def __init__(self, name: str, arg: Expr, axis: int | None, dtype: Any = None,
                 include_initial: bool = False) -> None:
        if axis is None:
            if arg.ndim > 1:
                raise ValueError(f"{name}: axis must be given for a {arg.ndim}-d array")
            axis = 0
        self.name, self.arg, self.include_initial = name, arg, include_initial
        self.axis = _norm_axes(axis, arg.ndim, name)[0]
        np_fn = np.cumsum if name == "cumulative_sum" else np.cumprod
        kw = {"dtype": dtype} if dtype is not None else {}
        self.dtype = np.asarray(np_fn(np.ones((1,), dtype=arg.dtype), **kw)).dtype
        self.shape = tuple(n + (1 if (d == self.axis and include_initial) else 0)
                           for d, n in enumerate(arg.shape))

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        ax = self.axis
        ix = region[ax]
        pos = np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice) else ix
        shape = list(region_shape(region))
        if pos.size == 0:
            return np.zeros(shape, dtype=self.dtype)
        lo, hi = int(pos.min()), int(pos.max()) + 1
        cum = np.cumsum if self.name == "cumulative_sum" else np.cumprod
        join = np.add if self.name == "cumulative_sum" else np.multiply
        # the reduction of everything before ``lo`` along the axis
        pre_shape = [1 if d == ax else n for d, n in enumerate(shape)]
        prefix = np.full(pre_shape, 0 if self.name == "cumulative_sum" else 1, dtype=self.dtype)
        if lo > 0:
            op = REDUCTIONS["sum" if self.name == "cumulative_sum" else "prod"][0](self.dtype)
            before = list(region)
            before[ax] = slice(0, lo, 1)
            prefix = tree_combine(_map_blocks(self.arg, tuple(before), (ax,), ctx,
                                              lambda _r, b: op.partial(b, (ax,))), op.combine)
        # output position p holds the reduction of [0, p] (with include_initial: [0, p))
        mid = list(region)
        mid[ax] = slice(lo, hi - (1 if self.include_initial else 0), 1)
        run = join(prefix, cum(self.arg.evaluate(tuple(mid), ctx), axis=ax, dtype=self.dtype),
                   dtype=self.dtype)
        if self.include_initial:
            run = np.concatenate([prefix, run], axis=ax)
        return np.take(run, pos - lo, axis=ax)

    def grid(self) -> Grid | None:
        return self.arg.grid() if not self.include_initial else None
