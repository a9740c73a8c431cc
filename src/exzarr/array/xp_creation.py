"""The Array API's creation and data-type functions: creation is lazy (values are
computed from positions when read, nothing is held in memory)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compute import BroadcastTo, Elementwise, Index, Literal, Positional
from ..compute.functions import Arange, AsType, Constant, Diagonal, Linspace, Triangle
from .operands import _ex, _xnp
from .readable import is_array, lazy

# -- creation -------------------------------------------------------------------------
def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _default_float() -> np.dtype:
    return np.dtype(np.float64)


def full(shape: int | Sequence[int], fill_value: Any, *, dtype: Any = None,
         device: Any = None) -> Any:
    dt = np.dtype(dtype) if dtype is not None else np.asarray(
        _xnp().full((), fill_value)).dtype
    value = np.asarray(fill_value, dtype=dt)
    return lazy(Positional(_shape(shape), dt, Constant(value), f"full({fill_value!r})"))


def zeros(shape: int | Sequence[int], *, dtype: Any = None, device: Any = None) -> Any:
    return full(shape, 0, dtype=dtype or _default_float())


def ones(shape: int | Sequence[int], *, dtype: Any = None, device: Any = None) -> Any:
    return full(shape, 1, dtype=dtype or _default_float())


def empty(shape: int | Sequence[int], *, dtype: Any = None, device: Any = None) -> Any:
    return zeros(shape, dtype=dtype)


def _like(name: str) -> Callable[..., Any]:
    def f(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
        e = _ex(x)
        dt = dtype if dtype is not None else e.dtype
        return {"zeros_like": zeros, "ones_like": ones, "empty_like": empty}[name](e.shape, dtype=dt)
    f.__name__ = name
    return f


def full_like(x: Any, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Any:
    e = _ex(x)
    return full(e.shape, fill_value, dtype=dtype if dtype is not None else e.dtype)


def arange(start: float, /, stop: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None) -> Any:
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    n = max(0, math.ceil((stop - start) / step))
    if dtype is not None:
        dt = np.dtype(dtype)
    else:  # the default float when any argument is a float, else the default integer
        dt = np.dtype(np.float64 if any(isinstance(v, float) for v in (start, stop, step))
                      else np.int64)
    return lazy(Positional((int(n),), dt, Arange(start, step), "arange"))


def linspace(start: complex, stop: complex, /, num: int, *, dtype: Any = None,
             device: Any = None, endpoint: bool = True) -> Any:
    dt = np.asarray(_xnp().linspace(start, stop, 2, dtype=dtype, endpoint=endpoint)).dtype
    div = (num - 1) if endpoint else num
    step = (stop - start) / div if div > 0 else 0
    return lazy(Positional((int(num),), dt, Linspace(start, stop, step, int(num), endpoint),
                           "linspace"))


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None,
        device: Any = None) -> Any:
    m = n_rows if n_cols is None else n_cols
    dt = np.dtype(dtype) if dtype is not None else _default_float()
    return lazy(Positional((n_rows, m), dt, Diagonal(k), "eye"))


def _tri(upper: bool) -> Callable[..., Any]:
    def f(x: Any, /, *, k: int = 0) -> Any:
        e = _ex(x)
        if e.ndim < 2:
            raise ValueError("tril/triu need at least 2 dimensions")
        r, c = e.shape[-2:]
        keep = Positional((r, c), bool, Triangle(k, upper), "triu" if upper else "tril")
        return lazy(Elementwise(np.where, [keep, e, Literal(np.zeros((), e.dtype))],
                                "triu" if upper else "tril"))
    f.__name__ = "triu" if upper else "tril"
    return f


def meshgrid(*arrays: Any, indexing: str = "xy") -> list[Any]:
    exprs = [_ex(a) for a in arrays]
    n = len(exprs)
    shape = [e.shape[0] for e in exprs]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, e in enumerate(exprs):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        sel: list[Any] = [None] * n
        sel[pos] = slice(0, e.shape[0], 1)
        out.append(lazy(BroadcastTo(Index(e, sel), tuple(shape))))
    return out


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: bool | None = None) -> Any:
    if is_array(obj):
        e = obj._as_expr()
        if dtype is not None and np.dtype(dtype) != e.dtype:
            if copy is False:
                raise ValueError("asarray(copy=False) cannot change the dtype without a copy")
            return astype(obj, dtype)
        # a copy is a new array object: assigning into ``obj`` later leaves it unchanged
        return lazy(e) if copy else obj
    value = np.asarray(obj, dtype=dtype, copy=copy) if copy is not None else \
        np.asarray(obj, dtype=dtype)
    return lazy(Literal(value))


def from_dlpack(x: Any, /, *, device: Any = None, copy: bool | None = None) -> Any:
    return lazy(Literal(np.from_dlpack(x, copy=copy) if copy is not None else np.from_dlpack(x)))


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    args = [a.dtype if is_array(a) else a for a in arrays_and_dtypes]
    return _xnp().result_type(*args)


def can_cast(from_: Any, to: Any, /) -> bool:
    return bool(_xnp().can_cast(from_.dtype if is_array(from_) else from_, to))


@dataclass(frozen=True)
class FloatInfo:
    """``finfo``: the standard's fields as Python floats."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: np.dtype


def finfo(t: Any, /) -> FloatInfo:
    fi = _xnp().finfo(t.dtype if is_array(t) else t)
    return FloatInfo(int(fi.bits), float(fi.eps), float(fi.max), float(fi.min),
                     float(fi.smallest_normal), fi.dtype)


def iinfo(t: Any, /) -> Any:
    return _xnp().iinfo(t.dtype if is_array(t) else t)


def astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    e = _ex(x)
    dt = np.dtype(dtype)
    if dt == e.dtype and not copy:
        return lazy(e)
    return lazy(Elementwise(AsType(dt), [e], f"astype({dt})"))
