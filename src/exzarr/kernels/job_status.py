"""What became of each job of the compiled reads that every thread of a read runs at once
(:mod:`exzarr.kernels.read_scatter`, :func:`exzarr.kernels.read_rows.read_rows_files`):
one int8 per chunk (or frame), set by the thread that took it.  No Numba here: the
callers read the statuses after the calls."""

from __future__ import annotations

__all__ = ["WAITING", "DONE", "MISSING", "REFUSED"]

#: not taken (the call stopped early, or its job was malformed)
WAITING = 0
#: read, decoded and placed
DONE = 1
#: its file does not exist (fill_value)
MISSING = 2
#: anything else (a read that failed, a file of the wrong size, a frame refused): for the
#: caller to do the checked way, which says what is wrong
REFUSED = 3
