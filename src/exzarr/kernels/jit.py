"""Lazy Numba compilation, and the switch between compiled kernels and NumPy fallbacks.

Every kernel has two implementations: a Numba one (compiled on first call, with an
on-disk cache when one is writable) and a vectorised NumPy one that gives bit-identical
results.  A kernel's entry point asks :func:`enabled` which one to run: the compiled one
unless ``exzarr.config.get().jit`` is False (the ``EXZARR_JIT=0`` environment variable
sets that default) or Numba cannot be imported.

Numba is imported on the first kernel call, never at ``import exzarr``.  With
``cache=True`` Numba raises at decoration time when no cache location is writable
(package dir, ``NUMBA_CACHE_DIR``, the user cache dir); we then compile without a cache.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from .. import config as _config

__all__ = ["enabled", "numba_available", "lazy_njit", "when_enabled"]

T = TypeVar("T")

_lock = threading.Lock()
_numba_ok: bool | None = None  # None: not tried yet


def numba_available() -> bool:
    """True when Numba can be imported (imports it on the first call)."""
    global _numba_ok
    if _numba_ok is None:
        with _lock:
            if _numba_ok is None:
                try:
                    import numba  # noqa: F401
                except ImportError:
                    _numba_ok = False
                else:
                    _numba_ok = True
    return _numba_ok


def enabled() -> bool:
    """Run compiled kernels now?  (``config.jit`` on this thread and Numba importable.)"""
    return _config.get().jit and numba_available()


def when_enabled(find: Callable[[], T]) -> Callable[[], T | None]:
    """Decorator: ``find()`` (which may import Numba) called once and kept, and its answer
    given while compiled kernels are on (:func:`enabled`), None while they are off."""
    found = functools.cache(find)

    @functools.wraps(find)
    def get() -> T | None:
        return found() if enabled() else None
    return get


class LazyKernel(Protocol):
    """What :func:`lazy_njit` returns: the compiled kernel, with the Python original."""

    py_func: Callable[..., Any]

    def __call__(self, *args: Any) -> Any: ...


def _compile(py_func: Callable[..., Any]) -> Callable[..., Any]:
    import numba

    try:
        return numba.njit(cache=True, nogil=True)(py_func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(cache=False, nogil=True)(py_func)


def lazy_njit(py_func: Callable[..., Any]) -> LazyKernel:
    """Decorator: compile ``py_func`` with Numba on first call; ``.py_func`` keeps Python.

    Only call the result when :func:`enabled` is True; otherwise use the kernel's NumPy
    fallback (running ``py_func`` in the interpreter would be far too slow).
    """
    compiled: Callable[..., Any] | None = None

    @functools.wraps(py_func)
    def wrapper(*args: Any) -> Any:
        nonlocal compiled
        if compiled is None:
            with _lock:
                if compiled is None:
                    compiled = _compile(py_func)
        return compiled(*args)

    kernel = cast(LazyKernel, wrapper)
    kernel.py_func = py_func
    return kernel
