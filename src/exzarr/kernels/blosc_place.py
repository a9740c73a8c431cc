"""Decode c-blosc (1.x) frames block by block and put each block's items straight into
their rows of the output, in one compiled call for a batch of chunks.

:func:`~exzarr.kernels.decode_scatter.decode_scatter` has c-blosc decode a whole chunk
into scratch (its streams into a block buffer, unshuffled from there into the chunk) and
then copies the chunk's rows into the output: on a full read of 1 MiB chunks that last
copy costs as much as LZ4 itself.  :func:`blosc_place` reads the frame itself, as c-blosc
1.x's decompressor does (the header, the blocks' start offsets, each block's streams),
decodes one block at a time into the start of ``scratch`` (a block is at most the chunk;
c-blosc makes blocks of 32 KiB to 1 MiB), each stream with the library's own function
(``blosclz_decompress``, ``LZ4_decompress_safe`` or ``ZSTD_decompressDCtx``, by the
frame's compressor format), and joins the shuffled bytes of the block's items straight
into the output rows the read takes of it (:func:`~exzarr.kernels.shuffle.join_into`; a
stream stored verbatim is joined from the frame itself; unshuffled blocks are copied).  Every block is decoded, as c-blosc does, so a damaged block anywhere refuses the
chunk whatever part of it the read takes.

It checks everything c-blosc 1.21 checks before it trusts a field (format version, the
flag from a later format, sizes, each block's and stream's offset and length inside the
frame, each stream decoding to exactly its size) and more (the frame is exactly as long as
its header says, and holds exactly the chunk's bytes).  What it does not handle (bit
shuffle, other compressor formats, items whose size is not the array's, a zstd stream
without a context) or does not accept goes c-blosc's way for that frame, as
``decode_scatter`` does it (``blosc_decompress_ctx`` into scratch and a copy); a frame
that fails there too stops the batch (its index is returned) and the caller decodes it the
checked way, which says what is wrong.

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .blosc_adapter import _u32
from .blosc_frame import (
    BLOCKSIZE_AT, BLOSCLZ_FORMAT, CBYTES_AT, DOBITSHUFFLE, DONT_SPLIT, DOSHUFFLE, FLAGS_AT,
    FORMAT_SHIFT, FORMAT_VERSION, FUTURE_FLAG, LZ4_FORMAT, MAX_BLOCKSIZE, MAX_BUFFERSIZE,
    MAX_SPLITS, MEMCPYED, MIN_BUFFERSIZE, NBYTES_AT, OVERHEAD, VERSION_FORMAT, ZSTD_FORMAT)
from .cfunc import call3, call4, call5
from .decode_scatter import (box_ok, box_row_bytes, copy_box, decode_copy, forward,
                             next_row, prefetch_box_rows, rows_contiguous)
from .jit import lazy_njit
from .pointers import bytes_at
from .prefetch import AHEAD
from .shuffle import join_into

__all__ = ["blosc_place", "BLOSCLZ", "LZ4", "ZSTD", "ZSTD_CTX"]

#: where each decompressor's address is in ``funcs`` (``ZSTD_CTX``: this thread's zstd
#: decompression context, 0 when there is none)
BLOSCLZ, LZ4, ZSTD, ZSTD_CTX = 0, 1, 2, 3


@register_jitable
def _i32(h, at):  # the little-endian int32 at byte ``at`` of ``h``
    v = _u32(h, at)
    return v - (np.int64(1) << 32) if v >= (np.int64(1) << 31) else v


@register_jitable
def _stream(funcs, fmt, src, size, dst, capacity):
    """Decode one stream; the bytes it gave (-1: an error)."""
    if fmt == LZ4_FORMAT:
        r = call4(funcs[LZ4], src, dst, size, capacity) & 0xFFFFFFFF  # a C int
    elif fmt == BLOSCLZ_FORMAT:
        r = call4(funcs[BLOSCLZ], src, size, dst, capacity) & 0xFFFFFFFF
    else:  # zstd: a size_t, errors are the largest values
        r = call5(funcs[ZSTD], funcs[ZSTD_CTX], dst, capacity, src, size)
        return r if 0 <= r <= capacity else -1
    return -1 if r >= 0x80000000 else r


@register_jitable
def _place_frame(funcs, copy, frame, size, nbytes, item, tmp, base_out, i, bases, skips,
                 extents, m, out_strides, chunk_strides, row_bytes, at, streams):
    """Decode frame ``i`` block by block into its box; False when it is not one this
    kernel reads or it is damaged (then nothing in the box is to be trusted).  ``at``: m
    int64 of room, ``streams``: 16."""
    if size < OVERHEAD:
        return False
    h = bytes_at(frame, OVERHEAD)
    flags = np.int64(h[FLAGS_AT])
    typesize = np.int64(h[3])
    block = _u32(h, BLOCKSIZE_AT)
    if (h[0] != VERSION_FORMAT or flags & (FUTURE_FLAG | DOBITSHUFFLE) or typesize <= 0
            or _u32(h, NBYTES_AT) != nbytes or nbytes > MAX_BUFFERSIZE
            or _u32(h, CBYTES_AT) != size or block <= 0 or block > nbytes
            or block > MAX_BLOCKSIZE):
        return False
    if flags & MEMCPYED:  # the chunk's bytes as they are, after the header
        if size != nbytes + OVERHEAD:
            return False
        copy_box(copy, base_out, frame + OVERHEAD, i, bases, skips, extents, m, out_strides,
                 chunk_strides, row_bytes, at, item)
        return True
    fmt = flags >> FORMAT_SHIFT
    shuffled = (flags & DOSHUFFLE) != 0 and typesize > 1
    if (h[1] != FORMAT_VERSION
            or (shuffled and (typesize != item or block % typesize != 0
                              or (item != 2 and item != 4 and item != 8)
                              or base_out % item != 0))):
        return False
    if not (fmt == LZ4_FORMAT or fmt == BLOSCLZ_FORMAT
            or (fmt == ZSTD_FORMAT and funcs[ZSTD_CTX] != 0)):
        return False
    nblocks = (nbytes + block - 1) // block
    if nblocks > (size - OVERHEAD) // 4:
        return False
    offsets = bytes_at(frame + OVERHEAD, 4 * nblocks)
    body = bytes_at(frame, size)
    scratch = tmp.ctypes.data
    # the box's rows, in the chunk's order: row ``at`` starts at byte ``s`` of the chunk
    # and goes to byte ``o`` of the output
    for d in range(m):
        at[d] = 0
    o = bases[i]
    s = skips[i]
    left = np.int64(1)  # rows not yet placed whole
    for d in range(m - 1):
        left *= extents[i, d]
    prefetch_box_rows(base_out, o, at, i, extents, m, out_strides, row_bytes, 0, AHEAD)
    for j in range(nblocks):
        start = j * block
        bsize = min(block, nbytes - start)
        end = start + bsize
        # one stream per byte of the items, but for the last, shorter block
        split = (not flags & DONT_SPLIT and typesize <= MAX_SPLITS
                 and bsize // typesize >= MIN_BUFFERSIZE and bsize == block)
        splits = typesize if split else np.int64(1)
        each = bsize // splits
        if each * splits != bsize:
            return False
        off = _i32(offsets, 4 * j)
        for k in range(splits):
            if off < OVERHEAD or off > size - 4:
                return False
            cb = _i32(body, off)
            off += 4
            if cb < 0 or cb > size - off:
                return False
            streams[k] = scratch + k * each
            if cb == each:  # stored verbatim: joined from the frame, else copied
                if shuffled and splits == typesize:
                    streams[k] = frame + off
                else:
                    call3(copy, scratch + k * each, frame + off, each)
            elif _stream(funcs, fmt, frame + off, cb, scratch + k * each, each) != each:
                return False
            off += cb
        if shuffled and splits == 1:  # one stream: the item bytes one after another
            n_items = bsize // typesize
            for k in range(typesize):
                streams[k] = scratch + k * n_items
        # the parts of the box's rows inside this block, to their places
        while left > 0 and s < end:
            a = max(s, start)
            z = min(s + row_bytes, end)
            if z > a:
                prefetch_box_rows(base_out, o, at, i, extents, m, out_strides, row_bytes,
                                  AHEAD, 1)
                if shuffled:
                    join_into(streams, (a - start) // typesize, (z - a) // typesize,
                              typesize, base_out + o + (a - s))
                else:
                    call3(copy, base_out + o + (a - s), scratch + (a - start), z - a)
            if s + row_bytes > end:
                break  # the row goes on in the next block
            left -= 1
            o, s, _ = next_row(at, o, s, i, extents, m, out_strides, chunk_strides)
    return left == 0


@lazy_njit
def blosc_place(funcs, content_size, decompress, ctx, copy, src, starts, stops, nbytes,
                scratch, out, bases, skips, extents, out_strides, chunk_strides, item):
    """:func:`~exzarr.kernels.decode_scatter.decode_scatter` for blosc frames (the same
    arguments, and ``funcs``: an int64 array of the stream decompressors' addresses and
    the zstd context, indexed by :data:`BLOSCLZ`, :data:`LZ4`, :data:`ZSTD` and
    :data:`ZSTD_CTX`; ``content_size``/``decompress``/``ctx``: c-blosc's whole-frame
    route, through :mod:`exzarr.kernels.blosc_adapter`'s adapters).  Returns the number
    of frames done: ``len(starts)``, or the index of the first frame refused."""
    n = starts.shape[0]
    m = out_strides.shape[0]
    if funcs.shape[0] < 4 or n and stops.shape[0] < n or not box_ok(
            bases, skips, extents, n, m, nbytes, out_strides, chunk_strides, item,
            scratch.shape[0]):
        return 0
    base_src = src.ctypes.data
    dst = scratch.ctypes.data
    base_out = out.ctypes.data
    at = np.zeros(m, dtype=np.int64)
    streams = np.zeros(MAX_SPLITS, dtype=np.int64)  # where each stream of a block is
    in_order = forward(chunk_strides, m)  # (block by block: the rows in the frame's order)
    for i in range(n):
        row_bytes = box_row_bytes(i, starts[i], stops[i], bases, skips, extents, m, nbytes,
                                  out_strides, chunk_strides, item, src.shape[0],
                                  out.shape[0])
        if row_bytes < 0:
            return i
        frame = base_src + starts[i]
        size = stops[i] - starts[i]
        if in_order and rows_contiguous(i, extents, m, out_strides, chunk_strides, item) \
                and _place_frame(funcs, copy, frame, size, nbytes, item, scratch, base_out,
                                 i, bases, skips, extents, m, out_strides, chunk_strides,
                                 row_bytes, at, streams):
            continue  # (strided or backward boxes: decoded whole, then copied)
        if not decode_copy(content_size, decompress, ctx, copy, frame, size, nbytes, dst,
                           base_out, i, bases, skips, extents, m, out_strides, chunk_strides,
                           row_bytes, at, item):
            return i
    return n
