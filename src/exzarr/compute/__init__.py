"""Lazy computation over abstract sources: expressions, block planning under a memory
budget, and evaluation on the executor's threads.

Knows nothing of stores: a stored array takes part as a :class:`Source` (anything with
``shape``, ``dtype``, ``read(region)``, ``grid()`` and ``identity()``) that the array
layer provides.  Nothing here reads until :func:`compute` or :func:`stream` runs a plan.
"""

from .evaluate import Sink, compute, stream
from .expr import (Elementwise, EvalContext, Expr, Grid, Leaf, Literal, Positional, Source,
                   as_expr, walk)
from .linalg import Matmul
from .manip import Assign, AssignPoints, BroadcastTo, Concat, Index, Permute, Reshape
from .plan import Plan, make_plan
from .reduce import ArgReduce, Cumulative, Reduce
from .region import Region, full_region, region_shape

__all__ = ["Expr", "Leaf", "Literal", "Positional", "Elementwise", "Reduce", "ArgReduce", "Cumulative",
           "Index", "Assign", "AssignPoints", "Permute", "BroadcastTo", "Concat", "Reshape", "Matmul", "Source", "Grid",
           "EvalContext", "Plan", "make_plan", "compute", "stream", "Sink", "Region",
           "full_region", "region_shape", "as_expr", "walk"]
