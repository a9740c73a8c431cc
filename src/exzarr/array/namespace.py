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
import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..compute import (ArgReduce, BroadcastTo, Concat, Cumulative, Elementwise, Expr, Index,
                       Literal, Matmul, Permute, Positional, Reduce, Reshape)
from ..compute.functions import (Arange, AsType, Clip, Constant, Diagonal, Linspace, Named,
                                 Triangle)
from .readable import is_array, lazy, materialise, to_expr

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


def _xnp() -> Any:
    import array_api_compat.numpy as xnp
    return xnp


def _ex(x: Any) -> Expr:
    """An expression for an array argument (scalars become 0-d literals)."""
    e = to_expr(x)
    return e if isinstance(e, Expr) else Literal(np.asarray(e))


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


def _wrap_result(out: Any) -> Any:
    if isinstance(out, np.ndarray):
        return lazy(Literal(out))
    if isinstance(out, tuple):
        return type(out)(*[_wrap_result(o) for o in out]) if hasattr(out, "_fields") \
            else tuple(_wrap_result(o) for o in out)
    return out


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


def astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    e = _ex(x)
    dt = np.dtype(dtype)
    if dt == e.dtype and not copy:
        return lazy(e)
    return lazy(Elementwise(AsType(dt), [e], f"astype({dt})"))


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


# -- manipulation ---------------------------------------------------------------------
def _axis(a: int, ndim: int) -> int:
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def permute_dims(x: Any, /, axes: Sequence[int]) -> Any:
    e = _ex(x)
    return lazy(Permute(e, [_axis(int(a), e.ndim) for a in axes]))


