"""Lazy arrays: a ``ZArray`` whose values are an expression over stored arrays.

What the namespace, the operators and the reduction methods return.  Shape and dtype
are known; nothing is read until ``read()``/``np.asarray``/``float()``..., ``to_zarr()``
or an assignment ``z[...] = e``.  Indexing a lazy array is lazy for basic and orthogonal
keys; vectorised keys (several index arrays, or arrays of more than one dimension)
evaluate the array first.  What needs a store (``store``, ``attrs``, writing into it,
chunk access) raises :class:`~exzarr.errors.LazyArrayError`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import numpy.typing as npt

from ..compute import (Assign, AssignPoints, BroadcastTo, Expr, Index, Literal, Permute,
                       Reshape)
from ..errors import LazyArrayError
from ..indexing.parse import parse_key
from ..indexing.selection import DimKind, Selection
from ..indexing.slices import Slice
from .info import ArrayInfo
from .readable import materialise, set_lazy_factory, to_expr
from .zarray import ZArray, _read_key

if TYPE_CHECKING:
    from ..compute import Plan

__all__ = ["LazyArray"]


def _selection_to_index(arr: Expr, sel: Selection) -> Expr | None:
    """``sel`` (a selection of ``arr``) as an orthogonal :class:`Index`, or None when it
    is vectorised (needs NumPy's advanced-indexing broadcast)."""
    entries: list[Any] = []
    next_axis = 0
    used = {a for d in sel.dims for a in d.axes}
    for dm in sel.dims:
        if dm.kind is DimKind.INT:
            entries.append(dm.value)
            continue
        if len(dm.axes) != 1:
            return None
        axis = dm.axes[0]
        if axis < next_axis:
            return None
        while next_axis < axis:
            if next_axis in used or sel.out_shape[next_axis] != 1:
                return None
            entries.append(None)
            next_axis += 1
        if dm.kind is DimKind.SLICE:
            s: Slice = dm.value  # type: ignore[assignment]
            entries.append(slice(s.start, s.start + s.n * s.step, s.step))
        else:
            a = np.asarray(dm.value, dtype=np.int64).reshape(-1)
            if a.shape[0] != sel.out_shape[axis]:
                return None
            entries.append(a)
        next_axis += 1
    while next_axis < len(sel.out_shape):
        if sel.out_shape[next_axis] != 1:
            return None
        entries.append(None)
        next_axis += 1
    return Index(arr, entries)


class LazyArray(ZArray):
    """A lazy expression with the ``ZArray`` interface (see the module docs)."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr) -> None:  # noqa: D107 - no stored state at all
        self._expr = expr
        self._state = None  # type: ignore[assignment]
        self._sel = None
        self._dtype = None

    # -- what a lazy array is -------------------------------------------------------
    @property
    def is_lazy(self) -> bool:
        return True

    @property
    def is_view(self) -> bool:
        return False

    @property
    def shape(self) -> tuple[int, ...]:
        return self._expr.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._expr.dtype

    @property
    def chunks(self) -> tuple[int, ...]:
        """The evaluation block shape the planner picks (aligned to the inputs' chunks)."""
        return self.plan().block_shape

    def _as_expr(self) -> Expr:
        return self._expr

    def plan(self, **options: Any) -> Plan:
        """How this expression would be evaluated: blocks, estimated peak memory, bytes
        read (no I/O; raises MemoryBudgetError when it cannot fit the budget)."""
        from ..compute import make_plan  # the planner loads when first asked for
        return make_plan(self._expr, **options)

    # -- evaluation -----------------------------------------------------------------
    def read(self, out: np.ndarray | None = None, *, xp: Any = None,
             progress: bool | str = False) -> Any:
        """Evaluate into a NumPy array (into ``out`` if given); ``xp`` converts it."""
        from ..compute import compute  # the evaluator (and its threads) load when first used
        result = compute(self._expr, out, progress=progress)
        return xp.asarray(result) if xp is not None else result

    def compute(self, **kwargs: Any) -> Any:
        """Alias of :meth:`read` (the name dask users reach for)."""
        return self.read(**kwargs)

    # -- indexing -------------------------------------------------------------------
    def _view(self, inner: Selection) -> LazyArray:
        index = _selection_to_index(self._expr, inner)
        if index is not None:
            return LazyArray(index)
        # vectorised selections: NumPy's advanced indexing on the evaluated array
        from_sel = _vectorised(self.read(), inner)
        return LazyArray(Literal(from_sel))

    def __getitem__(self, key: Any) -> LazyArray:
        return self._view(parse_key(_read_key(key), self.shape))

    def permute_dims(self, axes: tuple[int, ...]) -> LazyArray:
        perm = tuple(int(a) % max(self.ndim, 1) for a in axes)
        return LazyArray(Permute(self._expr, perm))

    # -- assignment: a functional update of this lazy array (nothing is stored) ---------
    def _compose(self, inner: Selection) -> Selection:
        return inner

    def _write(self, sel: Selection, value: Any) -> None:
        """``self[sel] = value``: this lazy array now evaluates with ``value`` written there
        (other arrays built from it earlier keep their values; nothing is read now)."""
        shape = sel.out_shape
        index = _selection_to_index(self._expr, sel)
        if index is not None:
            positions = []
            for dm in sel.dims:
                if dm.kind is DimKind.INT:
                    positions.append(np.array([int(dm.int_value)], dtype=np.int64))
                else:
                    positions.append(np.asarray(dm.full(shape), dtype=np.int64).reshape(-1))
            dims = tuple(p.shape[0] for p in positions)
            v = to_expr(value)
            v = v if isinstance(v, Expr) else Literal(np.asarray(v))
            if v.shape != shape:
                v = BroadcastTo(v, shape)
            if shape != dims:
                v = Reshape(v, dims)
            self._expr = Assign(self._expr, positions, v)
            return
        if all(dm.kind is not DimKind.SLICE for dm in sel.dims):  # points (vindex, masks)
            coords = np.stack([np.broadcast_to(np.asarray(
                dm.int_value if dm.kind is DimKind.INT else dm.full(shape)), shape).reshape(-1)
                for dm in sel.dims]) if sel.dims else np.zeros((0, math.prod(shape)), np.int64)
            values = np.broadcast_to(np.asarray(materialise(value)), shape).reshape(-1)
            self._expr = AssignPoints(self._expr, coords, values)
            return
        raise LazyArrayError("assigning through a vectorised selection that mixes slices and "
                             "index arrays is not supported on a lazy array; use oindex, or "
                             "store the array first (e.to_zarr(...))")

    def astype(self, dtype: npt.DTypeLike, copy: bool = True,
               order: str | None = None) -> ZArray:
        from .namespace import astype
        result: ZArray = astype(self, dtype, copy=copy)
        return result

    def __repr__(self) -> str:
        return (f"<ZArray lazy shape={self.shape} dtype={self.dtype} "
                f"expr={self._expr.describe()}>")

    @property
    def info(self) -> ArrayInfo:
        """The same rows as the rich display (shape, expression, blocks, peak memory...)."""
        from .display.lazy import plan_rows  # the display loads on first use
        return ArrayInfo(tuple(plan_rows(self._expr, self.plan())))

    def _repr_html_(self) -> str:
        """Jupyter's display: the plan beside the grid of evaluation blocks (no I/O)."""
        from .display.lazy import expression_html
        return expression_html(self._expr, self.plan)

    def info_html(self, stored: bool = False) -> str:
        return self._repr_html_()


def _vectorised(values: np.ndarray, sel: Selection) -> np.ndarray:
    """``values`` indexed by ``sel`` (a selection over its whole shape)."""
    idx = []
    for dm in sel.dims:
        if dm.kind is DimKind.INT:
            idx.append(dm.value)
        else:
            idx.append(dm.full(sel.out_shape))
    # every dim's index broadcasts over the output axes it maps to
    grids = []
    nd = len(sel.out_shape)
    for dm, ix in zip(sel.dims, idx):
        if dm.kind is DimKind.INT:
            grids.append(np.asarray(ix))
            continue
        shape = [1] * nd
        arr = np.asarray(ix)
        for a, n in zip(dm.axes, arr.shape):
            shape[a] = n
        order = sorted(range(len(dm.axes)), key=lambda k: dm.axes[k])
        grids.append(np.transpose(arr, order).reshape(shape) if arr.ndim else arr)
    out = values[tuple(grids)] if grids else values
    return np.broadcast_to(out, sel.out_shape).copy()


def _stored_only(name: str) -> property:
    def fail(self: LazyArray, *args: Any, **kwargs: Any) -> NoReturn:
        raise LazyArrayError(f"{name} needs a stored array; this is a lazy expression "
                             f"({self._expr.describe()}): store it first with "
                             f"e.to_zarr(url_or_store, ...)")
    return property(fail)


for _name in ("store", "path", "metadata", "zarr_format", "shards", "fill_value", "order",
              "dimension_names", "codecs", "read_only", "attrs", "nchunks",
              "nchunks_initialized", "blocks", "stored_chunks", "read_chunk", "write_chunk",
              "nchunks_grid", "chunk_stream", "iter_chunks", "parallel_chunk_map", "resize",
              "append", "write", "selection"):
    setattr(LazyArray, _name, _stored_only(_name))
del _name

set_lazy_factory(LazyArray)
