"""The Array API array-object surface of ``ZArray``.

Operators, NumPy ufuncs and functions materialise the selection and return NumPy
arrays; ``__array_namespace__`` returns a namespace whose functions accept ZArrays.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from ..indexing.selection import Selection
from .materialise import Readable, materialise
from .namespace import namespace

__all__ = ["ArrayAPIMixin"]


_Method = Callable[["ArrayAPIMixin"], Any]
_BinaryMethod = Callable[["ArrayAPIMixin", Any], Any]


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False) -> _BinaryMethod:
    def method(self: ArrayAPIMixin, other: Any) -> Any:
        a, b = self.read(), materialise(other)
        return op(b, a) if reflected else op(a, b)
    method.__name__ = f"__{'r' if reflected else ''}{op.__name__.strip('_')}__"
    return method


def _unary(op: Callable[[Any], Any]) -> _Method:
    def method(self: ArrayAPIMixin) -> Any:
        return op(self.read())
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
        def _view(self, inner: Selection) -> Self: ...
        def __getitem__(self, key: Any) -> Self: ...

    # -- Array API attributes -------------------------------------------------------
    def __array_namespace__(self, *, api_version: str | None = None) -> ModuleType:
        return namespace(api_version)

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
        inputs = materialise(inputs)
        if "out" in kwargs:
            kwargs["out"] = materialise(kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func: Callable[..., Any], types: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        return func(*materialise(args), **{k: materialise(v) for k, v in kwargs.items()})

    # -- operators --------------------------------------------------------------------
    __add__ = _binary(operator.add)
    __radd__ = _binary(operator.add, True)
    __sub__ = _binary(operator.sub)
    __rsub__ = _binary(operator.sub, True)
    __mul__ = _binary(operator.mul)
    __rmul__ = _binary(operator.mul, True)
    __truediv__ = _binary(operator.truediv)
    __rtruediv__ = _binary(operator.truediv, True)
    __floordiv__ = _binary(operator.floordiv)
    __rfloordiv__ = _binary(operator.floordiv, True)
    __mod__ = _binary(operator.mod)
    __rmod__ = _binary(operator.mod, True)
    __pow__ = _binary(operator.pow)
    __rpow__ = _binary(operator.pow, True)
    __matmul__ = _binary(operator.matmul)
    __rmatmul__ = _binary(operator.matmul, True)
    __and__ = _binary(operator.and_)
    __rand__ = _binary(operator.and_, True)
    __or__ = _binary(operator.or_)
    __ror__ = _binary(operator.or_, True)
    __xor__ = _binary(operator.xor)
    __rxor__ = _binary(operator.xor, True)
    __lshift__ = _binary(operator.lshift)
    __rlshift__ = _binary(operator.lshift, True)
    __rshift__ = _binary(operator.rshift)
    __rrshift__ = _binary(operator.rshift, True)
    __lt__ = _binary(operator.lt)
    __le__ = _binary(operator.le)
    __gt__ = _binary(operator.gt)
    __ge__ = _binary(operator.ge)
    __eq__ = _binary(operator.eq)
    __ne__ = _binary(operator.ne)
    __neg__ = _unary(operator.neg)
    __pos__ = _unary(operator.pos)
    __abs__ = _unary(operator.abs)
    __invert__ = _unary(operator.invert)
    __hash__ = None  # type: ignore[assignment]  # unhashable like ndarray (mypy: python/mypy#4266)
