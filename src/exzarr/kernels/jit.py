"""Lazy Numba compilation with an on-disk cache when one is writable.

Numba is imported on the first call of a kernel, never at ``import exzarr``.  With
``cache=True`` Numba raises at decoration time when no cache location is writable
(package dir, ``NUMBA_CACHE_DIR``, the user cache dir); we then compile without a cache.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["lazy_njit"]

_lock = threading.Lock()


def _compile(py_func):
    import numba

    try:
        return numba.njit(cache=True, nogil=True)(py_func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(cache=False, nogil=True)(py_func)


def lazy_njit(py_func):
    """Decorator: compile ``py_func`` with Numba on first call; ``.py_func`` keeps Python."""
    compiled = None

    @functools.wraps(py_func)
    def wrapper(*args):
        nonlocal compiled
        if compiled is None:
            with _lock:
                if compiled is None:
                    compiled = _compile(py_func)
        return compiled(*args)

    wrapper.py_func = py_func
    return wrapper
