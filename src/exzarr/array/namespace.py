"""``exzarr.array_api`` (what ``z.__array_namespace__()`` returns): the Array API 2024.12
namespace over lazy exzarr arrays.

Its functions accept exzarr arrays, NumPy arrays and Python scalars and return **lazy**
exzarr arrays: shape and dtype known, nothing read until ``read()``/``np.asarray``/
``float()``... or ``to_zarr()``.  Elementwise functions, reductions, manipulation,
``matmul``/``tensordot``/``vecdot`` and the creation functions are lazy; functions whose
output shape depends on the data (``unique_*``, ``nonzero``, ``sort``, ``argsort``,
``searchsorted``, ``take_along_axis``, ``linalg.*``, ``fft.*``) evaluate their inputs and
return the result as a (small, in-memory) lazy array.  Inside each block the work is done
by ``array_api_compat.numpy``, so dtypes and semantics are NumPy's conforming ones.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..compute import ArgReduce, Cumulative, Elementwise, Index, Reduce
from ..compute.functions import Clip, Named
from .operands import _ex, _wrap_result, _xnp
from .readable import lazy, materialise, to_expr
from .xp_creation import (_like, _tri, arange, asarray, astype, can_cast, empty, eye, finfo, full_like,
                          from_dlpack, full, iinfo, linspace, meshgrid, ones, result_type, zeros)
from .xp_manipulation import (broadcast_arrays, broadcast_to, concat, expand_dims, flip,
                              matmul, matrix_transpose, moveaxis, permute_dims, repeat, reshape,
                              roll, squeeze, stack, take, tensordot, tile, unstack, vecdot)

__all__ = ["namespace", "API_VERSION", "SUPPORTED_VERSIONS", "ELEMENTWISE", "make_namespace"]

API_VERSION = "2024.12"
SUPPORTED_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")

UNARY = ("abs acos acosh asin asinh atan atanh bitwise_invert ceil conj cos cosh exp expm1 "
         "floor imag isfinite isinf isnan log log1p log2 log10 logical_not negative positive "
         "real reciprocal round sign signbit sin sinh square sqrt tan tanh trunc").split()
BINARY = ("add atan2 bitwise_and bitwise_left_shift bitwise_or bitwise_right_shift "
          "bitwise_xor copysign divide equal floor_divide greater greater_equal hypot less "
          "less_equal logaddexp logical_and logical_or logical_xor maximum minimum multiply "
          "nextafter not_equal pow remainder subtract").split()
ELEMENTWISE = tuple(UNARY + BINARY)
EAGER = ("unique_all unique_counts unique_inverse unique_values nonzero sort argsort "
         "searchsorted take_along_axis").split()


def _elementwise(name: str) -> Callable[..., Any]:
    fn = Named("array_api_compat.numpy", name)

    def f(*args: Any, **kwargs: Any) -> Any:
        return lazy(Elementwise(fn, [to_expr(a) for a in args], name, **kwargs))
    f.__name__ = name
    f.__doc__ = f"Lazy elementwise ``{name}`` (Array API)."
    return f


def _reduction(name: str) -> Callable[..., Any]:
    def f(x: Any, /, *, axis: int | Sequence[int] | None = None, keepdims: bool = False,
          dtype: Any = None, correction: float = 0.0) -> Any:
        e = _ex(x)
        if name in ("sum", "prod") and dtype is None:
            dtype = np.asarray(getattr(_xnp(), name)(np.ones(1, e.dtype))).dtype
        return lazy(Reduce(name, e, axis, keepdims, dtype, correction))
    f.__name__ = name
    return f


def _arg(name: str) -> Callable[..., Any]:
    def f(x: Any, /, *, axis: int | None = None, keepdims: bool = False) -> Any:
        return lazy(ArgReduce(name, _ex(x), axis, keepdims))
    f.__name__ = name
    return f


def _cumulative(name: str) -> Callable[..., Any]:
    def f(x: Any, /, *, axis: int | None = None, dtype: Any = None,
          include_initial: bool = False) -> Any:
        e = _ex(x)
        if dtype is None:
            dtype = np.asarray(getattr(_xnp(), name)(np.ones(1, e.dtype))).dtype
        return lazy(Cumulative(name, e, axis, dtype, include_initial))
    f.__name__ = name
    return f


def _eager(name: str, mod: Any = None) -> Callable[..., Any]:
    fn = getattr(mod if mod is not None else _xnp(), name)

    @functools.wraps(fn)
    def f(*args: Any, **kwargs: Any) -> Any:
        out = fn(*materialise(args), **{k: materialise(v) for k, v in kwargs.items()})
        return _wrap_result(out)
    return f


# -- elementwise with several operands ------------------------------------------------
def where(condition: Any, x1: Any, x2: Any, /) -> Any:
    return lazy(Elementwise(_xnp().where, [to_expr(condition), to_expr(x1), to_expr(x2)],
                            "where"))


def clip(x: Any, /, min: Any = None, max: Any = None) -> Any:
    e = _ex(x)
    if min is None and max is None:
        return lazy(e)
    ops: list[Any] = [e]
    if min is not None:
        ops.append(to_expr(min))
    if max is not None:
        ops.append(to_expr(max))
    return lazy(Elementwise(Clip(min is not None, max is not None), ops, "clip", shape=e.shape))


def count_nonzero(x: Any, /, *, axis: int | Sequence[int] | None = None,
                  keepdims: bool = False) -> Any:
    nz = Elementwise(np.not_equal, [_ex(x), 0], "nonzero?")
    return lazy(Reduce("sum", nz, axis, keepdims, np.int64))


def diff(x: Any, /, *, axis: int = -1, n: int = 1, prepend: Any = None,
         append: Any = None) -> Any:
    e = _ex(x)
    parts = [p for p in (prepend, e, append) if p is not None]
    if len(parts) > 1:
        e = _ex(concat([lazy(_ex(p)) for p in parts], axis=axis))
    ax = axis % e.ndim
    for _ in range(n):
        m = e.shape[ax]
        hi = [slice(0, s, 1) for s in e.shape]
        lo = list(hi)
        hi[ax] = slice(1, m, 1) if m else slice(0, 0, 1)
        lo[ax] = slice(0, max(m - 1, 0), 1)
        e = Elementwise(np.subtract, [Index(e, hi), Index(e, lo)], "diff")
    return lazy(e)


# -- the namespace module -------------------------------------------------------------
_DIRECT = {
    "where": where, "clip": clip, "astype": astype, "count_nonzero": count_nonzero,
    "diff": diff, "permute_dims": permute_dims, "matrix_transpose": matrix_transpose,
    "moveaxis": moveaxis, "expand_dims": expand_dims, "squeeze": squeeze, "flip": flip,
    "roll": roll, "repeat": repeat, "tile": tile, "take": take, "broadcast_to": broadcast_to,
    "broadcast_arrays": broadcast_arrays, "reshape": reshape, "concat": concat, "stack": stack,
    "unstack": unstack, "matmul": matmul, "tensordot": tensordot, "vecdot": vecdot,
    "full": full, "zeros": zeros, "ones": ones, "empty": empty, "arange": arange,
    "linspace": linspace, "eye": eye, "meshgrid": meshgrid, "asarray": asarray,
    "from_dlpack": from_dlpack, "result_type": result_type, "can_cast": can_cast,
    "finfo": finfo, "iinfo": iinfo, "tril": _tri(False), "triu": _tri(True),
}
_CONSTANTS = ("e inf nan newaxis pi bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
              "float32 float64 complex64 complex128 isdtype").split()

_cache: dict[str, types.ModuleType] = {}


class Info:
    """``__array_namespace_info__()``: what this namespace supports (CPU only)."""

    def capabilities(self) -> dict[str, Any]:
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": 64}

    def default_device(self) -> str:
        return "cpu"

    def devices(self) -> list[str]:
        return ["cpu"]

    def default_dtypes(self, *, device: Any = None) -> dict[str, Any]:
        return dict(_xnp().__array_namespace_info__().default_dtypes(device=device))

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, Any]:
        return dict(_xnp().__array_namespace_info__().dtypes(device=device, kind=kind))


def make_namespace() -> types.ModuleType:
    xnp = _xnp()
    ns = types.ModuleType("exzarr.array_api", __doc__)
    ns.__array_api_version__ = API_VERSION  # type: ignore[attr-defined]
    ns.__array_namespace_info__ = Info  # type: ignore[attr-defined]
    for name in _CONSTANTS:
        setattr(ns, name, getattr(xnp, name))
    for name in ELEMENTWISE:
        setattr(ns, name, _elementwise(name))
    for name in ("sum", "prod", "min", "max", "mean", "var", "std", "any", "all"):
        setattr(ns, name, _reduction(name))
    for name in ("argmin", "argmax"):
        setattr(ns, name, _arg(name))
    for name in ("cumulative_sum", "cumulative_prod"):
        setattr(ns, name, _cumulative(name))
    ns.full_like = full_like  # type: ignore[attr-defined]
    for name in ("zeros_like", "ones_like", "empty_like"):
        setattr(ns, name, _like(name))
    for name in EAGER:
        setattr(ns, name, _eager(name))
    for name, fn in _DIRECT.items():
        setattr(ns, name, fn)
    for sub in ("linalg", "fft"):
        mod = getattr(xnp, sub)
        subns = types.ModuleType(f"exzarr.array_api.{sub}")
        for name in dir(mod):
            if not name.startswith("_") and callable(getattr(mod, name)):
                setattr(subns, name, _eager(name, mod))
        if sub == "linalg":
            subns.matmul = matmul  # type: ignore[attr-defined]
            subns.matrix_transpose = matrix_transpose  # type: ignore[attr-defined]
            subns.tensordot = tensordot  # type: ignore[attr-defined]
            subns.vecdot = vecdot  # type: ignore[attr-defined]
        setattr(ns, sub, subns)
    return ns


def namespace(api_version: str | None = None) -> types.ModuleType:
    """The namespace; ``api_version`` must be one this namespace conforms to."""
    if api_version is not None and api_version not in SUPPORTED_VERSIONS:
        raise ValueError(f"exzarr's array API namespace implements versions "
                         f"{', '.join(SUPPORTED_VERSIONS)}; got api_version={api_version!r}")
    ns = _cache.get("ns")
    if ns is None:
        ns = _cache["ns"] = make_namespace()
    return ns
