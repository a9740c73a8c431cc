"""``ZArray.__array_namespace__``: the NumPy Array API namespace, accepting ZArrays.

Every function of ``array_api_compat.numpy`` is wrapped so ZArray arguments are read
(materialised) first; the results are NumPy arrays.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

from .materialise import materialise

__all__ = ["namespace"]

_cache: dict[str | None, types.ModuleType] = {}


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*materialise(args), **{k: materialise(v) for k, v in kwargs.items()})
    return wrapper


def namespace(api_version: str | None = None) -> types.ModuleType:
    if api_version in _cache:
        return _cache[api_version]
    import array_api_compat.numpy as xnp

    ns = types.ModuleType("exzarr.array_api", "Array API namespace accepting exzarr arrays")
    for name in dir(xnp):
        if name.startswith("_"):
            continue
        obj = getattr(xnp, name)
        setattr(ns, name, _wrap(obj) if callable(obj) and not isinstance(obj, type) else obj)
    for sub in ("linalg", "fft"):
        mod = getattr(xnp, sub, None)
        if mod is not None:
            subns = types.ModuleType(f"exzarr.array_api.{sub}")
            for name in dir(mod):
                if not name.startswith("_"):
                    obj = getattr(mod, name)
                    setattr(subns, name, _wrap(obj) if callable(obj) else obj)
            setattr(ns, sub, subns)
    _cache[api_version] = ns
    return ns
