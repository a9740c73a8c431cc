"""Running a plan: small intermediates first, then the output block by block on the
executor's threads (a bounded number in flight), into memory or into a sink."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import executor
from .expr import EvalContext, Expr
from .fuse import fuse
from .plan import Plan, make_plan
from .region import Region, block_regions, full_region
from .slab import fill_slab, slabs

__all__ = ["compute", "stream", "Sink"]

#: ``sink(region, values)``: where streamed blocks go (e.g. a region write of a stored array)
Sink = Callable[[Region, np.ndarray], None]


def _context(plan: Plan) -> EvalContext:
    ctx = EvalContext(block_bytes=plan.block_bytes)
    for node in plan.precompute:  # children first (walk order), each computed once
        ctx.cache[id(node)] = np.asarray(node.evaluate(full_region(node.shape), ctx))
    return ctx


def _progress(total: int, progress: bool | str) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=progress if isinstance(progress, str) else "compute",
                unit="block")


def stream(expr: Expr, sink: Sink, *, plan: Plan | None = None,
           progress: bool | str = False) -> Plan:
    """Evaluate ``expr`` block by block, handing every block to ``sink``."""
    plan = plan or make_plan(expr)
    slabbed = plan.slabs
    expr = fuse(expr)
    regions = list(block_regions(expr.shape, plan.block_shape, plan.block_offsets))
    if slabbed is not None:  # one pass: each slab's inputs read once, reductions per slab
        ctx = EvalContext(block_bytes=plan.block_bytes)
        for r in slabbed.reductions:
            ctx.cache[id(r)] = np.empty(r.shape, dtype=r.dtype)
        groups = list(slabs(slabbed, regions, expr.shape))
    else:
        ctx = _context(plan)
        groups = [((), regions)]
    bar = _progress(len(regions), progress)

    def one(region: Region) -> None:
        sink(region, expr.evaluate(region, ctx))
        if bar is not None:
            bar.update(1)
    try:
        for slab, blocks in groups:
            if slabbed is not None:
                fill_slab(slabbed, slab, ctx)
            if len(blocks) == 1:
                one(blocks[0])  # sub-iterations inside use the threads
            else:
                executor.run(one, blocks, parallel=plan.in_flight)
    finally:
        ctx.slabs.clear()
        ctx.slab_buffers.clear()
        if bar is not None:
            bar.close()
    return plan


def compute(expr: Expr, out: np.ndarray | None = None, *, plan: Plan | None = None,
            progress: bool | str = False) -> np.ndarray:
    """The values of ``expr`` as a NumPy array (written into ``out`` when given)."""
    if out is None:
        out = np.empty(expr.shape, dtype=expr.dtype)
    elif out.shape != expr.shape:
        raise ValueError(f"out has shape {out.shape}; the result has shape {expr.shape}")
    target = out

    def sink(region: Region, values: np.ndarray) -> None:
        target[tuple(slice(r.start, r.stop, r.step) for r in region)] = values  # type: ignore[union-attr]
    stream(expr, sink, plan=plan, progress=progress)
    return out
