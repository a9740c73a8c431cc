"""A C library function bound with ctypes, on Linux only.

Linux system calls that Python's ``os`` module does not offer (``renameat2``,
``madvise``) are called through the C library that the interpreter already loaded:
:func:`linux_function` gives the function with its argument and result types set and
``errno`` kept for :func:`ctypes.get_errno`, or None on other systems or where the
library lacks the symbol (an old C library).  The caller falls back to its portable
route then.  No Numba here: storage modules import this at start-up.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["linux_function"]


def linux_function(name: str, argtypes: Sequence[Any],
                   restype: Any) -> Callable[..., Any] | None:
    """The C library's ``name`` (``errno`` kept), or None: not Linux, or no such symbol."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = list(argtypes)
    fn.restype = restype
    return fn
