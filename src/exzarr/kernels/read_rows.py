"""Reading a file straight into the rows of an array: one ``preadv`` per up to
:data:`IOV_MAX` rows, without the GIL.

A chunk stored uncompressed in C order is its rows one after another; in the output of a
read it is a box whose rows are apart.  Read into a buffer and copied, every byte is
copied twice; :func:`read_rows` gives the kernel one ``iovec`` per row, so the file's
bytes land in the output directly.  ``preadv`` is called by its address
(:mod:`exzarr.kernels.cfunc`); a short read continues where it stopped; an error or the
end of the file stops it (the caller checks the count and says what went wrong).
:func:`read_rows_files` does it for every chunk of a read: each thread that runs it
takes the next chunk's file from a shared counter (:mod:`exzarr.kernels.atomic`), opens
it (:mod:`exzarr.kernels.file_read`), reads it into its rows and checks that the file
ends there, until none is left.

This module imports Numba: import it only where the kernel is about to run.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .atomic import fetch_add
from .cfunc import call4
from .file_read import MISSING as _GONE
from .file_read import close_file, open_file, pread_all, preadv_of
from .jit import lazy_njit
from .job_status import DONE, MISSING, REFUSED

__all__ = ["IOV_MAX", "read_rows", "read_rows_files"]

#: rows per ``preadv`` call (POSIX requires IOV_MAX >= 16; Linux has 1024)
IOV_MAX = 1024



@register_jitable
def _rows_inside(size, base, rows, row_bytes, nbytes):
    """Whether rows ``rows`` of ``row_bytes`` from byte ``base`` lie inside ``size`` bytes
    and hold ``nbytes`` in all."""
    n = rows.shape[0]
    if row_bytes <= 0 or n * row_bytes != nbytes:
        return False
    for r in range(n):
        start = base + rows[r]
        if start < 0 or start + row_bytes > size:
            return False
    return True


@register_jitable
def _preadv_rows(preadv, fd, addr, rows, row_bytes, nbytes, iov):
    """The ``preadv`` loop: the file's first ``nbytes`` bytes to row ``r`` at address
    ``addr + rows[r]`` (``iov``: room for up to :data:`IOV_MAX` iovecs); the bytes read."""
    n = rows.shape[0]
    done = 0
    while done < nbytes:
        first = done // row_bytes
        skip = done - first * row_bytes
        count = min(n - first, IOV_MAX)
        for k in range(count):
            iov[k, 0] = addr + rows[first + k]
            iov[k, 1] = row_bytes
        iov[0, 0] += skip
        iov[0, 1] -= skip
        got = call4(preadv, fd, iov.ctypes.data, count, done)
        if got <= 0:
            break
        done += got
    return done


@lazy_njit
def read_rows(fs, fd, out, base, rows, row_bytes, nbytes):
    """Read the first ``nbytes`` bytes of file ``fd`` into ``out`` (a flat uint8 array):
    row ``r`` (``row_bytes`` long) at byte ``base + rows[r]``, with ``fs``'s ``preadv``
    (:func:`~exzarr.kernels.file_read.functions`).  Returns the bytes read (``nbytes``
    when all were), or -1 when a row lies outside ``out`` (nothing read)."""
    if not _rows_inside(out.shape[0], base, rows, row_bytes, nbytes):
        return -1
    iov = np.empty((min(rows.shape[0], IOV_MAX), 2), dtype=np.int64)
    return _preadv_rows(preadv_of(fs), fd, out.ctypes.data + base, rows, row_bytes, nbytes,
                        iov)


@lazy_njit
def read_rows_files(fs, names, paths, bases, counter, status, out, rows, row_bytes):
    """For each chunk ``k`` taken from ``counter`` (an int64 array of one, starting at 0,
    shared by every thread of the read): open the file at ``names[paths[k]:]``
    (NUL-terminated; ``fs``: :func:`~exzarr.kernels.file_read.functions`), read its bytes
    into ``out`` (a flat uint8 array), row ``r`` at byte ``bases[k] + rows[r]``, and set
    ``status[k]`` (:mod:`exzarr.kernels.job_status`): done when the file held exactly
    ``len(rows) * row_bytes`` bytes, else missing or refused (its rows may then hold
    part of it).  Returns
    the number of chunks done."""
    n = paths.shape[0]
    nbytes = rows.shape[0] * row_bytes
    if (bases.shape[0] < n or status.shape[0] < n or counter.shape[0] < 1
            or names.shape[0] == 0 or names[names.shape[0] - 1] != 0 or rows.shape[0] == 0):
        return 0
    lo, hi = rows.min(), rows.max()
    iov = np.empty((min(rows.shape[0], IOV_MAX), 2), dtype=np.int64)
    probe = np.empty(1, dtype=np.uint8)  # (a byte past the chunk: the file must end there)
    preadv = preadv_of(fs)
    size = out.shape[0]
    done = 0
    while True:
        k = fetch_add(counter.ctypes.data, 1)
        if k >= n:
            return done
        base = bases[k]
        if (not 0 <= paths[k] < names.shape[0] or row_bytes <= 0 or base + lo < 0
                or base + hi + row_bytes > size):
            status[k] = REFUSED
            continue
        fd = open_file(fs, names.ctypes.data + paths[k])
        if fd < 0:
            status[k] = MISSING if fd == _GONE else REFUSED
            continue
        got = _preadv_rows(preadv, fd, out.ctypes.data + base, rows, row_bytes, nbytes, iov)
        more = pread_all(fs, fd, nbytes, 1, probe.ctypes.data) if got == nbytes else 1
        close_file(fs, fd)
        if got == nbytes and more == 0:
            status[k] = DONE
            done += 1
        else:
            status[k] = REFUSED
