"""Lazy computation over abstract sources: expressions, block planning under a memory
budget, and evaluation on the executor's threads.

Knows nothing of stores: a stored array takes part as a :class:`Source` (anything with
``shape``, ``dtype``, ``read(region)``, ``grid()`` and ``identity()``) that the array
layer provides.  Nothing here reads until :func:`compute` or :func:`stream` runs a plan.

The names below are imported from their modules on first use (PEP 562): building
expressions does not load the evaluator and its thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import lazy_names

if TYPE_CHECKING:
    from .evaluate import Sink, compute, stream
    from .expr import (Elementwise, EvalContext, Expr, Grid, Leaf, Literal, Positional, Source,
                       as_expr, walk)
    from .linalg import Matmul
    from .manip import Assign, AssignPoints, BroadcastTo, Concat, Index, Permute, Reshape
    from .plan import Plan, make_plan
    from .reduce import ArgReduce, Cumulative, Reduce
    from .region import Region, full_region, region_shape

#: public name -> the module of this package that defines it
_MODULES = {
    **dict.fromkeys(["Sink", "compute", "stream"], "evaluate"),
    **dict.fromkeys(["Elementwise", "EvalContext", "Expr", "Grid", "Leaf", "Literal",
                     "Positional", "Source", "as_expr", "walk"], "expr"),
    "Matmul": "linalg",
    **dict.fromkeys(["Assign", "AssignPoints", "BroadcastTo", "Concat", "Index", "Permute",
                     "Reshape"], "manip"),
    **dict.fromkeys(["Plan", "make_plan"], "plan"),
    **dict.fromkeys(["ArgReduce", "Cumulative", "Reduce"], "reduce"),
    **dict.fromkeys(["Region", "full_region", "region_shape"], "region"),
}

__all__ = ["Expr", "Leaf", "Literal", "Positional", "Elementwise", "Reduce", "ArgReduce", "Cumulative",
           "Index", "Assign", "AssignPoints", "Permute", "BroadcastTo", "Concat", "Reshape", "Matmul", "Source", "Grid",
           "EvalContext", "Plan", "make_plan", "compute", "stream", "Sink", "Region",
           "full_region", "region_shape", "as_expr", "walk"]


__getattr__, __dir__ = lazy_names(__name__, _MODULES, globals(), __all__)
