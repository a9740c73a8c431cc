"""The common base of exzarr's array objects, and the bridge to lazy expressions.

``Readable`` is the base of every exzarr array (stored arrays, their views and lazy
expressions), so the namespace, the operators and the NumPy protocols recognise arrays
and turn them into expressions without importing the classes themselves.
:func:`lazy` wraps an expression into a lazy array; the class that does it registers
itself with :func:`set_lazy_factory` (``exzarr.array.lazy``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..compute import Expr, as_expr

__all__ = ["Readable", "materialise", "to_expr", "lazy", "set_lazy_factory", "is_array",
           "set_array_creator", "create_array"]


class Readable:
    """Anything that ``read()``s into a NumPy array and takes part in expressions."""

    __slots__ = ()

    def read(self, out: np.ndarray | None = None, *, xp: Any = None) -> Any:
        raise NotImplementedError

    def _as_expr(self) -> Expr:
        raise NotImplementedError


_factory: list[Callable[[Expr], Readable]] = []


def set_lazy_factory(factory: Callable[[Expr], Readable]) -> None:
    _factory[:] = [factory]


def lazy(expr: Expr) -> Any:
    """A lazy exzarr array evaluating ``expr``."""
    return _factory[0](expr)


_creator: list[Callable[..., Any]] = []


def set_array_creator(creator: Callable[..., Any]) -> None:
    """Register ``creator(store, path, meta, *, overwrite) -> ZArray``: how ``to_zarr``
    creates its target (the hierarchy layer, which checks what is already there)."""
    _creator[:] = [creator]


def create_array(store: Any, path: str, meta: Any, *, overwrite: bool) -> Any:
    if not _creator:
        raise RuntimeError("no array creator registered: the hierarchy layer registers it when "
                           "exzarr.api is imported (any exzarr.* function does; a program "
                           "importing only exzarr.array modules must import exzarr.api)")
    return _creator[0](store, path, meta, overwrite=overwrite)


def is_array(x: Any) -> bool:
    return isinstance(x, Readable)


def to_expr(x: Any) -> Any:
    """An operand for an expression: exzarr arrays as expressions (no I/O), Python
    scalars as they are, anything else through ``np.asarray``."""
    if isinstance(x, Readable):
        return x._as_expr()
    return as_expr(x)


def materialise(x: Any) -> Any:
    """``x`` with every exzarr array in it (also inside lists and tuples) read."""
    if isinstance(x, Readable):
        return x.read()
    if isinstance(x, (list, tuple)):
        return type(x)(materialise(i) for i in x)
    return x
