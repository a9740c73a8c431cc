"""Decode many compressed chunks and scatter each into the output, in one compiled call.

A read of many small chunks (the inner chunks of a shard) spends more time in Python per
chunk (the call into the decompressor, the view of the chunk's region, the copy) than
decoding a chunk of 64 KiB takes.  :func:`decode_scatter` does all of it for a batch of
chunks, each with the box a read takes of it (the whole chunk, or its part inside the
region, every ``step``-th element along a dimension where the read has a step: one
start and extent per dimension, boxes of any shapes in one call) into a C-contiguous
output, without the GIL: for each frame, the decompressor's header check,
one decompression into ``scratch`` and a copy of the box's rows to their place in the
output.

The decompressor comes in as the addresses of two C functions (e.g. libzstd's
``ZSTD_getFrameContentSize`` and ``ZSTD_decompressDCtx``, called through
:mod:`exzarr.kernels.cfunc`) and its context pointer, so this module knows no codec.  A frame whose
header does not announce exactly ``nbytes``, that does not decode to exactly ``nbytes``
or whose box reaches outside the chunk or the output stops the batch: its index is
returned, and the caller decodes it and the rest the checked way (which says what is
wrong).  There is no NumPy twin: without Numba the caller takes its per-chunk path,
which gives the same result.
"""

from __future__ import annotations

import numpy as np
from numba import carray
from numba.extending import register_jitable

from .cfunc import call2, call3, call5
from .jit import lazy_njit
from .pointers import u8_at, u16_at, u32_at, u64_at
from .prefetch import AHEAD, prefetch_for_write

__all__ = ["decode_scatter", "box_ok", "box_row_bytes", "rows_contiguous", "forward",
           "copy_items", "next_row", "prefetch_box_rows", "copy_box", "decode_copy"]


@register_jitable
def box_ok(bases, skips, extents, n, m, nbytes, out_strides, chunk_strides, item,
           scratch_size):
    """Whether the box arrays of ``n`` frames are consistent (the per-call checks of
    :func:`decode_scatter`; the caller checks its own arrays of frames)."""
    if n and (scratch_size < nbytes or m == 0 or chunk_strides.shape[0] != m
              or extents.shape[1] != m or bases.shape[0] < n
              or skips.shape[0] < n or extents.shape[0] < n or item <= 0):
        return False
    for d in range(m):
        if out_strides[d] < 0:
            return False
    return True


@register_jitable
def box_row_bytes(i, start, stop, bases, skips, extents, m, nbytes, out_strides,
                  chunk_strides, item, src_size, end_out):
    """The bytes of the items of one row of frame ``i``'s box (its last dimension), or -1
    when the frame's bytes (``start:stop`` of ``src``) or its box reach outside ``src``,
    the chunk or the output.
    The row's items are contiguous on both sides or not (:func:`rows_contiguous`); in
    the chunk the box may run backwards along a dimension (a negative stride)."""
    if start < 0 or stop < start or stop > src_size:
        return -1
    b = bases[i]
    end_out_item = b + item  # the end of the box's last item, in the output
    low_src = skips[i]       # the box's lowest byte in the chunk
    end_src_item = low_src + item  # and the end of its highest item
    for d in range(m):
        e = extents[i, d]
        if e <= 0:
            return -1
        end_out_item += (e - 1) * out_strides[d]
        span = (e - 1) * chunk_strides[d]
        if span < 0:
            low_src += span
        else:
            end_src_item += span
    if b < 0 or low_src < 0 or end_out_item > end_out or end_src_item > nbytes:
        return -1
    return extents[i, m - 1] * item


@register_jitable
def rows_contiguous(i, extents, m, out_strides, chunk_strides, item):
    """Whether each row of frame ``i``'s box is one run of bytes in the chunk and in the
    output (a step-1 slice of the last dimension, or one item)."""
    return extents[i, m - 1] == 1 or (out_strides[m - 1] == item
                                       and chunk_strides[m - 1] == item)


@register_jitable
def forward(chunk_strides, m):
    """Whether the boxes run forwards along every dimension of the chunk (their rows in
    the order of the chunk's bytes)."""
    for d in range(m):
        if chunk_strides[d] < 0:
            return False
    return True


@register_jitable
def copy_items(copy, dst, dst_step, src, src_step, n, item):
    """Copy ``n`` items of ``item`` bytes from ``src``, ``src + src_step``, ... to
    ``dst``, ``dst + dst_step``, ... (addresses and steps in bytes; ``src_step`` may be
    negative): as 1-, 2-, 4- or 8-byte words where the addresses and steps are multiples
    of the item size, otherwise one ``copy`` (C's ``memmove``) per item."""
    aligned = (dst % item == 0 and src % item == 0 and dst_step % item == 0
               and src_step % item == 0)
    dk = dst_step // item
    sk = src_step // item
    # the items as words from the source's lowest one: item j is word s0 + j * sk
    s_low = src + min(0, (n - 1) * src_step)
    s0 = (src - s_low) // item
    words = (n - 1) * abs(sk) + 1
    if aligned and item == 4:
        d4 = carray(u32_at(dst), ((n - 1) * dk + 1,))
        s4 = carray(u32_at(s_low), (words,))
        for j in range(n):
            d4[j * dk] = s4[s0 + j * sk]
    elif aligned and item == 8:
        d8 = carray(u64_at(dst), ((n - 1) * dk + 1,))
        s8 = carray(u64_at(s_low), (words,))
        for j in range(n):
            d8[j * dk] = s8[s0 + j * sk]
    elif aligned and item == 2:
        d2 = carray(u16_at(dst), ((n - 1) * dk + 1,))
        s2 = carray(u16_at(s_low), (words,))
        for j in range(n):
            d2[j * dk] = s2[s0 + j * sk]
    elif item == 1:
        d1 = carray(u8_at(dst), ((n - 1) * dst_step + 1,))
        s1 = carray(u8_at(s_low), (words,))
        for j in range(n):
            d1[j * dst_step] = s1[s0 + j * src_step]
    else:
        for j in range(n):
            call3(copy, dst + j * dst_step, src + j * src_step, item)


