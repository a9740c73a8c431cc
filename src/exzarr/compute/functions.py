"""Small picklable callables for expression nodes, so an expression (and a dask graph made
from it) can travel to another process: a function named by module and attribute, and
the value generators of the creation functions."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Named", "AsType", "Clip", "Constant", "Arange", "Linspace", "Diagonal", "Triangle"]


@dataclass(frozen=True)
class Named:
    """``module.name``, looked up when called (pickles as two strings)."""

    module: str
    name: str

    @property
    def __name__(self) -> str:  # noqa: PLW3201 - what Elementwise shows
        return self.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)


@dataclass(frozen=True)
class AsType:
    dtype: np.dtype

    def __call__(self, a: Any) -> Any:
        return np.asarray(a).astype(self.dtype)


@dataclass(frozen=True)
class Clip:
    """``clip(x, min?, max?)`` with the bounds given as the following operands."""

    has_min: bool
    has_max: bool

    def __call__(self, a: Any, *bounds: Any) -> Any:
        lo = bounds[0] if self.has_min else None
        hi = bounds[-1] if self.has_max else None
        return Named("array_api_compat.numpy", "clip")(a, lo, hi)


@dataclass(frozen=True)
class Constant:
    value: Any

    def __call__(self, *grids: Any) -> Any:
        return self.value


@dataclass(frozen=True)
class Arange:
    start: Any
    step: Any

    def __call__(self, i: np.ndarray) -> Any:
        return self.start + i * self.step


@dataclass(frozen=True)
class Linspace:
    start: Any
    stop: Any
    step: Any
    num: int
    endpoint: bool

    def __call__(self, i: np.ndarray) -> Any:
        v = self.start + i * self.step
        if self.endpoint and self.num > 1:
            v = np.where(i == self.num - 1, self.stop, v)
        return v


@dataclass(frozen=True)
class Diagonal:
    """``j - i == k``: the identity-like matrices of ``eye``."""

    k: int

    def __call__(self, i: np.ndarray, j: np.ndarray) -> Any:
        return j - i == self.k


@dataclass(frozen=True)
class Triangle:
    """The positions ``triu`` (``j - i >= k``) or ``tril`` (``j - i <= k``) keeps."""

    k: int
    upper: bool

    def __call__(self, i: np.ndarray, j: np.ndarray) -> Any:
        return (j - i >= self.k) if self.upper else (j - i <= self.k)
