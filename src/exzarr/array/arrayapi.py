"""The Array API array-object surface of ``ZArray``.

Operators and the reduction methods return lazy arrays (expressions evaluated block by
block when read); in-place operators (``z += 1``) write the result into the store chunk
by chunk.  NumPy ufuncs and functions compute out of core and return NumPy results (see
:mod:`.numpy_api`); ``__array_namespace__`` is :mod:`exzarr.array_api`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from ..compute import Elementwise, Literal
from ..indexing.selection import Selection
from .readable import Readable, lazy

__all__ = ["ArrayAPIMixin"]


_Method = Callable[["ArrayAPIMixin"], Any]
_BinaryMethod = Callable[["ArrayAPIMixin", Any], Any]


def _ns() -> ModuleType:
    """The array namespace module, imported at the first operator or method call (it
    loads the compute engine, which opening and reading an array do not need)."""
    from . import namespace
    return namespace


_functions: dict[str, Callable[..., Any]] = {}


def _function(name: str, elementwise_only: bool = False) -> Callable[..., Any]:
    """The namespace's function for operator ``name`` (looked up once, then cached)."""
    key = f"{name}/{elementwise_only}"
    fn = _functions.get(key)
    if fn is None:
        ns = _ns()
        fn = (None if elementwise_only else getattr(ns, name, None)) or ns._elementwise(name)
        _functions[key] = fn
    return fn


def _binary(name: str, reflected: bool = False) -> _BinaryMethod:
    def method(self: ArrayAPIMixin, other: Any) -> Any:
        if not isinstance(other, (Readable, np.ndarray, bool, int, float, complex, np.generic,
                                  list, tuple)):
            return NotImplemented
        fn = _function(name)
        return fn(other, self) if reflected else fn(self, other)
    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _inplace(name: str) -> _BinaryMethod:
    def method(self: ArrayAPIMixin, other: Any) -> Any:
        fn = _function(name)
        if self.is_lazy:
            return fn(self, other)
        self[...] = fn(self, other)  # streamed into the store, chunk by chunk
        return self
    method.__name__ = f"__i{name}__"
    return method


def _unary(name: str) -> _Method:
    def method(self: ArrayAPIMixin) -> Any:
        return _function(name, elementwise_only=True)(self)
    return method


def _reduction(name: str) -> Callable[..., Any]:
    def method(self: ArrayAPIMixin, axis: Any = None, *, keepdims: bool = False,
               **kwargs: Any) -> Any:
        return getattr(_ns().namespace(), name)(self, axis=axis, keepdims=keepdims, **kwargs)
    method.__name__ = name
    method.__doc__ = f"Lazy ``{name}`` over ``axis`` (all axes when None)."
    return method


def _scalar(conv: Callable[[Any], Any]) -> _Method:
    def method(self: ArrayAPIMixin) -> Any:
        if self.ndim != 0:
            raise TypeError(f"only 0-d arrays can be converted with {conv.__name__}() "
                            f"(this one has shape {self.shape}); index it first")
        return conv(self.read()[()])
    return method


