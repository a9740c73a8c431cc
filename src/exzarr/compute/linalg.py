"""Matrix products evaluated block by block: each output block accumulates the products
of its row block of ``a`` and column block of ``b`` over pieces of the contracted axis,
so memory stays at a few blocks whatever the sizes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .expr import EvalContext, Expr, Grid, broadcast_region
from .region import Region, index_len

__all__ = ["Matmul"]


class Matmul(Expr):
    """``a @ b`` for operands of at least 2 dimensions (batch dimensions broadcast)."""

    def __init__(self, a: Expr, b: Expr) -> None:
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError("Matmul needs operands of at least 2 dimensions")
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                             f"({a.shape[-1]} != {b.shape[-2]})")
        self.a, self.b = a, b
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        self.shape = tuple(batch) + (a.shape[-2], b.shape[-1])
        self.dtype = np.matmul(np.ones((1, 1), a.dtype), np.ones((1, 1), b.dtype)).dtype

    def children(self) -> tuple[Expr, ...]:
        return (self.a, self.b)

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        batch_shape = self.shape[:-2]
        batch = region[:-2]
        a_batch = broadcast_region(batch, batch_shape, self.a.shape[:-2]) if batch else ()
        b_batch = broadcast_region(batch, batch_shape, self.b.shape[:-2]) if batch else ()
        k = self.a.shape[-1]
        rows, cols = index_len(region[-2]), index_len(region[-1])
        item = max(self.a.dtype.itemsize, self.b.dtype.itemsize)
        per_k = max(1, (rows + cols) * item)
        for ix in batch:
            per_k *= max(1, index_len(ix))
        step = max(1, min(k, ctx.block_bytes // per_k)) if k else 1
        acc: Any = None
        for lo in range(0, max(k, 1), step):
            ks = slice(lo, min(lo + step, k), 1)
            pa = self.a.evaluate(a_batch + (region[-2], ks), ctx)
            pb = self.b.evaluate(b_batch + (ks, region[-1]), ctx)
            prod = np.matmul(pa, pb)
            acc = prod if acc is None else acc + prod
        out = np.asarray(acc, dtype=self.dtype)
        want = tuple(index_len(ix) for ix in region)
        return np.broadcast_to(out, want) if out.shape != want else out

    def grid(self) -> Grid | None:
        ga, gb = self.a.grid(), self.b.grid()
        if ga is None and gb is None:
            return None
        lead = [(0, 0)] * (self.ndim - 2)
        return tuple(lead + [ga[-2] if ga else (0, 0), gb[-1] if gb else (0, 0)])
