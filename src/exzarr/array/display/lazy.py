"""The rich display of a lazy expression: its plan as a table (output, expression, blocks,
estimated peak memory, bytes read) beside the grid of its evaluation blocks.  Planning
reads nothing, so neither does the display."""

from __future__ import annotations

from typing import Any

from ...compute import Expr, Plan
from ...errors import MemoryBudgetError
from .arrays import fmt_bytes
from .model import Axis, GridModel
from .svg import render_svg
from .table import Row, card

__all__ = ["expression_html", "plan_rows"]


def plan_rows(expr: Expr, plan: Plan | None, error: str | None = None) -> list[Row]:
    rows: list[Row] = [("Type", "ZArray (lazy expression)"), ("Shape", str(expr.shape)),
                       ("Data type", str(expr.dtype)), ("Expression", expr.describe()),
                       ("Bytes (logical)", fmt_bytes(expr.nbytes))]
    if plan is None:
        rows.append(("Plan", error or "not available"))
        return rows
    rows += [("Blocks", f"{plan.nblocks} of {plan.block_shape}, {plan.in_flight} in flight"),
             ("Computed first", f"{len(plan.precompute)} small intermediate(s)"),
             ("Peak memory (est.)", f"{fmt_bytes(plan.peak_bytes)} of "
                                    f"{fmt_bytes(plan.memory_limit)} allowed"),
             ("Bytes read", fmt_bytes(plan.bytes_read))]
    return rows


def expression_html(expr: Expr, plan_of: Any, *, style: bool = True) -> str:
    """The card of ``expr``: ``plan_of()`` gives its plan (or raises MemoryBudgetError)."""
    try:
        plan: Plan | None = plan_of()
        error = None
    except MemoryBudgetError as exc:
        plan, error = None, f"does not fit the memory budget: {exc}"
    svg = None
    if plan is not None and expr.ndim:
        axes = tuple(Axis(size=int(n), chunk=max(1, int(b))) for n, b in
                     zip(expr.shape, plan.block_shape))
        svg = render_svg(GridModel(axes=axes, caption="evaluation blocks"),
                         title="evaluation blocks")
    return card(plan_rows(expr, plan, error), svg, caption="lazy expression", style=style)
