"""Decode many compressed chunks and scatter each into the output, in one compiled call.

A read of many small chunks (the inner chunks of a shard) spends more time in Python per
chunk (the call into the decompressor, the view of the chunk's region, the copy) than
decoding a chunk of 64 KiB takes.  :func:`decode_scatter` does all of it for a batch of
chunks that sit whole in a C-contiguous output, without the GIL: for each frame, the
decompressor's header check, one decompression into ``scratch`` and a copy of its rows to
the chunk's place in the output.

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
                   out, bases, rows, row_bytes):
    """Decode ``src[starts[i]:stops[i]]`` (``nbytes`` each, into ``scratch``) and copy row
    ``r`` of it (``row_bytes`` long) to ``out[bases[i] + rows[r]:][:row_bytes]``, for each
    ``i`` in order.  ``src``, ``scratch`` and ``out`` are flat uint8 arrays; ``content_size``,
    ``decompress`` and ``copy`` are addresses of C functions, ``copy`` C's ``memmove`` (far
    faster than a compiled slice assignment of bytes).
    Returns the number of frames done: ``len(starts)``, or the index of the first frame
    refused."""
    n = starts.shape[0]
    if n and (scratch.shape[0] < nbytes or rows.shape[0] * row_bytes != nbytes):
        return 0
    base_src = src.ctypes.data
    dst = scratch.ctypes.data
    base_out = out.ctypes.data
    end_out = out.shape[0]
    for i in range(n):
        if starts[i] < 0 or stops[i] < starts[i] or stops[i] > src.shape[0]:
            return i
        b = bases[i]
        if b + rows[0] < 0 or b + rows[rows.shape[0] - 1] + row_bytes > end_out:
            return i
        at = base_src + starts[i]
        size = stops[i] - starts[i]
        if call2(content_size, at, size) != nbytes:
            return i
        if call5(decompress, ctx, dst, nbytes, at, size) != nbytes:
            return i
        for r in range(rows.shape[0]):
            call3(copy, base_out + b + rows[r], dst + r * row_bytes, row_bytes)
    return n