class ArrayAPIMixin(Readable):
    __slots__ = ()
    __array_priority__ = 20

    if TYPE_CHECKING:  # provided by ZArray
        @property
        def shape(self) -> tuple[int, ...]: ...
        @property
        def ndim(self) -> int: ...
        @property
        def chunks(self) -> tuple[int, ...]: ...
        @property
        def is_lazy(self) -> bool: ...
        @property
        def dtype(self) -> np.dtype[Any]: ...
        @property
        def size(self) -> int: ...
        def read(self, out: np.ndarray | None = None, *, xp: Any = None) -> Any: ...
        def __setitem__(self, key: Any, value: Any) -> None: ...
        def _view(self, inner: Selection) -> Self: ...
        def __getitem__(self, key: Any) -> Self: ...

    # -- Array API attributes -------------------------------------------------------
    def __array_namespace__(self, *, api_version: str | None = None) -> ModuleType:
        return _ns().namespace(api_version)

    @property
    def device(self) -> str:
        return "cpu"

    def to_device(self, device: Any, /, *, stream: Any = None) -> Self:
        if device not in ("cpu", None):
            raise ValueError(f"exzarr arrays live on the CPU; read() them with xp= to move "
                             f"them to {device!r}")
        return self

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        expr = self._as_expr()
        if copy is False:
            if not (isinstance(expr, Literal) and expr.value.flags.c_contiguous):
                raise BufferError("an exzarr array lives in a store (or is an expression): "
                                  "exporting it over DLPack copies; pass copy=None or True")
            a = expr.value  # an in-memory value (xp.asarray): shared, not copied
        else:
            a = np.ascontiguousarray(self.read())
        kw: dict[str, Any] = {}
        if max_version is not None:
            kw["max_version"] = max_version
        if dl_device is not None:
            kw["dl_device"] = dl_device
        return a.__dlpack__(stream=stream, **kw)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU

    @property
    def T(self) -> Self:
        if self.ndim != 2:
            raise ValueError(f".T needs a 2-d array (this one is {self.ndim}-d); use mT or "
                             f"permute_dims for other ranks")
        return self.permute_dims((1, 0))

    @property
    def mT(self) -> Self:
        if self.ndim < 2:
            raise ValueError("mT needs at least 2 dimensions")
        perm = tuple(range(self.ndim - 2)) + (self.ndim - 1, self.ndim - 2)
        return self.permute_dims(perm)

    def permute_dims(self, axes: tuple[int, ...]) -> Self:
        """A lazy view with the axes permuted (like ``np.transpose``)."""
        perm = tuple(int(a) % max(self.ndim, 1) for a in axes)
        if sorted(perm) != list(range(self.ndim)):
            raise ValueError(f"axes {tuple(axes)} are not a permutation of {self.ndim} axes")
        return self._view(Selection.identity(self.shape).permute(perm))

    # -- Python protocol --------------------------------------------------------------
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        step = max(1, self.chunks[0] if self.chunks else 1)
        for start in range(0, self.shape[0], step):
            block = self[start:start + step].read()
            yield from block

    __bool__ = _scalar(bool)
    __int__ = _scalar(int)
    __float__ = _scalar(float)
    __complex__ = _scalar(complex)
    __index__ = _scalar(operator.index)

    # -- NumPy interop ------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from .numpy_api import array_ufunc
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable[..., Any], types: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        from .numpy_api import array_function
        return array_function(func, args, kwargs)

    # -- methods (lazy) -----------------------------------------------------------------
    sum = _reduction("sum")
    prod = _reduction("prod")
    mean = _reduction("mean")
    var = _reduction("var")
    std = _reduction("std")
    min = _reduction("min")
    max = _reduction("max")
    any = _reduction("any")
    all = _reduction("all")
    argmin = _reduction("argmin")
    argmax = _reduction("argmax")

    def cumsum(self, axis: int | None = None, dtype: Any = None) -> Any:
        x = self if axis is not None or self.ndim == 1 else _ns().reshape(self, (-1,))
        return _ns().namespace().cumulative_sum(x, axis=axis if axis is not None else 0, dtype=dtype)

    def reshape(self, *shape: Any, copy: bool | None = None) -> Any:
        """A lazy C-order reshape: ``z.reshape(4, -1)`` or ``z.reshape((4, -1))``."""
        dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _ns().reshape(self, tuple(dims), copy=copy)

    def transpose(self, *axes: Any) -> Any:
        dims = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return self.permute_dims(tuple(dims) if dims else tuple(range(self.ndim))[::-1])

    def squeeze(self, axis: Any = None) -> Any:
        if axis is None:
            axis = tuple(i for i, n in enumerate(self.shape) if n == 1)
        return _ns().squeeze(self, axis)

    def flatten(self) -> Any:
        return _ns().reshape(self, (-1,))

    ravel = flatten

    def clip(self, min: Any = None, max: Any = None) -> Any:
        return _ns().clip(self, min, max)

    def round(self, decimals: int = 0) -> Any:
        if decimals:
            return lazy(Elementwise(np.round, [self._as_expr()], "round", decimals=decimals))
        return _ns()._elementwise("round")(self)

    def copy(self) -> Any:
        """A lazy copy: an expression reading this array (evaluate or ``to_zarr`` it)."""
        return _ns().astype(self, self.dtype, copy=True)

    def tolist(self) -> Any:
        return self.read().tolist()

    def item(self, *args: Any) -> Any:
        if not args and self.size != 1:
            raise ValueError(f"can only convert an array of size 1 to a Python scalar "
                             f"(this one has shape {self.shape})")
        return self.read().item(*args)

    # -- operators --------------------------------------------------------------------
    __add__ = _binary("add")
    __radd__ = _binary("add", True)
    __sub__ = _binary("subtract")
    __rsub__ = _binary("subtract", True)
    __mul__ = _binary("multiply")
    __rmul__ = _binary("multiply", True)
    __truediv__ = _binary("divide")
    __rtruediv__ = _binary("divide", True)
    __floordiv__ = _binary("floor_divide")
    __rfloordiv__ = _binary("floor_divide", True)
    __mod__ = _binary("remainder")
    __rmod__ = _binary("remainder", True)
    __pow__ = _binary("pow")
    __rpow__ = _binary("pow", True)
    __matmul__ = _binary("matmul")
    __rmatmul__ = _binary("matmul", True)
    __and__ = _binary("bitwise_and")
    __rand__ = _binary("bitwise_and", True)
    __or__ = _binary("bitwise_or")
    __ror__ = _binary("bitwise_or", True)
    __xor__ = _binary("bitwise_xor")
    __rxor__ = _binary("bitwise_xor", True)
    __lshift__ = _binary("bitwise_left_shift")
    __rlshift__ = _binary("bitwise_left_shift", True)
    __rshift__ = _binary("bitwise_right_shift")
    __rrshift__ = _binary("bitwise_right_shift", True)
    __lt__ = _binary("less")
    __le__ = _binary("less_equal")
    __gt__ = _binary("greater")
    __ge__ = _binary("greater_equal")
    __eq__ = _binary("equal")
    __ne__ = _binary("not_equal")
    __iadd__ = _inplace("add")
    __isub__ = _inplace("subtract")
    __imul__ = _inplace("multiply")
    __itruediv__ = _inplace("divide")
    __ifloordiv__ = _inplace("floor_divide")
    __imod__ = _inplace("remainder")
    __ipow__ = _inplace("pow")
    __imatmul__ = _inplace("matmul")
    __iand__ = _inplace("bitwise_and")
    __ior__ = _inplace("bitwise_or")
    __ixor__ = _inplace("bitwise_xor")
    __ilshift__ = _inplace("bitwise_left_shift")
    __irshift__ = _inplace("bitwise_right_shift")
    __neg__ = _unary("negative")
    __pos__ = _unary("positive")
    __abs__ = _unary("abs")
    __invert__ = _unary("bitwise_invert")
    __hash__ = None  # type: ignore[assignment]  # unhashable like ndarray (mypy: python/mypy#4266)
