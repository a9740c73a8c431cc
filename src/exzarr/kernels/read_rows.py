"""Reading a file straight into the rows of an array: one ``preadv`` per up to
:data:`IOV_MAX` rows, without the GIL.

A chunk stored uncompressed in C order is its rows one after another; in the output of a
read it is a box whose rows are apart.  Read into a buffer and copied, every byte is
copied twice; :func:`read_rows` gives the kernel one ``iovec`` per row, so the file's
bytes land in the output directly.  ``preadv`` is called by its address
(:mod:`exzarr.kernels.cfunc`); a short read continues where it stopped; an error or the
end of the file stops it (the caller checks the count and says what went wrong).

This module imports Numba: import it only where the kernel is about to run.
"""

from __future__ import annotations

import numpy as np

from .cfunc import call4
from .jit import lazy_njit

__all__ = ["IOV_MAX", "read_rows"]

#: rows per ``preadv`` call (POSIX requires IOV_MAX >= 16; Linux has 1024)
IOV_MAX = 1024


@lazy_njit
def read_rows(preadv, fd, out, base, rows, row_bytes, nbytes):
    """Read the first ``nbytes`` bytes of file ``fd`` into ``out`` (a flat uint8 array):
    row ``r`` (``row_bytes`` long) at byte ``base + rows[r]``.  Returns the bytes read
    (``nbytes`` when all were), or -1 when a row lies outside ``out`` (nothing read)."""
    n = rows.shape[0]
    if row_bytes <= 0 or n * row_bytes != nbytes:
        return -1
    size = out.shape[0]
    for r in range(n):
        start = base + rows[r]
        if start < 0 or start + row_bytes > size:
            return -1
    iov = np.empty((min(n, IOV_MAX), 2), dtype=np.int64)
    addr = out.ctypes.data + base
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