def matrix_transpose(x: Any, /) -> Any:
    e = _ex(x)
    if e.ndim < 2:
        raise ValueError("matrix_transpose needs at least 2 dimensions")
    return lazy(Permute(e, tuple(range(e.ndim - 2)) + (e.ndim - 1, e.ndim - 2)))


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int], /) -> Any:
    e = _ex(x)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_axis(a, e.ndim) for a in src]
    dst = [_axis(a, e.ndim) for a in dst]
    order = [a for a in range(e.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return lazy(Permute(e, order))


def _full(shape: tuple[int, ...]) -> list[Any]:
    return [slice(0, n, 1) for n in shape]


def expand_dims(x: Any, /, *, axis: int | Sequence[int] = 0) -> Any:
    e = _ex(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    nd = e.ndim + len(axes)
    axes = sorted(_axis(a, nd) for a in axes)
    sel: list[Any] = _full(e.shape)
    for a in axes:
        sel.insert(a, None)
    return lazy(Index(e, sel))


def squeeze(x: Any, /, axis: int | Sequence[int]) -> Any:
    e = _ex(x)
    axes = {_axis(a, e.ndim) for a in ([axis] if isinstance(axis, int) else axis)}
    for a in axes:
        if e.shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of length {e.shape[a]}")
    return lazy(Index(e, [0 if d in axes else slice(0, n, 1) for d, n in enumerate(e.shape)]))


def flip(x: Any, /, *, axis: int | Sequence[int] | None = None) -> Any:
    e = _ex(x)
    axes = set(range(e.ndim)) if axis is None else \
        {_axis(a, e.ndim) for a in ([axis] if isinstance(axis, int) else axis)}
    return lazy(Index(e, [slice(n - 1, -1, -1) if d in axes and n else slice(0, n, 1)
                          for d, n in enumerate(e.shape)]))


def roll(x: Any, /, shift: int | Sequence[int], *, axis: int | Sequence[int] | None = None) -> Any:
    e = _ex(x)
    if axis is None:
        flat = Reshape(e, (e.size,))
        pos = (np.arange(e.size) - int(shift)) % max(e.size, 1)  # type: ignore[arg-type]
        return lazy(Reshape(Index(flat, [pos.astype(np.int64)]), e.shape))
    shifts = [shift] if isinstance(shift, int) else list(shift)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    total = dict.fromkeys(range(e.ndim), 0)
    for s, a in zip(shifts, axes):
        total[_axis(a, e.ndim)] += int(s)
    sel = [((np.arange(n) - total[d]) % n).astype(np.int64) if total[d] and n else
           slice(0, n, 1) for d, n in enumerate(e.shape)]
    return lazy(Index(e, sel))


def repeat(x: Any, repeats: int | Any, /, *, axis: int | None = None) -> Any:
    e = _ex(x)
    if axis is None:
        e = Reshape(e, (e.size,))
        axis = 0
    ax = _axis(axis, e.ndim)
    reps = np.asarray(materialise(repeats))
    pos = np.repeat(np.arange(e.shape[ax]), reps).astype(np.int64)
    sel: list[Any] = _full(e.shape)
    sel[ax] = pos
    return lazy(Index(e, sel))


def tile(x: Any, repetitions: Sequence[int], /) -> Any:
    e = _ex(x)
    reps = list(repetitions)
    nd = max(e.ndim, len(reps))
    reps = [1] * (nd - len(reps)) + reps
    if e.ndim < nd:
        e = Index(e, [None] * (nd - e.ndim) + _full(e.shape))
    sel = [(np.arange(n * r) % n).astype(np.int64) if r != 1 else slice(0, n, 1)
           for n, r in zip(e.shape, reps)]
    return lazy(Index(e, sel))


def take(x: Any, indices: Any, /, *, axis: int | None = None) -> Any:
    e = _ex(x)
    if axis is None:
        if e.ndim != 1:
            raise ValueError("take: axis is required for arrays of more than 1 dimension")
        axis = 0
    ax = _axis(axis, e.ndim)
    idx = np.asarray(materialise(indices)).astype(np.int64)
    if idx.ndim != 1:
        raise ValueError("take: indices must be 1-d")
    n = e.shape[ax]
    if ((idx < -n) | (idx >= n)).any():
        raise IndexError(f"take: index out of bounds for axis {ax} with size {n}")
    sel: list[Any] = _full(e.shape)
    sel[ax] = idx % max(n, 1)
    return lazy(Index(e, sel))


def broadcast_to(x: Any, /, shape: Sequence[int]) -> Any:
    return lazy(BroadcastTo(_ex(x), tuple(shape)))


def broadcast_arrays(*arrays: Any) -> list[Any]:
    exprs = [_ex(a) for a in arrays]
    shape = np.broadcast_shapes(*[e.shape for e in exprs])
    return [lazy(BroadcastTo(e, shape)) for e in exprs]


def reshape(x: Any, /, shape: Sequence[int], *, copy: bool | None = None) -> Any:
    e = _ex(x)
    shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape = tuple(e.size // known if s == -1 and known else s for s in shape)
    if copy is False and shape != e.shape:
        raise ValueError("reshape(copy=False): a lazy reshape is evaluated into new memory")
    return lazy(e) if shape == e.shape else lazy(Reshape(e, shape))


def _result_dtype(exprs: Sequence[Expr]) -> np.dtype:
    return np.result_type(*[np.ones(1, e.dtype) for e in exprs])


def concat(arrays: Sequence[Any], /, *, axis: int | None = 0) -> Any:
    exprs = [_ex(a) for a in arrays]
    if not exprs:
        raise ValueError("concat needs at least one array")
    if axis is None:
        exprs = [Reshape(e, (e.size,)) for e in exprs]
        axis = 0
    ax = _axis(axis, exprs[0].ndim)
    dt = _result_dtype(exprs)
    return lazy(Concat(exprs, ax, dt))


def stack(arrays: Sequence[Any], /, *, axis: int = 0) -> Any:
    exprs = [_ex(a) for a in arrays]
    if not exprs:
        raise ValueError("stack needs at least one array")
    if len({e.shape for e in exprs}) != 1:
        raise ValueError(f"stack: all arrays must have the same shape, got "
                         f"{[e.shape for e in exprs]}")
    ax = _axis(axis, exprs[0].ndim + 1)
    return lazy(Concat([Index(e, _full(e.shape)[:ax] + [None] + _full(e.shape)[ax:])
                        for e in exprs], ax, _result_dtype(exprs)))


def unstack(x: Any, /, *, axis: int = 0) -> tuple[Any, ...]:
    e = _ex(x)
    ax = _axis(axis, e.ndim)
    return tuple(lazy(Index(e, [i if d == ax else slice(0, n, 1) for d, n in enumerate(e.shape)]))
                 for i in range(e.shape[ax]))


# -- linear algebra -------------------------------------------------------------------
def matmul(x1: Any, x2: Any, /) -> Any:
    a, b = _ex(x1), _ex(x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least 1 dimension")
    a2 = Index(a, [None, slice(0, a.shape[0], 1)]) if a.ndim == 1 else a
    b2 = Index(b, [slice(0, b.shape[0], 1), None]) if b.ndim == 1 else b
    out: Expr = Matmul(a2, b2)
    if a.ndim == 1 or b.ndim == 1:
        sel: list[Any] = _full(out.shape)
        if a.ndim == 1:
            sel[-2] = 0
        if b.ndim == 1:
            sel[-1] = 0
        out = Index(out, sel)
    return lazy(out)


def tensordot(x1: Any, x2: Any, /, *, axes: int | tuple[Sequence[int], Sequence[int]] = 2) -> Any:
    a, b = _ex(x1), _ex(x2)
    if isinstance(axes, int):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a = [_axis(i, a.ndim) for i in axes[0]]
        ax_b = [_axis(i, b.ndim) for i in axes[1]]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape mismatch on contracted axes {i} and {j}")
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    # a as (free_a..., contracted..., 1 x free_b) and b as (1 x free_a, contracted..., free_b)
    pa = Permute(a, free_a + ax_a)
    pb = Permute(b, ax_b + free_b)
    ea = Index(pa, _full(pa.shape) + [None] * len(free_b))
    eb = Index(pb, [None] * len(free_a) + _full(pb.shape))
    prod = Elementwise(np.multiply, [ea, eb], "multiply")
    k = len(ax_a)
    red = tuple(range(len(free_a), len(free_a) + k))
    dt = np.asarray(np.multiply(np.ones(1, a.dtype), np.ones(1, b.dtype))).dtype
    return lazy(Reduce("sum", prod, red, False, dt))


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    a, b = _ex(x1), _ex(x2)
    conj = Elementwise(np.conj, [a], "conj") if a.dtype.kind == "c" else a
    prod = Elementwise(np.multiply, [conj, b], "multiply")
    if prod.shape[axis] != a.shape[axis] or a.shape[axis] != b.shape[axis]:
        raise ValueError("vecdot: the contracted axes differ in length")
    return lazy(Reduce("sum", prod, axis, False, prod.dtype))


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
    def f(x: Any, /, *args: Any, dtype: Any = None, device: Any = None) -> Any:
        e = _ex(x)
        dt = dtype if dtype is not None else e.dtype
        if name == "full_like":
            return full(e.shape, args[0], dtype=dt)
        return {"zeros_like": zeros, "ones_like": ones, "empty_like": empty}[name](e.shape, dtype=dt)
    f.__name__ = name
    return f


def arange(start: float, /, stop: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None) -> Any:
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    n = max(0, math.ceil((stop - start) / step))
    dt = np.asarray(_xnp().arange(start, start + step, step, dtype=dtype)).dtype
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
        return obj
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


def finfo(t: Any, /) -> Any:
    return _xnp().finfo(t.dtype if is_array(t) else t)


def iinfo(t: Any, /) -> Any:
    return _xnp().iinfo(t.dtype if is_array(t) else t)


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


def make_namespace() -> types.ModuleType:
    xnp = _xnp()
    ns = types.ModuleType("exzarr.array_api", __doc__)
    ns.__array_api_version__ = API_VERSION  # type: ignore[attr-defined]
    ns.__array_namespace_info__ = xnp.__array_namespace_info__  # type: ignore[attr-defined]
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
    for name in ("zeros_like", "ones_like", "empty_like", "full_like"):
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