@register_jitable
def next_row(at, o, s, i, extents, m, out_strides, chunk_strides):
    """The next row of frame ``i``'s box (an odometer ``at`` over its first ``m - 1``
    dimensions): its byte offsets in the output and in the chunk from those of the row
    before, ``o`` and ``s``, and whether there is one."""
    d = m - 2
    while d >= 0:
        at[d] += 1
        o += out_strides[d]
        s += chunk_strides[d]
        if at[d] < extents[i, d]:
            return o, s, True
        o -= at[d] * out_strides[d]
        s -= at[d] * chunk_strides[d]
        at[d] = 0
        d -= 1
    return o, s, False


@register_jitable
def prefetch_box_rows(base_out, o, at, i, extents, m, out_strides, row_bytes, first, count):
    """Ask for the output rows ``first .. first + count`` after the current one (at byte
    ``o``, ``at`` its odometer) of frame ``i``'s box, to write them: those in the same
    run of its next-to-last dimension (:mod:`exzarr.kernels.prefetch`)."""
    if m < 2:
        return
    d = m - 2
    for k in range(first, min(first + count, extents[i, d] - at[d])):
        prefetch_for_write(base_out + o + k * out_strides[d], row_bytes)


@register_jitable
def copy_box(copy, base_out, decoded, i, bases, skips, extents, m, out_strides,
             chunk_strides, row_bytes, at, item):
    """Copy frame ``i``'s box from its decoded chunk at address ``decoded`` to the output
    at address ``base_out``, row by row (``at``: m int64 of room): a row of contiguous
    items in one ``copy`` (C's ``memmove``), a strided one item by item."""
    for d in range(m):
        at[d] = 0
    o = bases[i]
    s = skips[i]
    contiguous = rows_contiguous(i, extents, m, out_strides, chunk_strides, item)
    n = extents[i, m - 1]
    if contiguous:  # (the output rows' lines asked for ahead of the copies)
        prefetch_box_rows(base_out, o, at, i, extents, m, out_strides, row_bytes, 0, AHEAD)
    more = True
    while more:
        if contiguous:
            prefetch_box_rows(base_out, o, at, i, extents, m, out_strides, row_bytes, AHEAD, 1)
            call3(copy, base_out + o, decoded + s, row_bytes)
        else:
            copy_items(copy, base_out + o, out_strides[m - 1], decoded + s,
                       chunk_strides[m - 1], n, item)
        o, s, more = next_row(at, o, s, i, extents, m, out_strides, chunk_strides)


@register_jitable
def decode_copy(content_size, decompress, ctx, copy, frame, size, nbytes, dst, base_out, i,
                bases, skips, extents, m, out_strides, chunk_strides, row_bytes, at, item):
    """Decode one frame whole into ``dst`` and copy its box: whether it decoded to exactly
    ``nbytes``."""
    if call2(content_size, frame, size) != nbytes:
        return False
    if call5(decompress, ctx, dst, nbytes, frame, size) != nbytes:
        return False
    copy_box(copy, base_out, dst, i, bases, skips, extents, m, out_strides, chunk_strides,
             row_bytes, at, item)
    return True


@lazy_njit
def decode_scatter(content_size, decompress, ctx, copy, src, starts, stops, nbytes, scratch,
                   out, bases, skips, extents, out_strides, chunk_strides, item):
    """Decode ``src[starts[i]:stops[i]]`` (``nbytes`` each, into ``scratch``) and copy its
    box of ``extents[i]`` elements per dimension, whose first element is at byte
    ``skips[i]`` of the chunk, to byte ``bases[i]`` of ``out``, for each ``i`` in order.
    The box is copied row by row (its last dimension: one run of bytes where its items
    are contiguous on both sides, else item by item); ``out_strides`` and
    ``chunk_strides`` are the byte steps between the box's neighbouring elements along
    each dimension in the output (0 for a dimension the output does not have) and in
    the decoded chunk (its C-order strides times the selection's step: negative for a
    backward step; ``skips[i]`` then is the first element's, not the lowest).  ``src``, ``scratch`` and ``out`` are flat uint8 arrays;
    ``content_size``, ``decompress`` and ``copy`` are addresses of C functions, ``copy``
    C's ``memmove`` (far faster than a compiled slice assignment of bytes).  Returns the
    number of frames done: ``len(starts)``, or the index of the first frame refused."""
    n = starts.shape[0]
    m = out_strides.shape[0]
    if n and stops.shape[0] < n or not box_ok(bases, skips, extents, n, m, nbytes, out_strides,
                                              chunk_strides, item, scratch.shape[0]):
        return 0
    base_src = src.ctypes.data
    dst = scratch.ctypes.data
    base_out = out.ctypes.data
    at = np.zeros(m, dtype=np.int64)
    for i in range(n):
        row_bytes = box_row_bytes(i, starts[i], stops[i], bases, skips, extents, m, nbytes,
                                  out_strides, chunk_strides, item, src.shape[0],
                                  out.shape[0])
        if row_bytes < 0:
            return i
        if not decode_copy(content_size, decompress, ctx, copy, base_src + starts[i],
                           stops[i] - starts[i], nbytes, dst, base_out, i, bases, skips,
                           extents, m, out_strides, chunk_strides, row_bytes, at, item):
            return i
    return n
