"""blosc's byte shuffle, fused with the gather of a chunk's rows (compiled helpers).

:func:`gather_shuffle` copies a chunk's rows out of the source and shuffles them in the
same pass: per block of ``block`` bytes of the chunk (the last block: what is left), byte
0 of every item, then byte 1, ... (:func:`exzarr.codecs.blosc_preshuffle.shuffle_blocks`
is the NumPy statement).  Items are read as 2-, 4- or 8-byte words and split with shifts,
which the compiler vectorises, and the next rows are prefetched
(:mod:`exzarr.kernels.prefetch`): on this project's machine it gathers and shuffles a
1 MiB chunk faster than a copy of it and c-blosc's shuffle after.
:func:`unshuffle_into` undoes it, byte by byte, for the rare frame blosc stores verbatim.

Numba helpers (``register_jitable``): called from compiled kernels.  This module imports
Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

import numpy as np
from numba import carray
from numba.extending import register_jitable

from .pointers import u8_at, u16_at, u32_at, u64_at
from .prefetch import prefetch_ahead

__all__ = ["gather_shuffle", "unshuffle_into", "join_into"]


@register_jitable
def _split(addr, count, typesize, out, o, n):
    """Byte ``k`` of each of the ``count`` items at ``addr`` to byte ``o + k * n + i`` of
    the bytes at address ``out``.  (Called per row: views made from addresses take no
    references, where slices of an array would: :mod:`exzarr.kernels.prefetch`.)"""
    if typesize == 4:
        w4 = carray(u32_at(addr), (count,))
        a0 = carray(u8_at(out + o), (count,))
        a1 = carray(u8_at(out + o + n), (count,))
        a2 = carray(u8_at(out + o + 2 * n), (count,))
        a3 = carray(u8_at(out + o + 3 * n), (count,))
        for i in range(count):
            v = w4[i]
            a0[i] = np.uint8(v & 0xFF)
            a1[i] = np.uint8((v >> 8) & 0xFF)
            a2[i] = np.uint8((v >> 16) & 0xFF)
            a3[i] = np.uint8(v >> 24)
    elif typesize == 8:
        w8 = carray(u64_at(addr), (count,))
        for k in range(0, 8, 4):  # two passes of four outputs: fewer live streams
            b0 = carray(u8_at(out + o + k * n), (count,))
            b1 = carray(u8_at(out + o + (k + 1) * n), (count,))
            b2 = carray(u8_at(out + o + (k + 2) * n), (count,))
            b3 = carray(u8_at(out + o + (k + 3) * n), (count,))
            shift = np.uint64(8 * k)
            for i in range(count):
                v = w8[i] >> shift
                b0[i] = np.uint8(v & np.uint64(0xFF))
                b1[i] = np.uint8((v >> np.uint64(8)) & np.uint64(0xFF))
                b2[i] = np.uint8((v >> np.uint64(16)) & np.uint64(0xFF))
                b3[i] = np.uint8((v >> np.uint64(24)) & np.uint64(0xFF))
    else:  # 2
        w2 = carray(u16_at(addr), (count,))
        c0 = carray(u8_at(out + o), (count,))
        c1 = carray(u8_at(out + o + n), (count,))
        for i in range(count):
            v = w2[i]
            c0[i] = np.uint8(v & 0xFF)
            c1[i] = np.uint8(v >> 8)


@register_jitable
def gather_shuffle(src, base, rows, row_bytes, nbytes, typesize, block, out):
    """Copy row ``r`` of a chunk (``row_bytes`` at address ``src + base + rows[r]``) into
    ``out`` (uint8, ``nbytes`` or more), shuffled in blocks of ``block`` bytes, items of
    ``typesize`` (2, 4 or 8) bytes.  The caller checks ``row_bytes``, ``block`` and
    ``nbytes`` are multiples of ``typesize`` and every row lies in the source."""
    pos = 0  # where the row starts in the chunk
    dst = out.ctypes.data
    rows_at, nrows = rows.ctypes.data, rows.shape[0]
    for r in range(nrows):
        prefetch_ahead(src + base, rows_at, nrows, r, row_bytes)
        at = src + base + rows[r]
        done = 0
        while done < row_bytes:  # a row may cross from one block into the next
            start = (pos // block) * block
            size = min(block, nbytes - start)
            take = min(row_bytes - done, start + size - pos)
            _split(at + done, take // typesize, typesize, dst,
                   start + (pos - start) // typesize, size // typesize)
            done += take
            pos += take


@register_jitable
def unshuffle_into(src, dst, nbytes, typesize, block):
    """The inverse: the ``nbytes`` shuffled bytes ``src`` (uint8 array) back to items in
    ``dst`` (uint8 array)."""
    for start in range(0, nbytes, block):
        size = min(block, nbytes - start)
        n = size // typesize
        for k in range(typesize):
            for i in range(n):
                dst[start + i * typesize + k] = src[start + k * n + i]


@register_jitable
def join_into(streams, i0, count, typesize, dst):
    """Items ``i0 .. i0 + count`` of a shuffled block (byte ``k`` of item ``i`` at address
    ``streams[k] + i``, items of ``typesize`` 2, 4 or 8 bytes) to the ``count`` items at
    address ``dst`` (aligned to the item size), in one pass: the bytes are joined with
    shifts into words, which the compiler vectorises."""
    if typesize == 4:
        d4 = carray(u32_at(dst), (count,))
        a0 = carray(u8_at(streams[0] + i0), (count,))
        a1 = carray(u8_at(streams[1] + i0), (count,))
        a2 = carray(u8_at(streams[2] + i0), (count,))
        a3 = carray(u8_at(streams[3] + i0), (count,))
        for i in range(count):
            d4[i] = (np.uint32(a0[i]) | (np.uint32(a1[i]) << np.uint32(8))
                     | (np.uint32(a2[i]) << np.uint32(16)) | (np.uint32(a3[i]) << np.uint32(24)))
    elif typesize == 8:
        d8 = carray(u64_at(dst), (count,))
        b0 = carray(u8_at(streams[0] + i0), (count,))
        b1 = carray(u8_at(streams[1] + i0), (count,))
        b2 = carray(u8_at(streams[2] + i0), (count,))
        b3 = carray(u8_at(streams[3] + i0), (count,))
        b4 = carray(u8_at(streams[4] + i0), (count,))
        b5 = carray(u8_at(streams[5] + i0), (count,))
        b6 = carray(u8_at(streams[6] + i0), (count,))
        b7 = carray(u8_at(streams[7] + i0), (count,))
        for i in range(count):
            lo = (np.uint64(b0[i]) | (np.uint64(b1[i]) << np.uint64(8))
                  | (np.uint64(b2[i]) << np.uint64(16)) | (np.uint64(b3[i]) << np.uint64(24)))
            hi = (np.uint64(b4[i]) | (np.uint64(b5[i]) << np.uint64(8))
                  | (np.uint64(b6[i]) << np.uint64(16)) | (np.uint64(b7[i]) << np.uint64(24)))
            d8[i] = lo | (hi << np.uint64(32))
    else:  # 2
        d2 = carray(u16_at(dst), (count,))
        c0 = carray(u8_at(streams[0] + i0), (count,))
        c1 = carray(u8_at(streams[1] + i0), (count,))
        for i in range(count):
            d2[i] = np.uint16(c0[i]) | (np.uint16(c1[i]) << np.uint16(8))
