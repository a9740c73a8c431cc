"""Writing a chunk's file atomically from compiled code, through the C library.

A local write of many chunks spends, per chunk, Python around five system calls (create
the temporary file, write, close, rename it into place, and the bookkeeping between):
~45 µs of interpreter time holding the GIL, so two writing threads queue for it.  These
helpers make the same calls from a compiled kernel
(:func:`~exzarr.kernels.encode_gather.encode_gather` with ``files``), without the GIL, in
the same order and with the same flags as :class:`~exzarr.storage.LocalStore`'s Python
path: the frame goes to a new temporary file (``O_CREAT | O_EXCL``, mode 0o666 less the
umask, close-on-exec), which is closed and then renamed onto the target, with
``renameat2(RENAME_NOREPLACE)`` first so a new chunk needs no look-up of an old file.
A new chunk's file is made without a name first where the file system allows it
(``O_TMPFILE`` in the target's own folder: a crash leaves nothing behind, and the file's
inode is allocated in its folder's group, not all of a write's in the writing thread's
folder), written, and linked into place (``linkat`` of ``/proc/self/fd/N``: fails when a
file is there, so a new chunk still appears whole or not at all); where a file is there
already it is linked under the temporary name and renamed onto the target as above.
When a file is replaced, the old file is opened read-only first and its descriptor
handed back to the caller (the store's reaper closes it on its own thread: freeing a
recently written file's pages is slow).  Once a file of the batch has replaced one, the
next ones look for an old file first (a rewrite of an array replaces every file; a
``renameat2`` bound to fail is one system call per chunk saved), and go back to
``renameat2`` first at the first file that has none.

Any failure stops the batch: the temporary file is removed, ``status`` holds the stage
and ``errno``, and the caller writes that chunk and the rest the checked Python way,
which raises the error with its store and key (or recovers, e.g. by making a folder a
concurrent delete removed).  The C functions come in as the addresses of
:func:`functions` (Linux only: ``renameat2`` and the flag values are Linux's).
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys

import numpy as np
from numba.extending import register_jitable

from .cfunc import SUPPORTED, address, c_int, call0, call1, call2, call3, call5, callv3, peek32

__all__ = ["OPEN", "WRITE", "CLOSE", "RENAME", "LINK", "REPLACING", "UNNAMED", "STATUS",
           "functions", "write_file"]

# ``fs[...]``: the C functions' addresses, then the flags
_OPEN, _WRITE, _CLOSE, _RENAMEAT2, _RENAME, _UNLINK, _ERRNO, _LINKAT = range(8)
_CREATE_FLAGS, _HOLD_FLAGS, _UNNAMED_FLAGS = 8, 9, 10

#: stages of ``status[0]`` (``status[1]``: the ``errno``)
OPEN, WRITE, CLOSE, RENAME, LINK = 1, 2, 3, 4, 5
#: ``status[2]``: 1 while the files written replace existing ones (then the old file is
#: looked up first, sparing the ``renameat2`` that would fail)
REPLACING = 2
#: ``status[3]``: 1 where a new file may be made unnamed in its folder and linked into
#: place (the caller checked that this file system and ``/proc`` allow it; reset to 0
#: when the file system refuses); :data:`STATUS` entries
UNNAMED = 3
STATUS = 4

_AT_FDCWD = -100
_AT_SYMLINK_FOLLOW = 0x400
_PROC_FD = np.frombuffer(b"/proc/self/fd/", dtype=np.uint8)
_RENAME_NOREPLACE = 1
_EINTR, _EEXIST = errno.EINTR, errno.EEXIST
#: ``renameat2`` or its flag not available here: rename the portable way
_EINVAL, _ENOSYS, _EOPNOTSUPP = errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP
#: ``O_TMPFILE`` refused (a file system without it; an old kernel takes it as a directory)
_EISDIR = errno.EISDIR


def functions() -> np.ndarray | None:
    """The ``fs`` argument of the helpers: the C library's file functions and the open
    flags, or None where they are not available (not Linux, no ``renameat2``)."""
    if not (SUPPORTED and sys.platform.startswith("linux")):
        return None
    try:
        libc = ctypes.CDLL(None)
        found = [address(getattr(libc, name)) for name in
                 ("open", "write", "close", "renameat2", "rename", "unlink",
                  "__errno_location", "linkat")]
    except (OSError, AttributeError, ValueError):
        return None
    create = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    hold = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
    unnamed = os.O_WRONLY | getattr(os, "O_TMPFILE", 0) | os.O_CLOEXEC
    return np.array(found + [create, hold, unnamed], dtype=np.int64)


@register_jitable
def _fail(fs, names, tmp, stage, status, fd=-1):
    """Record the failure (``errno`` first: the clean-up may change it), close ``fd``,
    remove the temporary file; -2."""
    status[0] = stage
    status[1] = peek32(call0(fs[_ERRNO]))
    if fd >= 0:
        call1(fs[_CLOSE], fd)
    if stage != OPEN:
        call1(fs[_UNLINK], names.ctypes.data + tmp)
    return -2


@register_jitable
def _create(fs, names, tmp, status):
    """A new temporary file ``names[tmp:]`` open for writing, or -2."""
    fd = c_int(callv3(fs[_OPEN], names.ctypes.data + tmp, fs[_CREATE_FLAGS], 0o666))
    if fd < 0:
        return _fail(fs, names, tmp, OPEN, status)
    return fd


@register_jitable
def _commit(fs, names, fd, tmp, dst, status):
    """Close ``fd`` and rename the temporary file onto the target: the descriptor of
    the file it replaced (-1: none), or -2."""
    if c_int(call1(fs[_CLOSE], fd)) != 0:
        return _fail(fs, names, tmp, CLOSE, status)
    src_path = names.ctypes.data + tmp
    dst_path = names.ctypes.data + dst
    hint = status.shape[0] > REPLACING
    if hint and status[REPLACING]:  # the last file replaced one: this one likely does too
        old = c_int(callv3(fs[_OPEN], dst_path, fs[_HOLD_FLAGS], 0))
        if old >= 0:
            if c_int(call2(fs[_RENAME], src_path, dst_path)) != 0:
                return _fail(fs, names, tmp, RENAME, status, old)
            return old
        status[REPLACING] = 0  # (no file there, or not one to hold: the usual way)
    if c_int(call5(fs[_RENAMEAT2], _AT_FDCWD, src_path, _AT_FDCWD, dst_path,
                   _RENAME_NOREPLACE)) == 0:
        return -1
    err = peek32(call0(fs[_ERRNO]))
    if err != _EEXIST and err != _EINVAL and err != _ENOSYS and err != _EOPNOTSUPP:
        return _fail(fs, names, tmp, RENAME, status)
    old = c_int(callv3(fs[_OPEN], dst_path, fs[_HOLD_FLAGS], 0))
    if c_int(call2(fs[_RENAME], src_path, dst_path)) != 0:
        return _fail(fs, names, tmp, RENAME, status, old)
    if hint:
        status[REPLACING] = err == _EEXIST
    return old if old >= 0 else -1


@register_jitable
def _write_all(fs, fd, addr, size):
    """Write the ``size`` bytes at ``addr`` to ``fd``: True when all went."""
    done = 0
    while done < size:
        n = call3(fs[_WRITE], fd, addr + done, size - done)
        if n < 0 and peek32(call0(fs[_ERRNO])) == _EINTR:
            continue
        if n <= 0:
            return False
        done += n
    return True


@register_jitable
def _proc_path(fd):
    """``/proc/self/fd/<fd>``, NUL-terminated: the open file's name for ``linkat``."""
    digits = 1
    v = fd
    while v >= 10:
        v //= 10
        digits += 1
    k = _PROC_FD.shape[0]
    path = np.zeros(k + digits + 1, dtype=np.uint8)
    path[:k] = _PROC_FD
    v = fd
    for j in range(digits):
        path[k + digits - 1 - j] = 48 + v % 10
        v //= 10
    return path


