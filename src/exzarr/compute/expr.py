"""Lazy expressions: shape and dtype known, values computed region by region on demand.

Every node answers ``evaluate(region, ctx)``: the values of the given region of its output
as a NumPy array, reading only what that region needs from its inputs.  Leaves are
*sources* (anything with ``shape``, ``dtype`` and ``read(region)``: the array layer
provides stored arrays as sources; this package knows nothing of stores) and in-memory
NumPy values.  Python scalars stay Python scalars inside elementwise nodes, so NumPy's
type promotion (NEP 50: scalars are "weak") gives exactly the dtypes NumPy would.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .region import Region, region_shape, slice_within, take_region

__all__ = ["Source", "Expr", "Leaf", "Literal", "Positional", "Elementwise", "Grid", "EvalContext",
           "broadcast_region", "as_expr", "Operand", "walk"]

#: per dimension ``(block size, offset)``: preferred block boundaries at
#: ``offset + k * size``; size 0 means no preference
Grid = tuple[tuple[int, int], ...]


@runtime_checkable
class Source(Protocol):
    """What a leaf reads from: the array layer wraps stored arrays in this."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype: ...

    def read(self, region: Region, out: np.ndarray | None = None) -> np.ndarray:
        """The values of ``region`` (written into ``out``, C-contiguous and of the
        region's shape and the source's dtype, when given)."""
        ...

    def grid(self) -> Grid | None: ...

    def identity(self) -> Hashable: ...


@dataclass
class EvalContext:
    """Settings and state of one evaluation: block size for sub-iterations (reductions,
    contractions), and values of sub-expressions computed once up front."""

    block_bytes: int = 8 << 20
    cache: dict[int, np.ndarray] = field(default_factory=dict)
    parallel: bool = True
    #: inputs read once for the slab being evaluated: leaf key -> (slab region, values)
    slabs: dict[Hashable, tuple[Region, np.ndarray]] = field(default_factory=dict)
    #: the memory the slabs are read into, reused from slab to slab: leaf key -> buffer
    slab_buffers: dict[Hashable, np.ndarray] = field(default_factory=dict)


class Expr:
    """A lazy array-valued expression."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= int(s)
        return n

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def children(self) -> tuple[Expr, ...]:
        return ()

    def evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        """The values of ``region`` of this expression (exactly ``region_shape(region)``)."""
        cached = ctx.cache.get(id(self))
        if cached is not None:
            return take_region(cached, region)
        shape = region_shape(region)
        if 0 in shape:
            return np.zeros(shape, dtype=self.dtype)  # an empty result: nothing to read
        return self._evaluate(region, ctx)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        raise NotImplementedError

    def grid(self) -> Grid | None:
        """Preferred block boundaries (aligned to the chunks of the stored inputs)."""
        return None

    def describe(self) -> str:
        return type(self).__name__


def walk(expr: Expr) -> list[Expr]:
    """Every distinct node below and including ``expr``, children before parents."""
    seen: set[int] = set()
    out: list[Expr] = []

    def visit(e: Expr) -> None:
        if id(e) in seen:
            return
        seen.add(id(e))
        for c in e.children():
            visit(c)
        out.append(e)
    visit(expr)
    return out


class Leaf(Expr):
    """A source read region by region."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.shape = tuple(int(s) for s in source.shape)
        self.dtype = np.dtype(source.dtype)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        if ctx.slabs:
            hit = ctx.slabs.get(self.key())
            if hit is not None:
                inside = slice_within(hit[0], region)
                if inside is not None:
                    return hit[1][inside]
        return self.source.read(region)

    def grid(self) -> Grid | None:
        return self.source.grid()

    def key(self) -> Hashable:
        """Leaves that read the same values share a key (each use of a stored array in
        an expression is its own Leaf)."""
        src = self.source
        sel_key = getattr(src, "selection_key", None)
        sel = sel_key() if callable(sel_key) else None
        if sel is None:
            return ("leaf", id(self))
        return ("source", src.identity(), sel, self.dtype.str, self.shape)

    def describe(self) -> str:
        return f"read {self.source!r}"


class Literal(Expr):
    """An in-memory NumPy value (small arrays, or results computed once up front)."""

    def __init__(self, value: Any, dtype: Any = None) -> None:
        self.value = np.asarray(value, dtype=dtype)
        self.shape = tuple(self.value.shape)
        self.dtype = self.value.dtype

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        return take_region(self.value, region)

    def describe(self) -> str:
        return f"value {self.shape} {self.dtype}"


