"""Unpickling object chunks (numcodecs' ``pickle`` filter) without running stored code.

A pickle names the callables that rebuild it, so unpickling untrusted bytes runs whatever
they name (``os.system`` included).  :func:`safe_loads` unpickles with an allow-list of
what numcodecs' ``Pickle`` codec writes for object arrays: NumPy arrays, dtypes and scalars
(``numpy._core.multiarray._reconstruct``/``scalar``, ``numpy._core.numeric._frombuffer``,
``numpy.dtype``, the StringDType helper; the ``numpy.core`` spellings of numpy 1), builtins
that pickle by reference (``set``, ``frozenset``, ``complex``, ``bytearray``, and
``_codecs.encode`` for bytes in protocols < 3), ``datetime`` types and ``decimal.Decimal``.
Any other global raises :class:`~exzarr.errors.UnsafeDataError`.

NumPy's own ``__setstate__`` trusts its input (a list shorter than the shape crashes the
interpreter; a structured dtype whose fields lie outside the item corrupts memory), so the
NumPy callables are replaced by checking stand-ins: arrays and dtypes are first built as
placeholders, their states are validated (shape against the data actually present, only
non-structured dtypes), and the placeholders are swapped for the real objects at the end.
Everything built comes from bytes in the stream, so the result is bounded by a constant
factor of the chunk's (already bounded) size.
"""

from __future__ import annotations

import datetime
import decimal
import io
import pickle
from typing import Any, Callable

import numpy as np

from ..errors import UnsafeDataError
from ._base import DecodeContext

__all__ = ["safe_loads", "ALLOWED_GLOBALS"]

_MAX_DEPTH = 200
_NP_MODULES = ("numpy._core", "numpy.core")