@register_jitable
def _write_unnamed(fs, names, tmp, dst, folder, addr, size, status):
    """:func:`write_file` through an unnamed file in ``names[folder:]`` (the target's
    folder): -1 (a new file), the replaced file's descriptor, -2 (failed, ``status``
    set, nothing left behind), or -3 (the file system refuses unnamed files: nothing
    done, ``status[UNNAMED]`` reset)."""
    fd = c_int(callv3(fs[_OPEN], names.ctypes.data + folder, fs[_UNNAMED_FLAGS], 0o666))
    if fd < 0:
        err = peek32(call0(fs[_ERRNO]))
        if err == _EOPNOTSUPP or err == _EISDIR or err == _EINVAL:
            status[UNNAMED] = 0
            return -3
        return _fail(fs, names, tmp, OPEN, status)
    if not _write_all(fs, fd, addr, size):
        return _fail(fs, names, tmp, WRITE, status, fd)
    proc = _proc_path(fd)
    if c_int(call5(fs[_LINKAT], _AT_FDCWD, proc.ctypes.data, _AT_FDCWD,
                   names.ctypes.data + dst, _AT_SYMLINK_FOLLOW)) == 0:
        if c_int(call1(fs[_CLOSE], fd)) != 0:  # (in place already: as a failed rename's)
            return _fail(fs, names, tmp, CLOSE, status)
        return -1
    if peek32(call0(fs[_ERRNO])) != _EEXIST:
        return _fail(fs, names, tmp, LINK, status, fd)
    # a file is there: name this one and replace it the usual way
    if c_int(call5(fs[_LINKAT], _AT_FDCWD, proc.ctypes.data, _AT_FDCWD,
                   names.ctypes.data + tmp, _AT_SYMLINK_FOLLOW)) != 0:
        return _fail(fs, names, tmp, LINK, status, fd)
    status[REPLACING] = 1
    return _commit(fs, names, fd, tmp, dst, status)


@register_jitable
def write_file(fs, names, tmp, dst, folder, addr, size, status):
    """Write the ``size`` bytes at ``addr`` to the file ``names[dst:]`` (NUL-terminated
    paths at those offsets; ``names[folder:]`` its folder) through the temporary file
    ``names[tmp:]``, or through an unnamed file in the folder (``status[UNNAMED]`` on,
    not while replacing): the descriptor of the file it replaced (-1: none; the caller
    closes it), or -2 (``status`` set, nothing left behind)."""
    if status.shape[0] > UNNAMED and status[UNNAMED] != 0 and status[REPLACING] == 0:
        done = _write_unnamed(fs, names, tmp, dst, folder, addr, size, status)
        if done != -3:
            return done
    fd = _create(fs, names, tmp, status)
    if fd < 0:
        return fd
    if not _write_all(fs, fd, addr, size):
        return _fail(fs, names, tmp, WRITE, status, fd)
    return _commit(fs, names, fd, tmp, dst, status)
