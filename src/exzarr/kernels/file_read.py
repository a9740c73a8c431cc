"""Reading a file's bytes from compiled code, through the C library.

Read one by one from Python, each chunk file costs the interpreter ~20 µs around its
system calls (``os.open``, ``os.preadv``, ``os.close`` and the bookkeeping between),
holding the GIL, so two reading threads queue for it.  :func:`read_range` makes the same
calls from a compiled kernel, without the GIL: open read-only (close-on-exec), ``pread``
until the range is read (or, for a whole file, until its end), close.

The C functions come in as the addresses of :func:`functions` (POSIX: ``open``, ``pread``,
``close`` and ``errno``'s location, the open flags, then ``preadv`` and ``lseek``).
"""

from __future__ import annotations

import ctypes
import errno
import os

import numpy as np
from numba.extending import register_jitable

from .cfunc import SUPPORTED, address, c_int, call0, call1, call3, call4, callv3, peek32

__all__ = ["MISSING", "FAILED", "functions", "open_file", "close_file", "file_size",
           "pread_all", "preadv_of", "read_range"]

# ``fs[...]``: the C functions' addresses, then the flags
_OPEN, _PREAD, _CLOSE, _ERRNO, _FLAGS, _PREADV, _LSEEK = range(7)

#: :func:`read_range`'s answer when there is no such file (or a folder on its path is not
#: one), and when anything else went wrong (the caller reads it the checked way)
MISSING, FAILED = -1, -2

_EINTR, _ENOENT, _ENOTDIR = errno.EINTR, errno.ENOENT, errno.ENOTDIR
_SEEK_END = os.SEEK_END


def functions() -> np.ndarray | None:
    """The ``fs`` argument of :func:`read_range`, or None where the functions are not
    available (not POSIX, or pointers are not 64-bit)."""
    if not SUPPORTED or os.name != "posix" or not hasattr(os, "preadv"):
        return None
    try:
        libc = ctypes.CDLL(None)
        names = ("open", "pread", "close",
                 "__errno_location" if hasattr(libc, "__errno_location") else "__error",
                 "preadv", "lseek")
        found = [address(getattr(libc, name)) for name in names]
    except (OSError, AttributeError, ValueError):
        return None
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    return np.array(found[:4] + [flags, *found[4:]], dtype=np.int64)


@register_jitable
def preadv_of(fs):
    """C's ``preadv``, for :mod:`exzarr.kernels.read_rows`."""
    return fs[_PREADV]


@register_jitable
def open_file(fs, path):
    """The file at ``path`` (the address of a NUL-terminated path) opened read-only, or
    :data:`MISSING` / :data:`FAILED`."""
    fd = c_int(callv3(fs[_OPEN], path, fs[_FLAGS], 0))
    if fd < 0:
        err = peek32(call0(fs[_ERRNO]))
        return MISSING if err == _ENOENT or err == _ENOTDIR else FAILED
    return fd


@register_jitable
def close_file(fs, fd):
    call1(fs[_CLOSE], fd)


@register_jitable
def file_size(fs, fd):
    """The size in bytes of the open file ``fd`` (its end, by ``lseek``), or
    :data:`FAILED`."""
    size = call3(fs[_LSEEK], fd, 0, _SEEK_END)
    return FAILED if size < 0 else size


@register_jitable
def pread_all(fs, fd, start, want, dst):
    """Read ``want`` bytes from byte ``start`` of ``fd`` to address ``dst``: the bytes
    read (fewer where the file ends first), or :data:`FAILED`."""
    done = 0
    while done < want:
        n = call4(fs[_PREAD], fd, dst + done, want - done, start + done)
        if n < 0:
            if peek32(call0(fs[_ERRNO])) == _EINTR:
                continue
            return FAILED
        if n == 0:  # the end of the file
            break
        done += n
    return done


@register_jitable
def read_range(fs, path, start, length, dst, room):
    """Read ``length`` bytes from byte ``start`` of the file at ``path`` (the address of a
    NUL-terminated path) to address ``dst``, which has ``room`` bytes; ``length < 0``:
    from ``start`` to the end of the file, at most ``room``.  The bytes read (fewer than
    asked where the file ends first; ``room`` for a file that may go on), or
    :data:`MISSING` / :data:`FAILED`."""
    if length > room:
        return FAILED
    fd = open_file(fs, path)
    if fd < 0:
        return fd
    done = pread_all(fs, fd, start, room if length < 0 else length, dst)
    close_file(fs, fd)
    return done
