"""A new ``bytes`` object filled in place: a compressor writes a frame straight into the
value an in-memory store keeps, instead of into a scratch buffer that is then copied.

CPython's C API builds bytes objects this way (documented for ``_PyBytes_Resize``: "a
way to resize a bytes object even though it is immutable; only use this to build up a
brand new bytes object"): ``PyBytes_FromStringAndSize(NULL, n)`` allocates ``n``
uninitialised bytes, the caller fills them, ``_PyBytes_Resize`` shrinks the object to the
size written.  Here the calls go through :mod:`ctypes` and the object is held only as a
raw pointer (one reference, ours) until it is complete, so no other code can see it
half-written; :func:`available` is False where the interpreter is not CPython or lacks
the functions, and callers then copy from their own buffer.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any

import numpy as np

__all__ = ["FreshBytes", "available"]


@functools.cache
def _api() -> tuple[Any, Any, Any, Any] | None:
    if sys.implementation.name != "cpython":
        return None
    vp, ssize = ctypes.c_void_p, ctypes.c_ssize_t
    lib = ctypes.pythonapi
    try:  # own prototypes: the shared ``ctypes.pythonapi`` attributes are left untouched
        new = ctypes.PYFUNCTYPE(vp, vp, ssize)(("PyBytes_FromStringAndSize", lib))
        data = ctypes.PYFUNCTYPE(vp, vp)(("PyBytes_AsString", lib))
        resize = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.POINTER(vp), ssize)(
            ("_PyBytes_Resize", lib))
        decref = ctypes.PYFUNCTYPE(None, vp)(("Py_DecRef", lib))
    except AttributeError:
        return None
    return new, data, resize, decref


def available() -> bool:
    """Whether :class:`FreshBytes` can be made in this interpreter."""
    return _api() is not None


class FreshBytes:
    """``n`` uninitialised bytes of a new bytes object: fill them (at ``address``, or
    through ``array``, a uint8 array over them), then :meth:`take` the object cut to the
    bytes written.  Dropped without :meth:`take`, the object is freed."""

    __slots__ = ("address", "_ptr", "_n", "_array")

    def __init__(self, n: int) -> None:
        self._ptr: int | None = None
        self._array: np.ndarray | None = None
        self.address: int | None = None
        self._n = n
        api = _api()
        if api is None:
            raise RuntimeError("bytes objects cannot be filled in place in this interpreter")
        new, data, _, _ = api
        ptr = new(None, n)  # a new reference, or NULL with MemoryError raised
        if not ptr:
            raise MemoryError(f"cannot allocate a bytes object of {n} bytes")
        self._ptr = ptr
        self.address = data(ptr)

    @property
    def array(self) -> np.ndarray | None:
        """The bytes to fill as a uint8 array (None once taken)."""
        if self._array is None and self.address is not None:
            buf = (ctypes.c_ubyte * self._n).from_address(self.address)
            self._array = np.ctypeslib.as_array(buf)
        return self._array

    def take(self, size: int) -> bytes:
        """The bytes object, its first ``size`` bytes (``array`` is void from here on:
        shrinking may move the bytes)."""
        ptr = self._ptr
        if ptr is None:
            raise RuntimeError("FreshBytes.take() called twice")
        _, _, resize, decref = _api()  # type: ignore[misc]
        self._array = None
        self.address = None
        self._ptr = None
        ref = ctypes.c_void_p(ptr)
        if resize(ctypes.byref(ref), size) != 0:  # the object is freed, an error raised
            raise MemoryError(f"cannot resize a bytes object to {size} bytes")
        value = ctypes.cast(ref, ctypes.py_object).value  # a second reference: the caller's
        decref(ref.value)  # ... and ours given up
        if not isinstance(value, bytes) or len(value) != size:  # pragma: no cover
            raise RuntimeError("bytes object built in place has the wrong size")
        return value

    def __del__(self) -> None:
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr is not None:  # never taken: our reference goes, and with it the object
            self._array = None
            self.address = None
            api = _api()
            if api is not None:
                api[3](ptr)
