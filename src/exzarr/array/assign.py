"""Assigning an exzarr array (lazy or stored) into a stored array or view: the value is
evaluated block by block, blocks aligned to the target's chunks, each written as it is
computed, so memory stays bounded whatever the sizes.

A value that reads the target itself at other positions than it writes (``z[1:] =
z[:-1]``, ``z[...] = z - z.sum()`` with a large sum...) would see its own writes; it is
evaluated into memory first when it fits ``config.memory_limit``, else refused with
:class:`~exzarr.errors.WriteConflictError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from .. import config as _config
from ..compute import BroadcastTo, Elementwise, Expr, Leaf, Region, compute, make_plan, stream
from ..errors import ShapeMismatchError, WriteConflictError
from ..indexing.selection import DimKind, Selection
from .source import ZArraySource, region_selection
from .state import ArrayState
from .writer import write_selection

__all__ = ["assign"]


def _target_key(state: ArrayState, sel: Selection) -> tuple[Hashable, Hashable]:
    src = (state.store.url, state.path)
    return src, (sel.describe(), sel.out_shape) if all(
        d.kind is not DimKind.ARRAY for d in sel.dims) else None


def _reads_elsewhere(expr: Expr, target: tuple[Hashable, Hashable], safe: set[int]) -> bool:
    """Whether ``expr`` reads the target array at positions other than those it writes."""
    ident, key = target

    def visit(e: Expr, pointwise: bool) -> bool:
        if id(e) in safe:  # computed up front, before anything is written
            return False
        if isinstance(e, Leaf):
            src = e.source
            if isinstance(src, ZArraySource) and src.identity() == ident:
                return not pointwise or key is None or src.selection_key() != key
            return False
        keep = isinstance(e, Elementwise)
        return any(visit(c, pointwise and keep and c.shape == e.shape) for c in e.children())
    return visit(expr, True)


def assign(state: ArrayState, sel: Selection, value: Any, *,
           progress: bool | str = False) -> None:
    """Write the exzarr array ``value`` (broadcast) into ``sel`` of the stored array
    (``progress``: a tqdm bar over the blocks)."""
    shape = sel.out_shape
    expr: Expr = value._as_expr()
    if expr.shape != shape:
        try:
            expr = BroadcastTo(expr, shape)
        except ValueError:
            raise ShapeMismatchError(
                f"cannot assign an array of shape {value.shape} to a region of shape {shape} "
                f"of the array at {state.where()}: the shapes do not broadcast",
                store=state.store, key=state.path) from None
    target_view = _View(state, sel)
    plan = make_plan(expr, align=ZArraySource(target_view).grid(), writes=True)
    if _reads_elsewhere(expr, _target_key(state, sel), {id(n) for n in plan.precompute}):
        if expr.nbytes > _config.get().memory_limit:
            raise WriteConflictError(
                f"this assignment into the array at {state.where()} reads the same array at "
                f"other positions than it writes, and its result ({expr.nbytes} bytes) is "
                f"larger than memory_limit: store the value first (value.to_zarr(...)), then "
                f"assign that; nothing was written", store=state.store, key=state.path)
        write_selection(state, sel, compute(expr))
        return

    def sink(region: Region, block: np.ndarray) -> None:
        write_selection(state, sel.compose(region_selection(shape, region)), block)
    stream(expr, sink, plan=plan, progress=progress)


class _View:
    """The minimum of a view that :class:`ZArraySource` needs for chunk alignment."""

    def __init__(self, state: ArrayState, sel: Selection) -> None:
        self.selection = sel
        self.shape = sel.out_shape
        inner = state.pipeline.inner_chunk_shape
        self.chunks = tuple(inner) if inner else tuple(state.meta.chunks)
