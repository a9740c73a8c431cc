"""Lazy Numba compilation, and the switch between compiled kernels and NumPy fallbacks.

Every kernel has two implementations: a Numba one (compiled on first call, with an
on-disk cache when one is writable) and a vectorised NumPy one that gives bit-identical
results.  A kernel's entry point asks :func:`enabled` which one to run: the compiled one
unless ``exzarr.config.get().jit`` is False (the ``EXZARR_JIT=0`` environment variable
sets that default) or Numba cannot be imported.

Numba is imported on the first kernel call, never at ``import exzarr``.  With
``cache=True`` Numba raises at decoration time when no cache location is writable
(package dir, ``NUMBA_CACHE_DIR``, the user cache dir); we then compile without a cache.

Numba takes a cached kernel as valid while the kernel's own file is unchanged, even when
a helper it compiled in from another module (a constant, an index into a table of C
functions) has changed since: the stale machine code then runs against the new helper,
and can crash the process.  Unless the user chose a cache folder (``NUMBA_CACHE_DIR``),
the kernels are therefore cached in a folder keyed by a hash of all of this package's
sources (:func:`kernel_cache_dir`): an edit of any kernel module starts a new cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from .. import config as _config

__all__ = ["enabled", "numba_available", "lazy_njit", "when_enabled", "kernels_key",
           "kernel_cache_dir"]

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

    def dispatcher(self) -> Any:
        """Numba's dispatcher of the compiled kernel (its ``signatures``), or None before
        the first call."""


def kernels_key(folder: Path | None = None) -> str:
    """The first 12 hex digits of the SHA-1 of the kernels' sources (``*.py`` of this
    package, concatenated in byte order of their names): the Makefile's ``KERNELS_KEY``."""
    digest = hashlib.sha1()
    for path in sorted((folder or Path(__file__).parent).glob("*.py"),
                       key=lambda p: p.name.encode()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def kernel_cache_dir() -> str | None:
    """Where the kernels are cached when the user chose no folder: ``numba-<key>`` in
    this package's ``__pycache__`` or else in ``<user cache>/exzarr``
    (``$XDG_CACHE_HOME``, default ``~/.cache``), the first that can be written; None
    when neither can (Numba's own places are then tried)."""
    key = f"numba-{kernels_key()}"
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for folder in (Path(__file__).parent / "__pycache__" / key,
                   Path(user) / "exzarr" / key):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return str(folder)
    return None


@contextlib.contextmanager
def _keyed_cache() -> Iterator[None]:
    """Numba's cache folder set to :func:`kernel_cache_dir` while a kernel is decorated
    (the locator reads it then), unless the user set one; restored after."""
    from numba.core import config as numba_config

    config: Any = numba_config  # (its settings are made at run time: untyped)
    before = config.CACHE_DIR
    folder = None if before else kernel_cache_dir()
    if folder is None:
        yield
        return
    config.CACHE_DIR = folder
    try:
        yield
    finally:
        config.CACHE_DIR = before


def _compile(py_func: Callable[..., Any]) -> Callable[..., Any]:
    import numba

    with _keyed_cache():
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
    kernel.dispatcher = lambda: compiled  # type: ignore[method-assign]
    return kernel