class _Refused(Exception):
    """A malformed or disallowed construct inside the pickle (becomes a typed error)."""


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` (only a valid first argument of ``_reconstruct``)."""

    __slots__ = ()

    def __setstate__(self, state: object) -> None:
        raise _Refused("state set on numpy.ndarray")


_NDARRAY = _NdarrayToken()


class _PendingDtype:
    """``numpy.dtype(spec, align, copy)`` whose pickled state is checked before use."""

    __slots__ = ("dtype",)

    def __init__(self, spec: object, align: object = False, copy: object = False) -> None:
        if not isinstance(spec, str) or len(spec) > 64 or not isinstance(align, bool):
            raise _Refused(f"numpy.dtype{(spec, align, copy)!r} is not a pickled dtype")
        try:
            self.dtype = np.dtype(spec, align=align, copy=True)
        except (TypeError, ValueError) as e:
            raise _Refused(f"numpy.dtype({spec!r}): {e}") from None

    @classmethod
    def of(cls, dtype: np.dtype) -> "_PendingDtype":
        """A placeholder for a dtype made by a checked helper (its state is checked too)."""
        new = object.__new__(cls)
        new.dtype = dtype
        return new

    def __setstate__(self, state: object) -> None:
        if self.dtype.kind == "T" or not isinstance(state, tuple) or len(state) not in (8, 9) \
                or state[0] not in (3, 4):
            raise _Refused("malformed pickled dtype state")
        if state[2] is not None or state[3] is not None or state[4] is not None:
            raise _Refused("structured or subarray dtypes are not read from pickled chunks")
        if state[1] not in ("<", ">", "|", "="):
            raise _Refused(f"pickled dtype has byte order {state[1]!r}")
        self.dtype.__setstate__(state)  # type: ignore[attr-defined]  # simple states only


def _dtype(obj: object) -> np.dtype:
    if isinstance(obj, _PendingDtype):
        return obj.dtype
    if isinstance(obj, np.dtype):
        return obj
    raise _Refused(f"expected a dtype, got {type(obj).__name__}")


def _shape(obj: object) -> tuple[int, ...]:
    if not isinstance(obj, tuple) or len(obj) > 64 or \
            not all(type(n) is int and n >= 0 for n in obj):
        raise _Refused(f"malformed array shape {obj!r}")
    return obj


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class _PendingArray:
    """What ``numpy._core.multiarray._reconstruct`` gives: an array once its state is set."""

    __slots__ = ("array",)

    def __init__(self, cls: object, shape: object = (0,), code: object = b"b") -> None:
        if cls is not _NDARRAY:
            raise _Refused("_reconstruct of something other than numpy.ndarray")
        self.array: np.ndarray | None = None

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("malformed pickled array state")
        version, shape, dt, fortran, data = state if len(state) == 5 else (1, *state)
        shape = _shape(shape)
        dtype = _dtype(dt)
        n = _count(shape)
        if not isinstance(fortran, bool) or dtype.names is not None or dtype.subdtype is not None:
            raise _Refused("pickled array with a structured dtype or bad order flag")
        if dtype.hasobject or dtype.kind == "T":  # items as a list (objects, StringDType)
            if not isinstance(data, list) or len(data) != n:
                raise _Refused(f"pickled {dtype} array of shape {shape} has "
                               f"{len(data) if isinstance(data, list) else 'no'} items")
        elif not isinstance(data, (bytes, bytearray)) or len(data) != n * dtype.itemsize:
            raise _Refused(f"pickled {dtype} array of shape {shape} has "
                           f"{len(data) if isinstance(data, (bytes, bytearray)) else 'no'} "
                           f"bytes, not {n * dtype.itemsize}")
        arr = _real("multiarray", "_reconstruct")(np.ndarray, (0,), b"b")
        arr.__setstate__((version, shape, dtype, fortran, data))  # validated above
        self.array = arr


def _real(module: str, name: str) -> Any:
    import importlib

    mod = importlib.import_module(f"numpy._core.{module}")
    return getattr(mod, name)


def _scalar(dt: object, data: object = None) -> Any:
    dtype = _dtype(dt)
    if dtype.hasobject:
        return data
    if dtype.names is not None or not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise _Refused(f"malformed pickled {dtype} scalar")
    return _real("multiarray", "scalar")(dtype, data)


def _frombuffer(buf: object, dt: object, shape: object, order: object) -> _PendingArray:
    dtype, shape = _dtype(dt), _shape(shape)
    if isinstance(buf, pickle.PickleBuffer):
        buf = buf.raw()
    if not isinstance(buf, (bytes, bytearray, memoryview)) or order not in ("C", "F") \
            or dtype.hasobject or dtype.names is not None \
            or memoryview(buf).nbytes != _count(shape) * dtype.itemsize:
        raise _Refused(f"malformed pickled {dtype} array buffer")
    held = object.__new__(_PendingArray)  # a real array on the stack could be given a state
    held.array = np.frombuffer(buf, dtype=dtype).reshape(shape, order=order)
    return held


def _stringdtype(coerce: object, *args: object, **kwargs: object) -> _PendingDtype:
    if coerce not in (0, 1) or type(coerce) not in (bool, int):
        raise _Refused("malformed pickled StringDType")
    return _PendingDtype.of(_real("_internal", "_convert_to_stringdtype_kwargs")(coerce, *args, **kwargs))


def _bytearray(*args: object) -> bytearray:
    if len(args) == 0:
        return bytearray()
    if isinstance(args[0], (bytes, bytearray)) and len(args) == 1:
        return bytearray(args[0])
    if isinstance(args[0], str) and args[1:] in (("latin1",), ("latin-1",)):
        return bytearray(args[0], "latin1")
    raise _Refused("bytearray from something other than bytes")


def _codecs_encode(text: object, encoding: object = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused("_codecs.encode other than of text to latin1")
    return text.encode("latin1")


def _complex(real: object = 0, imag: object = 0) -> complex:
    if not isinstance(real, (int, float)) or not isinstance(imag, (int, float)):
        raise _Refused("complex from something other than numbers")
    return complex(real, imag)


class _Callable:
    """An allowed callable that a pickle cannot modify (``BUILD`` on it is refused; the
    unpickler could otherwise set attributes such as ``__setstate__`` on exzarr's classes)."""

    __slots__ = ("_fn",)
    _fn: Callable[..., Any]

    def __init__(self, fn: Callable[..., Any]) -> None:
        object.__setattr__(self, "_fn", fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __setattr__(self, name: str, value: object) -> None:
        raise _Refused("attributes set on an allowed callable")

    def __setstate__(self, state: object) -> None:
        raise _Refused("state set on an allowed callable")


def _numpy(name: str, value: Any) -> dict[tuple[str, str], Any]:
    module = {"_reconstruct": "multiarray", "scalar": "multiarray", "_frombuffer": "numeric",
              "_convert_to_stringdtype_kwargs": "_internal"}[name]
    return {(f"{root}.{module}", name): value for root in _NP_MODULES}


#: (module, name) -> what the unpickler gets for it
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **_numpy("_reconstruct", _Callable(_PendingArray)),
    **_numpy("scalar", _Callable(_scalar)),
    **_numpy("_frombuffer", _Callable(_frombuffer)),
    **_numpy("_convert_to_stringdtype_kwargs", _Callable(_stringdtype)),
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Callable(_PendingDtype),
    ("builtins", "set"): set,  # builtin and datetime types are immutable
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): _Callable(_complex),
    ("builtins", "bytearray"): _Callable(_bytearray),
    ("_codecs", "encode"): _Callable(_codecs_encode),
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("decimal", "Decimal"): decimal.Decimal,
}
for _name in ("set", "frozenset", "complex", "bytearray"):  # protocol 0-2 spelling
    ALLOWED_GLOBALS[("__builtin__", _name)] = ALLOWED_GLOBALS[("builtins", _name)]


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeDataError(f"the pickle names the global {module}.{name}") from None


_ATOMIC = frozenset({str, bytes, int, float, bool, type(None), complex, bytearray})


def _resolve(obj: Any, memo: dict[int, Any], depth: int = 0) -> Any:
    """``obj`` with every placeholder replaced by the array or dtype it stands for."""
    kind = type(obj)
    if kind in _ATOMIC:
        return obj
    if kind is _PendingArray:
        if obj.array is None:
            raise _Refused("an array is used before its state is set")
        obj = obj.array
        kind = np.ndarray
    elif kind is _PendingDtype:
        return obj.dtype
    if depth > _MAX_DEPTH:
        raise _Refused(f"objects nested deeper than {_MAX_DEPTH} levels")
    key = id(obj)
    if key in memo:
        return memo[key]
    memo[key] = obj
    if kind is list:
        for i, v in enumerate(obj):
            if type(v) not in _ATOMIC:
                obj[i] = _resolve(v, memo, depth + 1)
    elif kind is dict:
        items = [(_resolve(k, memo, depth + 1), _resolve(v, memo, depth + 1))
                 for k, v in obj.items()]
        obj.clear()
        obj.update(items)
    elif kind in (tuple, set, frozenset):
        new = kind(_resolve(v, memo, depth + 1) for v in obj)
        memo[key] = new
        return new
    elif isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        flat = obj.reshape(-1, order="A") if obj.flags.forc else obj.ravel()
        for i in range(flat.size):
            v = flat[i]
            if type(v) not in _ATOMIC:
                flat[i] = _resolve(v, memo, depth + 1)
    return obj


def safe_loads(data: bytes | memoryview, ctx: DecodeContext) -> Any:
    """Unpickle ``data`` with the allow-list; :class:`~exzarr.errors.UnsafeDataError` for a
    global outside it, :class:`~exzarr.errors.DecompressionError` for a malformed pickle."""
    what = ("Pickle chunks are decoded with an allow-list of NumPy, builtin and datetime "
            "types; this chunk is hostile or was not written by numcodecs' Pickle codec. Do "
            "not unpickle it; rewrite the array with an object codec that cannot run code "
            "(vlen-utf8, vlen-bytes, json2 or msgpack2)")
    try:
        result = _Unpickler(io.BytesIO(data)).load()
        return _resolve(result, {})
    except UnsafeDataError as e:
        raise UnsafeDataError(f"refused to unpickle chunk at {ctx.where}: {e.message}. {what}.",
                              store=ctx.store, key=ctx.key) from None
    except _Refused as e:
        raise ctx.fail(f"pickle: {e}") from None
    except RecursionError:
        raise ctx.fail("pickle: objects nested too deeply") from None
    except MemoryError as e:
        raise ctx.fail("pickle: ran out of memory", e) from e
    except Exception as e:  # UnpicklingError, EOFError, TypeError from a bad REDUCE, ...
        raise ctx.fail("pickle: malformed data", e) from e

