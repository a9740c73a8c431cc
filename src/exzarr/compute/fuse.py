"""Fusing elementwise chains: a subtree of floating-point arithmetic (``sqrt(z**2 + w**2)``)
becomes one :class:`Fused` node evaluated by one compiled kernel per block (see
:mod:`exzarr.kernels.fused`), instead of one NumPy pass and one temporary per operation.

Fusion runs when compiled kernels are enabled (``config.jit`` and Numba importable) and
the result is large enough for compiling to pay (``config.fuse_min_size`` elements);
otherwise the expression is evaluated as it is, with NumPy, which is also the reference
the fused kernels are tested against.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import config as _config
from ..kernels import fused as _kernels
from .expr import Elementwise, EvalContext, Expr, Grid, broadcast_region
from .region import Region, region_shape

__all__ = ["Fused", "fuse"]

_ALIASES = {"absolute": "abs", "true_divide": "divide", "power": "pow"}
_FLOATS = ("float32", "float64")


def _op_name(e: Elementwise) -> str | None:
    name = _ALIASES.get(str(e.name), str(e.name))
    if name not in _kernels.SCALAR_OPS or e.kwargs or e.dtype.name not in _FLOATS:
        return None
    for o in e.operands:
        if isinstance(o, Expr):
            if o.dtype.kind not in "biuf":
                return None
        elif isinstance(o, complex):
            return None
    return name


class Fused(Expr):
    """An elementwise chain computed by one compiled kernel."""

    def __init__(self, root: Elementwise, recipe: _kernels.Recipe, inputs: list[Expr]) -> None:
        self.root = root
        self.recipe = recipe
        self.inputs = tuple(inputs)
        self.shape = root.shape
        self.dtype = root.dtype

    def children(self) -> tuple[Expr, ...]:
        return self.inputs

    def _evaluate(self, region: Region, ctx: EvalContext) -> np.ndarray:
        if not _kernels.enabled():  # jit switched off since fusing: NumPy, step by step
            return self.root.evaluate(region, ctx)
        blocks = [i.evaluate(broadcast_region(region, self.shape, i.shape), ctx)
                  for i in self.inputs]
        kernel = _kernels.compiled(self.recipe, len(blocks))
        with np.errstate(all="ignore"):
            out = np.asarray(kernel(*blocks), dtype=self.dtype)
        want = region_shape(region)
        return out if out.shape == want else np.broadcast_to(out, want)

    def grid(self) -> Grid | None:
        return self.root.grid()

    def describe(self) -> str:
        return "fused(" + ", ".join(op for op, _, _ in self.recipe) + ")"


def _build(root: Elementwise) -> Fused | None:
    steps: list[_kernels.Step] = []
    inputs: list[Expr] = []
    index: dict[int, int] = {}

    def visit(e: Any) -> tuple[str, Any]:
        if not isinstance(e, Expr):
            return ("const", float(e))
        name = _op_name(e) if isinstance(e, Elementwise) else None
        if name is None:
            if id(e) not in index:
                index[id(e)] = len(inputs)
                inputs.append(e)
            return ("in", index[id(e)])
        assert isinstance(e, Elementwise)
        operands = tuple(visit(o) for o in e.operands)
        steps.append((name, e.dtype.name, operands))
        return ("step", len(steps) - 1)

    visit(root)
    if len(steps) < 2:
        return None
    return Fused(root, tuple(steps), inputs)


def fuse(expr: Expr) -> Expr:
    """``expr`` with its large floating-point elementwise chains fused (or unchanged)."""
    cfg = _config.get()
    if expr.size < cfg.fuse_min_size or not _kernels.enabled():
        return expr
    memo: dict[int, Expr] = {}

    def rewrite(e: Expr) -> Expr:
        if id(e) in memo:
            return memo[id(e)]
        out = e
        if isinstance(e, Elementwise) and _op_name(e) is not None and \
                e.size >= cfg.fuse_min_size:
            fused = _build(e)
            if fused is not None:
                fused.inputs = tuple(rewrite(i) for i in fused.inputs)
                out = fused
        elif e.children():
            _rewrite_children(e, rewrite)
        memo[id(e)] = out
        return out
    return rewrite(expr)


def _rewrite_children(e: Expr, rewrite: Any) -> None:
    """Fuse below a non-elementwise node, in place (its child attributes are replaced)."""
    for attr in ("arg", "a", "b"):
        child = getattr(e, attr, None)
        if isinstance(child, Expr):
            setattr(e, attr, rewrite(child))
    for attr in ("args", "operands", "inputs"):
        seq = getattr(e, attr, None)
        if isinstance(seq, tuple):
            setattr(e, attr, tuple(rewrite(c) if isinstance(c, Expr) else c for c in seq))
