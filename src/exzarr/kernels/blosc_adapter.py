"""c-blosc's ``blosc_compress_ctx`` behind the compressor shape compiled kernels call.

:func:`~exzarr.kernels.encode_gather.encode_gather` calls a compressor of the shape of
libzstd's ``ZSTD_compress2(ctx, dst, capacity, src, size) -> size`` (negative: an error).
c-blosc's reentrant entry point takes ten arguments instead::

    int blosc_compress_ctx(int clevel, int doshuffle, size_t typesize, size_t nbytes,
                           const void *src, void *dest, size_t destsize,
                           const char *compressor, size_t blocksize, int numinternalthreads)

:func:`compress_address` is the address of a compiled C callable of the first shape whose
``ctx`` is the address of a parameter block of six 64-bit integers, :data:`PARAMS` in that
order: ``blosc_compress_ctx``'s own address, clevel, doshuffle, typesize, blocksize and the
address of the compressor's NUL-terminated name.  It calls ``blosc_compress_ctx`` with one
internal thread (the calling thread; the caller runs its own pool) and ``size + 16`` bytes
of room, as numcodecs' ``Blosc`` does (blosc's output depends on the room it is given: a
chunk that does not compress into it is stored verbatim), narrows its ``int`` result and
answers -1 for anything but a frame (0: did not fit, negative: an error) and when the
capacity is less than that room.

:func:`preshuffled_address` is the same for chunks the caller has already shuffled
(:mod:`exzarr.codecs.blosc_preshuffle`): its parameter block has doshuffle 0, the forced
block size that gives the usual blocks, and a seventh field, the block size itself.  It
sets the shuffle bit of the frame's flags and, when blosc stored the chunk verbatim,
unshuffles the stored bytes: the frame is then the one the usual call makes.

:func:`decode_addresses` are the two adapters that let
:func:`~exzarr.kernels.decode_scatter.decode_scatter` decode blosc frames with
``blosc_decompress_ctx`` (see the section at the end).

This module imports Numba: import it only where a kernel that uses it is about to run.
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np
from numba import types
from numba.extending import register_jitable

from .blosc_frame import CBYTES_AT, DOSHUFFLE, FLAGS_AT, MEMCPYED, NBYTES_AT, OVERHEAD
from .cfunc import call4, call10, peek
from .pointers import bytes_at
from .shuffle import unshuffle_into

__all__ = ["PARAMS", "OVERHEAD", "compress_address", "preshuffled_address",
           "decode_addresses"]

#: the parameter block's fields, in order (the pre-shuffled adapter's has ``block`` too)
PARAMS = ("function", "clevel", "doshuffle", "typesize", "blocksize", "compressor")

_SIGNATURE = types.int64(types.int64, types.int64, types.int64, types.int64, types.int64)


@register_jitable
def _blosc(ctx, dst, capacity, src, size):
    # room for exactly what numcodecs gives: blosc stores a block verbatim (a memcpy
    # frame) when compressing would not fit, so more room would change the frame
    room = size + OVERHEAD
    if capacity < room:
        return -1
    result = call10(peek(ctx), peek(ctx + 8), peek(ctx + 16), peek(ctx + 24), size, src, dst,
                    room, peek(ctx + 40), peek(ctx + 32), 1)
    result &= 0xFFFFFFFF  # a C int: the upper half of the register is undefined
    if result == 0 or result >= 0x80000000:
        return -1
    return result


def _compress(ctx, dst, capacity, src, size):
    return _blosc(ctx, dst, capacity, src, size)


def _compress_preshuffled(ctx, dst, capacity, src, size):
    result = _blosc(ctx, dst, capacity, src, size)
    if result < OVERHEAD:
        return -1
    flags = bytes_at(dst + FLAGS_AT, 1)
    if flags[0] & MEMCPYED:  # stored verbatim: the items go back in their order
        if result != size + OVERHEAD:
            return -1
        unshuffle_into(bytes_at(src, size), bytes_at(dst + OVERHEAD, size), size,
                       peek(ctx + 24), peek(ctx + 48))
    flags[0] |= DOSHUFFLE
    return result


def _compiled(fn, signature=_SIGNATURE) -> int:
    try:  # (a cfunc is always compiled in nopython mode)
        compiled = numba.cfunc(signature, cache=True)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        compiled = numba.cfunc(signature, cache=False)(fn)
    address = compiled.address
    if not address:
        raise RuntimeError("the compiled blosc adapter has no address")
    return int(address)


@cache
def compress_address() -> int:
    """The address of the compiled adapter (compiled on the first call)."""
    return _compiled(_compress)


@cache
def preshuffled_address() -> int:
    """The address of the adapter for pre-shuffled chunks (compiled on the first call)."""
    return _compiled(_compress_preshuffled)


# -- decoding ------------------------------------------------------------------------------
# :func:`exzarr.kernels.decode_scatter.decode_scatter` calls a frame-size function of the
# shape of libzstd's ``ZSTD_getFrameContentSize(src, size)`` and a decompressor of the
# shape of ``ZSTD_decompressDCtx(ctx, dst, capacity, src, size)``.  For blosc frames the
# first reads the header (the frame must be exactly ``size`` bytes: c-blosc's 1.x
# decompressor reads as far as the header says, so the header's length is checked against
# the buffer's), the second calls ``blosc_decompress_ctx(src, dst, capacity, 1)`` whose
# address is ``ctx``.

_SIZE_SIGNATURE = types.int64(types.int64, types.int64)


@register_jitable
def _u32(h, at):  # the little-endian uint32 at byte ``at`` of ``h``
    return (np.int64(h[at]) | (np.int64(h[at + 1]) << 8) | (np.int64(h[at + 2]) << 16)
            | (np.int64(h[at + 3]) << 24))


def _frame_size(src, size):
    if size < OVERHEAD:
        return -1
    header = bytes_at(src, OVERHEAD)
    if _u32(header, CBYTES_AT) != size:
        return -1
    return _u32(header, NBYTES_AT)


def _decompress(ctx, dst, capacity, src, size):
    result = call4(ctx, src, dst, capacity, 1) & 0xFFFFFFFF  # a C int
    if result >= 0x80000000:
        return -1
    return result


@cache
def decode_addresses() -> tuple[int, int]:
    """(frame size, decompress) adapters' addresses (compiled on the first call)."""
    return _compiled(_frame_size, _SIZE_SIGNATURE), _compiled(_decompress)
