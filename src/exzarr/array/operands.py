"""Helpers shared by the namespace modules: operands as expressions, axes, dtypes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..compute import Expr, Literal
from .readable import lazy, to_expr

__all__ = ["_xnp", "_ex", "_axis", "_full", "_result_dtype", "_wrap_result"]


def _xnp() -> Any:
    import array_api_compat.numpy as xnp
    return xnp


def _ex(x: Any) -> Expr:
    """An expression for an array argument (scalars become 0-d literals)."""
    e = to_expr(x)
    return e if isinstance(e, Expr) else Literal(np.asarray(e))


def _axis(a: int, ndim: int) -> int:
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def _full(shape: tuple[int, ...]) -> list[Any]:
    return [slice(0, n, 1) for n in shape]


def _result_dtype(exprs: Sequence[Expr]) -> np.dtype:
    return np.result_type(*[np.ones(1, e.dtype) for e in exprs])


def _wrap_result(out: Any) -> Any:
    if isinstance(out, np.ndarray):
        return lazy(Literal(out))
    if isinstance(out, tuple):
        return type(out)(*[_wrap_result(o) for o in out]) if hasattr(out, "_fields") \
            else tuple(_wrap_result(o) for o in out)
    return out
