"""Gather many chunks from a source array and compress each, in one compiled call.

The write-side twin of :mod:`exzarr.kernels.decode_scatter`: a write of many small chunks
(the inner chunks of a shard) spends more time in Python per chunk (the copy of its block,
the fill_value check, the call into the compressor, a new bytes object) than a 64 KiB
chunk's compression leaves room for.  :func:`encode_gather` does all of it for a batch of
chunks that sit whole in the source, without the GIL: for each chunk, a copy of its rows
into ``scratch`` (the next rows prefetched as it goes: :mod:`exzarr.kernels.prefetch`),
a comparison with the fill pattern (all fill: the chunk is not stored) and one
compression into the next free bytes of ``out``.

The compressor comes in as the address of a C function with the shape of libzstd's
``ZSTD_compress2(ctx, dst, capacity, src, size)`` (called through
:mod:`exzarr.kernels.cfunc`) and its context pointer, so this module knows no codec.
Address 0 means no compression: each chunk's frame is its bytes, gathered straight into
``out`` (uncompressed chunks: one copy, checked against the fill there), or with
``dests`` checked in the source and copied into each chunk's own object with
non-temporal stores (:mod:`exzarr.kernels.stream`: an in-memory store's values).  A
result that is not a size within the capacity (an error) stops the batch: its index is
returned and the caller encodes it and the rest the checked way.  There is no NumPy twin:
without Numba the caller takes its per-chunk path, which gives the same bytes.

A compressor that takes its input byte-shuffled (blosc's shuffle done by the caller:
:mod:`exzarr.codecs.blosc_preshuffle`) comes with ``shuffle`` (the item size; 0: none) and
``block``: the rows are then shuffled as they are gathered (:mod:`exzarr.kernels.shuffle`),
in one pass, and ``fill`` is the fill pattern shuffled the same way.

With ``files`` each frame is written to its own file as soon as it is made, from the
start of ``out``, while it is still in the caches (:mod:`exzarr.kernels.file_write`:
atomically, through a temporary file): a local write's whole group of chunks in one call
without the GIL.  (Uncompressed chunks are gathered first too: handing ``writev`` the
source's rows instead, one segment per row, cost the kernel more than the copy it saved,
measured on ext4 and tmpfs.)
"""

from __future__ import annotations

import numpy as np
from numba import carray
from numba.extending import register_jitable

from .cfunc import call3, call5
from .file_write import write_file
from .jit import lazy_njit
from .pointers import bytes_at, i64_at, words_at
from .prefetch import prefetch_ahead
from .shuffle import gather_shuffle
from .stream import store_fence, stream_copy

__all__ = ["encode_gather"]


