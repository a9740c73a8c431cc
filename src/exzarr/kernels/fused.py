"""Fused elementwise kernels: a chain of arithmetic on floating-point inputs compiled into
one Numba ufunc, so a block is computed in one pass with no temporaries.

A *recipe* describes the chain: a tuple of steps ``(op, dtype, operands)``, each operand
``("in", i)`` (the i-th input array), ``("step", j)`` (an earlier step) or
``("const", value)``; the last step is the result.  Every step casts its operands to its
own dtype first, which is how NumPy computes a float chain (NEP 50: Python scalars take
the array's dtype), so the fused result has NumPy's dtype and, for ``+ - * /``, ``sqrt``,
``abs``, ``min``/``max``, bit-identical values; transcendental functions (``exp``,
``log``, ``sin``...) come from the C math library and may differ from NumPy's in the
last unit.  :func:`reference` evaluates the same recipe with NumPy ufuncs (the oracle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .jit import enabled

__all__ = ["SCALAR_OPS", "Recipe", "compiled", "reference", "enabled"]

#: op name -> scalar Python/Numba template over operands ``{0}``, ``{1}``
SCALAR_OPS: dict[str, str] = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
    "divide": "{0} / {1}", "pow": "{0} ** {1}", "negative": "-{0}", "positive": "+{0}", "abs": "abs({0})",
    "square": "{0} * {0}", "sqrt": "math.sqrt({0})", "exp": "math.exp({0})",
    "log": "math.log({0})", "sin": "math.sin({0})", "cos": "math.cos({0})",
    "tan": "math.tan({0})", "tanh": "math.tanh({0})",
    "maximum": "({0} if ({0} >= {1} or {0} != {0}) else {1})",
    "minimum": "({0} if ({0} <= {1} or {0} != {0}) else {1})",
}

Operand = tuple[str, Any]
Step = tuple[str, str, tuple[Operand, ...]]
Recipe = tuple[Step, ...]

_lock = threading.Lock()
_cache: dict[tuple[Recipe, int], Callable[..., Any]] = {}


def _source(recipe: Recipe, n_inputs: int) -> str:
    args = ", ".join(f"x{i}" for i in range(n_inputs))
    lines = [f"def fused({args}):"]
    for j, (op, dtype, operands) in enumerate(recipe):
        vals = []
        for kind, v in operands:
            ref = f"x{v}" if kind == "in" else f"t{v}" if kind == "step" else repr(float(v))
            vals.append(f"np.{dtype}({ref})")
        lines.append(f"    t{j} = np.{dtype}({SCALAR_OPS[op].format(*vals)})")
    lines.append(f"    return t{len(recipe) - 1}")
    return "\n".join(lines)


def compiled(recipe: Recipe, n_inputs: int) -> Callable[..., Any]:
    """The Numba ufunc computing ``recipe`` (compiled once per process and recipe; Numba
    specialises it on the input dtypes on first call).  Only call when :func:`enabled`."""
    key = (recipe, n_inputs)
    fn = _cache.get(key)
    if fn is None:
        with _lock:
            fn = _cache.get(key)
            if fn is None:
                import math

                import numba
                namespace: dict[str, Any] = {"np": np, "math": math}
                exec(_source(recipe, n_inputs), namespace)  # generated from SCALAR_OPS only
                fn = _cache[key] = numba.vectorize(nopython=True)(namespace["fused"])
    return fn


_NP = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
       "pow": np.power,
       "negative": np.negative, "positive": np.positive, "abs": np.abs,
       "square": np.square, "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "sin": np.sin,
       "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "maximum": np.maximum,
       "minimum": np.minimum}


def reference(recipe: Recipe, *inputs: np.ndarray) -> np.ndarray:
    """``recipe`` evaluated step by step with NumPy ufuncs (the test oracle)."""
    steps: list[np.ndarray] = []
    with np.errstate(all="ignore"):
        for op, dtype, operands in recipe:
            vals = [np.asarray(inputs[v] if k == "in" else steps[v] if k == "step" else v,
                               dtype=dtype) for k, v in operands]
            steps.append(np.asarray(_NP[op](*vals), dtype=dtype))
    return steps[-1]
