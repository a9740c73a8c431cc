"""One pass over the inputs for expressions that use a reduction of themselves, such as
the anomaly ``z - mean(z, axis=0)`` or the standardisation ``(z - z.mean(0)) / z.std(0)``.

Evaluated naively, the small reductions are computed first (one pass over ``z``) and the
output block by block afterwards (a second pass).  When every reduction reduces the same
leading axes (or keeps its dimensions) of an operand shaped like the output, and reaches
the output only through elementwise operations, the output can instead be computed
*slab by slab*: a slab is a set of output blocks spanning the reduced axes whole.  Each
stored input's slab is read once into memory, the reductions are computed for that slab
from it, then the slab's output blocks are computed from the same data.  A slab (every input it
caches) must fit in the memory budget left beside the blocks in flight, and in an eighth
of ``memory_limit`` (128 MiB by default, so that peak memory stays bounded by a constant
however large the array), otherwise the two-pass plan is used.  This is what dask's scheduler achieves for the same graph by holding each
column's chunks; here the bound is stated before anything is read.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

import numpy as np

from .expr import Elementwise, EvalContext, Expr, Leaf
from .reduce import Reduce
from .region import Region, region_shape

__all__ = ["SlabPlan", "slab_plan", "slabs", "reduction_region", "fill_slab"]


@dataclass(frozen=True)
class SlabPlan:
    """How to evaluate an expression slab by slab."""

    axes: tuple[int, ...]                 # the reduced axes: whole in every slab
    reductions: tuple[Reduce, ...]        # computed per slab (the plan's precompute)
    leaves: tuple[Leaf, ...]              # inputs read once per slab (distinct by key)
    slab_bytes: int                       # memory of one slab's cached inputs


def _reduced_space(e: Expr, reductions: dict[int, Reduce]) -> bool:
    """Whether ``e`` is computed from the per-slab reductions alone, elementwise in their
    own shape (``max(z, axis=0) / 2``), so a slab's part of it comes from theirs."""
    if id(e) in reductions:
        return True
    if not e.children():
        return not isinstance(e, Leaf)
    if not isinstance(e, Elementwise):
        return False
    shapes = {r.shape for r in reductions.values()}
    return e.shape in shapes and all(
        (not c.children() and not isinstance(c, Leaf)) or
        (c.shape == e.shape and _reduced_space(c, reductions)) for c in e.children())


def _elementwise_path(e: Expr, shape: tuple[int, ...], reductions: dict[int, Reduce],
                      leaves: dict[Hashable, Leaf], inside_reduction: bool) -> bool:
    """Whether ``e`` (of the output's ``shape``) maps output regions onto its inputs
    unchanged: elementwise nodes of that shape, leaves, no-input nodes, and (outside a
    reduction) the reductions computed per slab, or elementwise functions of them alone,
    as elementwise operands."""
    if isinstance(e, Leaf):
        if e.shape == shape:
            leaves.setdefault(e.key(), e)
        return True
    if id(e) in reductions:
        return False  # only valid as an elementwise operand (checked by the caller)
    if not e.children():
        return True  # literals, positions: computed from the region alone
    if not isinstance(e, Elementwise) or e.shape != shape:
        return False
    for op in e.children():
        if op.children() and _reduced_space(op, reductions):
            if inside_reduction:
                return False
            continue
        if isinstance(op, Leaf) or not op.children():
            if isinstance(op, Leaf) and op.shape == shape:
                leaves.setdefault(op.key(), op)
            continue  # broadcast leaves are read per block, as usual
        if op.shape != shape or not _elementwise_path(op, shape, reductions, leaves,
                                                      inside_reduction):
            return False
    return True


def slab_plan(expr: Expr, precompute: tuple[Expr, ...], block_shape: tuple[int, ...],
              budget: int) -> SlabPlan | None:
    """A slab plan for ``expr`` (before fusion) whose cached inputs fit in ``budget``
    bytes, or None when the two-pass plan applies."""
    if not precompute or not all(isinstance(p, Reduce) for p in precompute) or expr.size == 0:
        return None
    reds: tuple[Reduce, ...] = tuple(p for p in precompute if isinstance(p, Reduce))
    axes = {r.axes for r in reds}
    if len(axes) != 1:
        return None
    red_axes = axes.pop()
    shape = expr.shape
    for r in reds:
        if r.arg.shape != shape:
            return None
        if not r.keepdims and red_axes != tuple(range(len(red_axes))):
            return None  # broadcasting would not line the reduced result up with the slab
    leaves: dict[Hashable, Leaf] = {}
    by_id = {id(r): r for r in reds}
    if not _elementwise_path(expr, shape, by_id, leaves, False):
        return None
    for r in reds:
        if not _elementwise_path(r.arg, shape, {}, leaves, True):
            return None
    if not leaves:
        return None
    slab_elems = math.prod(n if d in red_axes else min(b, n)
                           for d, (n, b) in enumerate(zip(shape, block_shape)))
    slab_bytes = sum(slab_elems * leaf.dtype.itemsize for leaf in leaves.values())
    if slab_bytes > budget:
        return None
    return SlabPlan(red_axes, reds, tuple(leaves.values()), slab_bytes)


def slabs(plan: SlabPlan, regions: list[Region],
          shape: tuple[int, ...]) -> Iterator[tuple[Region, list[Region]]]:
    """The output ``regions`` (blocks) grouped into slabs: ``(slab region, its blocks)``."""
    groups: dict[tuple[tuple[int, int], ...], list[Region]] = {}
    for reg in regions:
        key = tuple((ix.start, ix.stop) for d, ix in enumerate(reg)
                    if d not in plan.axes and isinstance(ix, slice))
        groups.setdefault(key, []).append(reg)
    for blocks in groups.values():
        first = blocks[0]
        slab = tuple(slice(0, n, 1) if d in plan.axes else first[d]
                     for d, n in enumerate(shape))
        yield slab, blocks


def reduction_region(r: Reduce, slab: Region) -> Region:
    """The part of ``r``'s result that the blocks of ``slab`` use."""
    if r.keepdims:
        return tuple(slice(0, 1, 1) if d in r.axes else ix for d, ix in enumerate(slab))
    return tuple(ix for d, ix in enumerate(slab) if d not in r.axes)


def _slab_buffer(leaf: Leaf, shape: tuple[int, ...], ctx: EvalContext) -> np.ndarray:
    """Memory for ``leaf``'s part of a slab of ``shape``: the same buffer for every slab
    of the evaluation (sized by the first, the largest), so a slab costs no fresh pages:
    on a machine where first touches are slow that is most of a slab's price."""
    n = math.prod(shape)
    buf = ctx.slab_buffers.get(leaf.key())
    if buf is None or buf.size < n:
        buf = ctx.slab_buffers[leaf.key()] = np.empty(n, dtype=leaf.dtype)
    return buf[:n].reshape(shape)


def fill_slab(plan: SlabPlan, slab: Region, ctx: EvalContext) -> None:
    """Read the slab's inputs into ``ctx`` and compute the reductions' part for it.
    The previous slab's blocks must all be done: its memory is reused."""
    ctx.slabs.clear()
    for leaf in plan.leaves:
        data = leaf.source.read(slab, _slab_buffer(leaf, region_shape(slab), ctx))
        ctx.slabs[leaf.key()] = (slab, data)
    for r in plan.reductions:
        part = reduction_region(r, slab)  # step-1 slices: the slab is made of blocks
        ctx.cache[id(r)][tuple(slice(ix.start, ix.stop) for ix in part
                               if isinstance(ix, slice))] = r._evaluate(part, ctx)
