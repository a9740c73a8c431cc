"""NumPy's protocols on exzarr arrays: ``__array_ufunc__`` and ``__array_function__``.

ufuncs and the NumPy functions the lazy engine covers build an expression, evaluate it
out of core (blocks, bounded memory) and return a NumPy result, as NumPy would.
``out=`` an exzarr array streams the result into it chunk by chunk.  Functions that only
need shape and dtype (``np.shape``, ``np.ndim``, ``np.size``, ``np.result_type``...)
read nothing.  Functions that would write into an exzarr array in place through NumPy
(``np.put``, ``np.place``, ``np.putmask``, ``np.fill_diagonal``, ``ufunc.at``) raise
``TypeError`` (assign with ``z[...] = ...`` instead); ``np.copyto`` writes for real.
Anything else evaluates its exzarr arguments and calls NumPy (with a warning, once, when
an argument is larger than ``config.memory_limit``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import config as _config
from ..compute import Elementwise, Expr, compute
from . import namespace as ns
from .readable import is_array, lazy, materialise, to_expr

__all__ = ["array_ufunc", "array_function"]

_REDUCE = {np.add: "sum", np.multiply: "prod", np.minimum: "min", np.maximum: "max",
           np.logical_and: "all", np.logical_or: "any"}
_ACCUMULATE = {np.add: "cumulative_sum", np.multiply: "cumulative_prod"}
_NO_VALUE = getattr(np, "_NoValue", object())
_warned: set[str] = set()


def _result(expr: Expr) -> Any:
    value = compute(expr)
    return value[()] if value.ndim == 0 else value


def _deliver(x: Any, out: Any) -> Any:
    """Evaluate lazy ``x`` into ``out`` (an exzarr array, a NumPy array or None)."""
    if isinstance(out, tuple):
        if len(out) != 1:
            raise TypeError("exzarr evaluates one output at a time")
        out = out[0]
    expr = x._as_expr()
    if out is None:
        return _result(expr)
    if is_array(out):
        out[...] = x
        return out
    compute(expr, out=np.asarray(out) if out.shape == expr.shape else None)
    return out


def _eager(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    limit = _config.get().memory_limit
    for a in list(args) + list(kwargs.values()):
        if is_array(a) and a.nbytes > limit and getattr(fn, "__name__", "") not in _warned:
            name = getattr(fn, "__name__", repr(fn))
            _warned.add(name)
            warnings.warn(f"numpy.{name} is not computed out of core by exzarr: its exzarr "
                          f"argument of {a.nbytes} bytes (more than memory_limit={limit}) is "
                          f"read into memory whole", ResourceWarning, stacklevel=4)
    out = kwargs.pop("out", None)
    targets = out if isinstance(out, tuple) else (out,) if out is not None else ()
    if any(is_array(t) for t in targets):
        result = fn(*materialise(args), **{k: materialise(v) for k, v in kwargs.items()})
        results = result if isinstance(result, tuple) else (result,)
        for t, r in zip(targets, results):
            t[...] = r
        return out
    if out is not None:
        kwargs["out"] = out
    return fn(*materialise(args), **{k: materialise(v) for k, v in kwargs.items()})


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    out = kwargs.get("out")
    if method == "at":
        if inputs and is_array(inputs[0]):
            raise TypeError(f"{ufunc.__name__}.at cannot update an exzarr array in place; "
                            f"read the region, apply it, and assign: z[idx] = values")
        return _eager(getattr(ufunc, method), inputs, dict(kwargs))
    simple = all(k in ("out", "dtype", "casting") for k in kwargs) and \
        kwargs.get("casting", "same_kind") == "same_kind"
    if method == "__call__" and ufunc.nout == 1 and simple:
        dt = {k: v for k, v in kwargs.items() if k == "dtype" and v is not None}
        expr = Elementwise(ufunc, [to_expr(i) for i in inputs], ufunc.__name__, **dt)
        return _deliver(lazy(expr), out)
    if method == "reduce" and ufunc in _REDUCE and len(inputs) == 1 and \
            all(k in ("out", "axis", "dtype", "keepdims") for k in kwargs):
        fn = getattr(ns.namespace(), _REDUCE[ufunc])
        kw: dict[str, Any] = {"axis": kwargs.get("axis", 0), "keepdims": kwargs.get("keepdims", False)}
        if kwargs.get("dtype") is not None and _REDUCE[ufunc] in ("sum", "prod"):
            kw["dtype"] = kwargs["dtype"]
        return _deliver(fn(inputs[0], **kw), out)
    if method == "accumulate" and ufunc in _ACCUMULATE and len(inputs) == 1 and \
            all(k in ("out", "axis", "dtype") for k in kwargs):
        fn = getattr(ns.namespace(), _ACCUMULATE[ufunc])
        return _deliver(fn(inputs[0], axis=kwargs.get("axis", 0), dtype=kwargs.get("dtype")), out)
    return _eager(getattr(ufunc, method), inputs, dict(kwargs))


# -- __array_function__ -----------------------------------------------------------------
def _dtype_of(a: Any) -> Any:
    return a.dtype if is_array(a) else a


_METADATA: dict[Callable[..., Any], Callable[..., Any]] = {
    np.shape: lambda a: tuple(a.shape),
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.result_type: lambda *a: np.result_type(*[_dtype_of(x) for x in a]),
    np.iscomplexobj: lambda a: np.dtype(a.dtype).kind == "c",
    np.isrealobj: lambda a: np.dtype(a.dtype).kind != "c",
    np.min_scalar_type: lambda a: np.min_scalar_type(a.read()[()]) if a.ndim == 0 else a.dtype,
}


def _refuse_write(name: str) -> Callable[..., Any]:
    def f(a: Any, *args: Any, **kwargs: Any) -> Any:
        if is_array(a):
            raise TypeError(f"numpy.{name} cannot write into an exzarr array in place; assign "
                            f"with z[...] = ... (z[idx] = values, z[mask] = values)")
        return getattr(np, name)(a, *materialise(args), **materialise(kwargs))
    return f


def _copyto(dst: Any, src: Any, casting: Any = "same_kind", where: Any = True) -> None:
    if where is not True:
        if is_array(dst):
            raise TypeError("numpy.copyto(where=...) into an exzarr array: assign "
                            "z[mask] = values instead")
        np.copyto(dst, materialise(src), casting=casting, where=materialise(where))
        return
    if is_array(dst):
        dst[...] = src
        return
    np.copyto(dst, materialise(src), casting=casting)


def _red(name: str) -> Callable[..., Any]:
    def f(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
          keepdims: Any = _NO_VALUE, **kw: Any) -> Any:
        extra = {k: v for k, v in kw.items() if v is not _NO_VALUE}
        ddof = extra.pop("ddof", 0)
        if extra or (dtype is not None and name not in ("sum", "prod", "mean")):
            return None
        fn = getattr(ns.namespace(), name)
        args: dict[str, Any] = {"axis": axis, "keepdims": bool(keepdims) if keepdims is not _NO_VALUE else False}
        if dtype is not None:
            args["dtype"] = dtype
        if name in ("var", "std"):
            args["correction"] = ddof
        return _deliver(fn(a, **args), out)
    return f


def _argred(name: str) -> Callable[..., Any]:
    def f(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = _NO_VALUE) -> Any:
        fn = getattr(ns.namespace(), name)
        kd = bool(keepdims) if keepdims is not _NO_VALUE else False
        return _deliver(fn(a, axis=axis, keepdims=kd), out)
    return f


def _cum(name: str) -> Callable[..., Any]:
    def f(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        x = a
        if axis is None:
            x = ns.reshape(a, (-1,))
            axis = 0
        return _deliver(getattr(ns.namespace(), name)(x, axis=axis, dtype=dtype), out)
    return f


def _lazy_fn(builder: Callable[..., Any]) -> Callable[..., Any]:
    def f(*args: Any, **kwargs: Any) -> Any:
        out = kwargs.pop("out", None)
        built = builder(*args, **kwargs)
        return None if built is None else _deliver(built, out)
    return f


def _transpose(a: Any, axes: Any = None) -> Any:
    perm = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
    return ns.permute_dims(a, perm)


def _dot(a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return ns._elementwise("multiply")(a, b)
    if np.ndim(b) > 2:
        return None
    return ns.matmul(a, b)


def _np_where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return None
    return ns.where(condition, x, y)


_LAZY: dict[Callable[..., Any], Callable[..., Any]] = {
    np.transpose: _transpose,
    np.moveaxis: lambda a, source, destination: ns.moveaxis(a, source, destination),
    np.reshape: lambda a, shape=None, order="C", **kw: ns.reshape(a, (shape,) if isinstance(shape, int) else shape) if order == "C" and not kw else None,
    np.concatenate: lambda arrays, axis=0, **kw: ns.concat(list(arrays), axis=axis) if not kw else None,
    np.stack: lambda arrays, axis=0, **kw: ns.stack(list(arrays), axis=axis) if not kw else None,
    np.expand_dims: lambda a, axis: ns.expand_dims(a, axis=axis),
    np.squeeze: lambda a, axis=None: ns.squeeze(a, axis if axis is not None else tuple(i for i, n in enumerate(np.shape(a)) if n == 1)),
    np.flip: lambda m, axis=None: ns.flip(m, axis=axis),
    np.broadcast_to: lambda array, shape, subok=False: ns.broadcast_to(array, (shape,) if isinstance(shape, int) else shape),
    np.where: _np_where,
    np.clip: lambda a, a_min=None, a_max=None, **kw: ns.clip(a, kw.pop("min", a_min), kw.pop("max", a_max)) if not kw else None,
    np.dot: _dot,
    np.tensordot: lambda a, b, axes=2: ns.tensordot(a, b, axes=axes),
    np.round: lambda a, decimals=0: ns._elementwise("round")(a) if decimals == 0 else None,
    np.count_nonzero: lambda a, axis=None, *, keepdims=False: ns.count_nonzero(a, axis=axis, keepdims=keepdims),
    np.roll: lambda a, shift, axis=None: ns.roll(a, shift, axis=axis),
    np.repeat: lambda a, repeats, axis=None: ns.repeat(a, repeats, axis=axis),
    np.tile: lambda A, reps: ns.tile(A, (reps,) if isinstance(reps, int) else reps),
    np.take: lambda a, indices, axis=None, mode="raise": ns.take(a, indices, axis=axis) if mode == "raise" and np.ndim(indices) == 1 and (axis is not None or np.ndim(a) == 1) else None,
    np.astype: lambda x, dtype, /, *, copy=True, **kw: ns.astype(x, dtype, copy=copy),
}

_HANDLERS: dict[Callable[..., Any], Callable[..., Any]] = {
    **{getattr(np, n): _red(n) for n in ("sum", "prod", "mean", "var", "std", "any", "all")},
    np.min: _red("min"), np.max: _red("max"), np.amin: _red("min"), np.amax: _red("max"),
    np.argmin: _argred("argmin"), np.argmax: _argred("argmax"),
    np.cumsum: _cum("cumulative_sum"), np.cumprod: _cum("cumulative_prod"),
    **{fn: _lazy_fn(b) for fn, b in _LAZY.items()},
}


def array_function(func: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    meta = _METADATA.get(func)
    if meta is not None:
        try:
            return meta(*args, **kwargs)
        except TypeError:
            pass
    if func is np.copyto:
        return _copyto(*args, **kwargs)
    if func in (np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis):
        return _refuse_write(func.__name__)(*args, **kwargs)
    handler = _HANDLERS.get(func)
    if handler is not None:
        try:
            result = handler(*args, **kwargs)
        except TypeError:
            result = None
        if result is not None or func is np.copyto:
            return result
    return _eager(func, args, dict(kwargs))
