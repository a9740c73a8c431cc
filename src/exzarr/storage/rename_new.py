"""Renaming a file onto a name that must not exist yet (Linux ``renameat2`` with
``RENAME_NOREPLACE``), in one system call.

:func:`exzarr.storage.reaper.replace` tries it first: a chunk written for the first time
then needs no look-up of the old file to hold (on ext4 that look-up waits for the
directory's lock while other threads create files there).  Where the call or the flag is
not available (other systems, old C libraries, file systems that refuse the flag),
:func:`rename_new` answers None from then on and the caller takes the portable route.
"""

from __future__ import annotations

import ctypes
import errno
import os

from ..kernels.libc import linux_function

__all__ = ["rename_new"]

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


# (None where the C library has no such symbol: glibc < 2.28, musl < 1.2.?)
_renameat2 = linux_function("renameat2", [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                          ctypes.c_char_p, ctypes.c_uint], ctypes.c_int)
#: errors meaning "this call or flag is not available here": fall back for good
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP})


def rename_new(src: str, dst: str) -> bool | None:
    """Rename ``src`` to ``dst`` if ``dst`` does not exist (True); False when it exists
    (nothing changed); None when not supported here (nothing changed).  Other failures
    raise the ``OSError`` that ``os.rename`` would."""
    global _renameat2
    fn = _renameat2
    if fn is None:
        return None
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
        return True
    err = ctypes.get_errno()
    if err == errno.EEXIST:
        return False
    if err in _UNSUPPORTED:
        _renameat2 = None
        return None
    raise OSError(err, os.strerror(err), src, None, dst)
