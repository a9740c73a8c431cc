"""Decoding only the start of a zstd frame: what a read needs of a chunk's first bytes.

A single-element read of a zstd chunk needs the chunk's bytes up to that element (C
order), not all of them.  zstd frames are a sequence of blocks (at most 128 KiB of
output each) that only look back, so streaming decompression that is handed the
compressed bytes a piece at a time can stop once the output reaches the bytes wanted:
decoding costs the blocks that come before them.  Measured here on a 1 MiB float32 chunk
(zstd level 1): the first 10% in ~0.1 ms, the first half in ~0.45 ms, the whole chunk in
~0.85 ms, so the readers ask for a prefix only up to
``exzarr.array.reader.PREFIX_FRACTION`` (3/4) of a chunk, beyond which streaming costs
more than decoding the whole chunk in one call.  A prefix that ends in the chunk's last
block (:data:`BLOCK_BYTES` from its end) saves nothing: every block is decoded, at
streaming's extra cost (1.02-1.25x the one-call decode of a 64 KiB chunk, one block;
1.1-1.3x for the second block of a 256 KiB chunk), so the decoder refuses it and the
chunk is decoded whole.

Taken only for a frame that is the chunk's whole buffer (one frame, nothing after it),
announces exactly the chunk's size and carries no content checksum (a checksum can only
be checked at the end: such frames are decoded whole).  Anything the library refuses
makes :meth:`PrefixDecoder.__call__` answer False, and the caller decodes the chunk whole
the checked way, which reports what is wrong.  Corruption after the bytes a read needs
goes unnoticed by that read (a read of the rest reports it), as for a ranged read.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["PrefixDecoder"]

#: compressed bytes handed to the library per call
_STEP = 32 << 10
#: the most output one zstd block holds (ZSTD_BLOCKSIZE_MAX): a prefix that ends within
#: this many bytes of the end of the chunk is decoded whole
BLOCK_BYTES = 128 << 10

_RESET_SESSION = 1  # ZSTD_reset_session_only


class _Buffer(ctypes.Structure):
    """ZSTD_inBuffer / ZSTD_outBuffer (the same layout)."""

    _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]


class PrefixDecoder:
    """``decoder(src, out, need) -> bool``: decode the first ``need`` bytes of the zstd
    frame ``src`` (a uint8 array) into ``out`` (a writable flat uint8 array of the
    frame's content size), with one streaming context per thread (``new_context()``
    makes one, an object whose ``ptr`` it is and which frees it).  Built from a ctypes
    library that exports libzstd's stable API; raises AttributeError when it lacks it."""

    def __init__(self, lib, new_context: Callable[[], Any]) -> None:
        vp, sz = ctypes.c_void_p, ctypes.c_size_t
        self._new_context = new_context  # -> an owner of a decompression context (.ptr)
        self._frame_size = lib.ZSTD_findFrameCompressedSize
        self._frame_size.argtypes, self._frame_size.restype = [vp, sz], sz
        self._reset = lib.ZSTD_DCtx_reset
        self._reset.argtypes, self._reset.restype = [vp, ctypes.c_int], sz
        self._stream = lib.ZSTD_decompressStream
        self._stream.argtypes = [vp, ctypes.POINTER(_Buffer), ctypes.POINTER(_Buffer)]
        self._stream.restype = sz
        self._is_error = lib.ZSTD_isError
        self._is_error.argtypes, self._is_error.restype = [sz], ctypes.c_uint
        self._local = threading.local()

    def _context(self) -> int:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:  # kept by the thread, freed with it
            ctx = self._local.ctx = self._new_context()
        return int(ctx.ptr)

    def __call__(self, src: np.ndarray, out: np.ndarray, need: int) -> bool:
        if not 0 < need <= out.nbytes - BLOCK_BYTES:
            return False  # nothing, or a prefix ending in the last block: decode it whole
        if self._frame_size(src.ctypes.data, src.nbytes) != src.nbytes:
            return False  # not one frame spanning the buffer (or a library error)
        ctx = self._context()
        if self._is_error(self._reset(ctx, _RESET_SESSION)):
            return False
        dst = _Buffer(out.ctypes.data, out.nbytes, 0)
        inp = _Buffer(src.ctypes.data, 0, 0)
        total = src.nbytes
        while dst.pos < need:
            if inp.pos == inp.size:
                if inp.size >= total:
                    return False  # the frame ended before ``need`` bytes came out
                inp.size = min(total, inp.size + _STEP)
            before = (dst.pos, inp.pos)
            if self._is_error(self._stream(ctx, ctypes.byref(dst), ctypes.byref(inp))):
                return False
            if (dst.pos, inp.pos) == before and inp.pos < inp.size:
                return False  # no progress with input left: never loop
        return True
