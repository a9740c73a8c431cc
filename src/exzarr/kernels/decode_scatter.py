"""Decode many compressed chunks and scatter each into the output, in one compiled call.

A read of many small chunks (the inner chunks of a shard) spends more time in Python per
chunk (the call into the decompressor, the view of the chunk's region, the copy) than
decoding a chunk of 64 KiB takes.  :func:`decode_scatter` does all of it for a batch of
chunks of which a read takes the same box (the whole chunk, or the same rows and columns
of each at the edge of a region) into a C-contiguous output, without the GIL: for each
frame, the decompressor's header check, one decompression into ``scratch`` and a copy of
the box's rows to their place in the output.

The decompressor comes in as the addresses of two C functions (e.g. libzstd's
``ZSTD_getFrameContentSize`` and ``ZSTD_decompressDCtx``, called through
:mod:`exzarr.kernels.cfunc`) and its context pointer, so this module knows no codec.  A frame whose
header does not announce exactly ``nbytes`` or that does not decode to exactly ``nbytes``
stops the batch: its index is returned, and the caller decodes it and the rest the checked
way (which says what is wrong).  There is no NumPy twin: without Numba the caller takes
its per-chunk path, which gives the same result.
"""

from __future__ import annotations

from .cfunc import call2, call3, call5
from .jit import lazy_njit

__all__ = ["decode_scatter"]


@lazy_njit
def decode_scatter(content_size, decompress, ctx, copy, src, starts, stops, nbytes, scratch,
                   out, bases, rows, row_bytes, skips, src_rows):
    """Decode ``src[starts[i]:stops[i]]`` (``nbytes`` each, into ``scratch``) and copy
    ``row_bytes`` from ``skips[i] + src_rows[r]`` of it to ``out[bases[i] + rows[r]:]``,
    for each row ``r`` and each ``i`` in order: a box of the chunk (all of it, or the part
    a read takes) placed in the output.  ``src``, ``scratch`` and ``out`` are flat uint8
    arrays; ``rows`` and ``src_rows`` ascend; ``content_size``, ``decompress`` and ``copy``
    are addresses of C functions, ``copy`` C's ``memmove`` (far faster than a compiled
    slice assignment of bytes).  Returns the number of frames done: ``len(starts)``, or
    the index of the first frame refused."""
    n = starts.shape[0]
    nrows = rows.shape[0]
    if n and (scratch.shape[0] < nbytes or src_rows.shape[0] != nrows or nrows == 0
              or row_bytes <= 0):
        return 0
    base_src = src.ctypes.data
    dst = scratch.ctypes.data
    base_out = out.ctypes.data
    end_out = out.shape[0]
    for i in range(n):
        if starts[i] < 0 or stops[i] < starts[i] or stops[i] > src.shape[0]:
            return i
        b = bases[i]
        if b + rows[0] < 0 or b + rows[nrows - 1] + row_bytes > end_out:
            return i
        k = skips[i]
        if k + src_rows[0] < 0 or k + src_rows[nrows - 1] + row_bytes > nbytes:
            return i
        at = base_src + starts[i]
        size = stops[i] - starts[i]
        if call2(content_size, at, size) != nbytes:
            return i
        if call5(decompress, ctx, dst, nbytes, at, size) != nbytes:
            return i
        for r in range(nrows):
            call3(copy, base_out + b + rows[r], dst + k + src_rows[r], row_bytes)
    return n