@lazy_njit
def encode_gather(compress, ctx, copy, src, bases, rows, row_bytes, nbytes, fill, check_fill,
                  scratch, out, sizes, shuffle=0, block=0, dests=None, room=0, files=None):
    """For each ``i``: copy row ``r`` (``row_bytes`` long) of the chunk at byte offset
    ``bases[i] + rows[r]`` of ``src`` to ``scratch``; when ``check_fill`` and those
    ``nbytes`` equal ``fill``'s first ``nbytes``, ``sizes[i] = -1``; else compress them into ``out`` after
    the previous chunk's bytes and set ``sizes[i]`` to the compressed size.  ``src`` is the
    source array (offsets count from its first element; the caller checks every chunk lies
    inside it); ``fill`` and ``scratch`` are uint64 arrays of at least ``nbytes`` (``fill``
    and ``rows`` contiguous: the row helpers read them by address); ``out`` a
    flat uint8 array; ``compress`` (0: none, the frame is the gathered bytes, written
    straight into ``out``) and ``copy`` (C's ``memmove``) are addresses; ``shuffle`` and
    ``block`` (module docstring): the rows shuffled on the way into ``scratch``; ``dests``
    (int64 addresses, one per chunk): chunk ``i``'s frame goes to ``dests[i]``, which has
    ``room`` bytes, instead of into ``out`` (uncompressed: copied straight there);
    ``files`` (``(fs, names, name_at, held, status)``): chunk ``i``'s frame is written to
    the file ``names[name_at[3 * i + 1]:]`` in the folder ``names[name_at[3 * i + 2]:]``
    through the temporary file ``names[name_at[3 * i]:]``
    (:func:`~exzarr.kernels.file_write.write_file`; ``held[i]``:
    the descriptor of the file it replaced, or -1; ``status``: the failure that stopped
    the batch, and room for :mod:`~exzarr.kernels.file_write`'s hint).  Returns the
    number of chunks done: ``len(bases)``, or the index of the first one refused (or,
    with ``files``, not written: nothing of it is left)."""
    n = bases.shape[0]
    if n and (scratch.shape[0] * 8 < nbytes or fill.shape[0] * 8 < nbytes
              or rows.shape[0] * row_bytes != nbytes
              or rows.strides[0] != 8 or fill.strides[0] != 8):  # (read by address)
        return 0
    raw = compress == 0
    shuffled = shuffle != 0 and not raw
    if shuffled and ((shuffle != 2 and shuffle != 4 and shuffle != 8) or block <= 0
                     or block % shuffle or row_bytes % shuffle):
        return 0
    if dests is not None and dests.shape[0] < n:
        return 0
    to_files = files is not None
    if to_files and (dests is not None or files[2].shape[0] < 3 * n
                     or files[3].shape[0] < n or files[4].shape[0] < 3):
        return 0
    fill_at = fill.ctypes.data  # (the helpers take the pattern's address: no references)
    if raw and dests is not None:
        return _raw_to_dests(copy, src.ctypes.data, bases, rows, row_bytes, nbytes, fill_at,
                             check_fill, sizes, dests, room)
    base_src = src.ctypes.data
    base_out = out.ctypes.data
    rows_at, nrows = rows.ctypes.data, rows.shape[0]  # (for the prefetches: no references)
    cap = out.shape[0]
    pos = 0
    for i in range(n):
        if raw:
            if nbytes > cap - pos:
                return i
            dst = base_out + pos  # the frame is the chunk's bytes: gather them in place
        else:
            dst = scratch.ctypes.data
        b = base_src + bases[i]
        if shuffled:
            gather_shuffle(base_src, bases[i], rows, row_bytes, nbytes, shuffle, block,
                           scratch.view(np.uint8))
        else:
            for r in range(nrows):
                prefetch_ahead(b, rows_at, nrows, r, row_bytes)
                call3(copy, dst + r * row_bytes, b + rows[r], row_bytes)
        same = check_fill and _is_fill(dst, nbytes, fill_at, 0)
        if same:
            sizes[i] = -1
            continue
        if raw:
            size = nbytes
        elif dests is not None:  # a frame of its own
            size = call5(compress, ctx, dests[i], room, dst, nbytes)
            if size < 0 or size > room:
                return i
            sizes[i] = size
            continue
        else:
            size = call5(compress, ctx, base_out + pos, cap - pos, dst, nbytes)
            if size < 0 or size > cap - pos:
                return i
        if to_files:  # written now, from the start of ``out``: the next frame goes there
            fs, names, name_at, held, status = files
            at = 3 * i
            done = write_file(fs, names, name_at[at], name_at[at + 1], name_at[at + 2],
                              base_out + pos, size, status)
            if done == -2:
                return i
            held[i] = done
            sizes[i] = size
            continue
        sizes[i] = size
        pos += size
    return n


@register_jitable
def _raw_to_dests(copy, base_src, bases, rows, row_bytes, nbytes, fill_at, check_fill, sizes,
                  dests, room):
    """:func:`encode_gather` without compression, each chunk's bytes into its own
    ``dests[i]``: the source's rows checked against the fill pattern (at address
    ``fill_at``) where they are (no gathered copy to read back), then copied past the
    caches (:func:`~exzarr.kernels.stream.stream_copy`: these bytes go into a store, not
    to be read soon), fenced before returning."""
    n = bases.shape[0]
    if nbytes > room:
        return 0
    rows_at, nrows = rows.ctypes.data, rows.shape[0]
    for i in range(n):
        b = base_src + bases[i]
        if check_fill and _rows_are_fill(b, rows_at, nrows, row_bytes, fill_at):
            sizes[i] = -1
            continue
        dst = dests[i]
        for r in range(nrows):
            prefetch_ahead(b, rows_at, nrows, r, row_bytes)
            stream_copy(copy, dst + r * row_bytes, b + rows[r], row_bytes)
        sizes[i] = nbytes
    store_fence()
    return n


@register_jitable
def _rows_are_fill(b, rows_at, nrows, row_bytes, fill_at):
    """Whether the ``nrows`` rows at ``b + rows[r]`` (``row_bytes`` each; ``rows_at``: the
    int64 offsets' address) hold the fill pattern's bytes (at address ``fill_at``), row
    after row.  (Per row: addresses, not arrays, as in :mod:`exzarr.kernels.prefetch`.)"""
    rows = carray(i64_at(rows_at), (nrows,))
    for r in range(nrows):
        if not _is_fill(b + rows[r], row_bytes, fill_at, r * row_bytes):
            return False
    return True


@register_jitable
def _is_fill(addr, size, fill_at, at):
    """Whether the ``size`` bytes at address ``addr`` equal the fill pattern's (at address
    ``fill_at``, 8-byte aligned) from its byte ``at``: whole words where both sides are
    aligned, the rest byte by byte."""
    start = 0
    if addr % 8 == 0 and at % 8 == 0:
        words = size // 8
        here = words_at(addr, words)
        pattern = words_at(fill_at + at, words)
        for w in range(words):
            if here[w] != pattern[w]:
                return False
        start = words * 8
    if start < size:
        raw = bytes_at(addr, size)
        pattern_bytes = bytes_at(fill_at + at, size)
        for k in range(start, size):
            if raw[k] != pattern_bytes[k]:
                return False
    return True