class Positional(Expr):
    """Values computed from positions: ``fn(*index_grids)`` where each grid holds the
    indices of one dimension (broadcastable, ``np.ix_`` style).  Creation functions
    (``zeros``, ``arange``, ``eye``...) are these: nothing is held in memory."""

    def __init__(self, shape: Sequence[int], dtype: Any, fn: Callable[..., Any],
                 name: str = "generated") -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.fn = fn
        self.name = name

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        pos = [np.arange(ix.start, ix.stop, ix.step) if isinstance(ix, slice) else ix
               for ix in region]
        grids = np.ix_(*pos) if pos else ()
        out = np.asarray(self.fn(*grids), dtype=self.dtype)
        want = region_shape(region)
        return out if out.shape == want else np.broadcast_to(out, want)

    def describe(self) -> str:
        return str(self.name)


#: an elementwise operand: an expression or a Python scalar (kept weak for promotion)
Operand = Expr | bool | int | float | complex


def as_expr(x: Any) -> Operand:
    """``x`` as an operand: expressions and Python scalars as they are, anything else
    through ``np.asarray`` as a literal."""
    if isinstance(x, (Expr, bool, int, float, complex)):
        return x
    return Literal(x)


def broadcast_region(region: Region, out_shape: tuple[int, ...],
                     arg_shape: tuple[int, ...]) -> Region:
    """The region of an operand of shape ``arg_shape`` that broadcasts onto ``region``."""
    lead = len(out_shape) - len(arg_shape)
    out: list[Any] = []
    for j, n in enumerate(arg_shape):
        d = lead + j
        if n == 1 and out_shape[d] != 1:
            out.append(slice(0, 1, 1))
        else:
            out.append(region[d])
    return tuple(out)


def _dummy(x: Operand) -> Any:
    return np.ones((1,) * min(x.ndim, 1), dtype=x.dtype) if isinstance(x, Expr) else x


class Elementwise(Expr):
    """``fn(*operands)`` applied elementwise with NumPy broadcasting.

    ``fn`` is any NumPy-compatible elementwise function (a ufunc, an ``array_api_compat``
    function, ``np.where``...).  The result dtype is what ``fn`` gives for one-element
    arrays of the operand dtypes, so promotion rules are NumPy's own.
    """

    def __init__(self, fn: Callable[..., Any], operands: Sequence[Any], name: str | None = None,
                 *, shape: tuple[int, ...] | None = None, **kwargs: Any) -> None:
        self.fn = fn
        self.kwargs = kwargs
        self.operands: tuple[Operand, ...] = tuple(as_expr(o) for o in operands)
        self.name = name or getattr(fn, "__name__", "fn")
        shapes = [o.shape for o in self.operands if isinstance(o, Expr)]
        try:
            bshape = np.broadcast_shapes(*shapes) if shapes else ()
            self.shape = tuple(int(s) for s in (np.broadcast_shapes(bshape, shape)
                                                 if shape is not None else bshape))
        except ValueError as e:
            raise ValueError(f"{self.name}: operands with shapes {shapes} do not broadcast "
                             f"together ({e})") from None
        with np.errstate(all="ignore"):
            sample = np.asarray(fn(*[_dummy(o) for o in self.operands], **kwargs))
        self.dtype = sample.dtype

    def children(self) -> tuple[Expr, ...]:
        return tuple(o for o in self.operands if isinstance(o, Expr))

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        args = [o.evaluate(broadcast_region(region, self.shape, o.shape), ctx)
                if isinstance(o, Expr) else o for o in self.operands]
        result = np.asarray(self.fn(*args, **self.kwargs))
        want = region_shape(region)
        if result.shape != want:
            result = np.broadcast_to(result, want)
        if result.dtype != self.dtype:
            result = result.astype(self.dtype)
        return result

    def grid(self) -> Grid | None:
        best: list[tuple[int, int]] = [(0, 0)] * self.ndim
        for o in self.children():
            g = o.grid()
            if g is None:
                continue
            lead = self.ndim - o.ndim
            for j, (size, off) in enumerate(g):
                d = lead + j
                if best[d][0] == 0 and size and o.shape[j] == self.shape[d]:
                    best[d] = (size, off)
        return tuple(best) if any(s for s, _ in best) else None

    def describe(self) -> str:
        return str(self.name)
