"""blosc's byte shuffle done before the compressor is called, with the same frames.

c-blosc's ``blosc_compress_ctx`` with byte shuffle makes, per block of its input, a
shuffled copy (byte 0 of every item, then byte 1, ...) and compresses that.  A write that
gathers a chunk's rows anyway can shuffle them on the way (one pass over the chunk instead
of two: :mod:`exzarr.kernels.shuffle`) and have blosc compress the shuffled bytes as they
are (no shuffle) in blocks of the same size.  The frame is then the usual one but for the
shuffle bit of its flags byte, which the caller sets, and for a frame blosc stored verbatim
(``MEMCPYED``: the chunk did not compress), whose data the caller must unshuffle.

Whether that holds for one configuration and chunk size is not assumed: :func:`plan`
compresses a sample both ways once (through the same C function) and accepts only a
configuration whose frames are equal byte for byte, learning the block size blosc picks
and the forced block size that makes blosc pick it without shuffle.  Everything here is
NumPy and ctypes; the compiled side is :mod:`exzarr.kernels.shuffle`.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..kernels.blosc_frame import BLOCKSIZE_AT, DOSHUFFLE, FLAGS_AT, MEMCPYED, OVERHEAD

__all__ = ["Preshuffle", "plan", "shuffle_blocks", "TYPESIZES"]

#: item sizes the compiled shuffle handles
TYPESIZES = (2, 4, 8)
_BLOCKSIZE = slice(BLOCKSIZE_AT, BLOCKSIZE_AT + 4)
#: chunks below this many bytes keep blosc's own shuffle (little to gain)
MIN_NBYTES = 4096


@dataclass(frozen=True)
class Preshuffle:
    """How to call blosc on pre-shuffled chunks (of the size :func:`plan` was asked
    about): shuffle items of ``typesize`` bytes in blocks of ``block`` bytes (the last
    block: what is left), then compress without shuffle with ``forced`` as the block size
    argument."""

    typesize: int
    block: int
    forced: int


def shuffle_blocks(data: np.ndarray, typesize: int, block: int) -> np.ndarray:
    """The bytes ``data`` (uint8, a multiple of ``typesize`` long) shuffled as blosc
    shuffles them: per block of ``block`` bytes, byte 0 of each item, then byte 1, ..."""
    out = np.empty_like(data)
    for start in range(0, data.size, block):
        part = data[start:start + block]
        out[start:start + part.size] = part.reshape(-1, typesize).T.reshape(-1)
    return out


def _sample(nbytes: int, typesize: int) -> np.ndarray:
    """A compressible chunk of ``nbytes``: a slow ramp of items with a little noise."""
    n = nbytes // typesize
    items = (np.arange(n, dtype=np.uint64) // 3) ^ (np.arange(n, dtype=np.uint64) % 5 << 7)
    raw = items.astype(f"<u{typesize}").view(np.uint8)
    return np.ascontiguousarray(raw[:nbytes])


def _compress(function: int, clevel: int, shuffle: int, typesize: int, src: np.ndarray,
              cname: bytes, blocksize: int) -> bytes | None:
    fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_size_t,
                          ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                          ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int)(function)
    dest = np.empty(src.size + OVERHEAD, dtype=np.uint8)
    n = fn(clevel, shuffle, typesize, src.size, src.ctypes.data, dest.ctypes.data, dest.size,
           cname, blocksize, 1)
    return dest[:n].tobytes() if n > 0 else None


@cache
def plan(function: int, cname: str, clevel: int, typesize: int, blocksize: int,
         nbytes: int) -> Preshuffle | None:
    """The pre-shuffled way to make, with ``blosc_compress_ctx`` at address ``function``,
    the byte-shuffled frames of chunks of ``nbytes`` (``cname``, ``clevel``, items of
    ``typesize``, ``blocksize`` as given to blosc), or None when it does not give the
    same frame for a sample chunk, or is not worth it (small chunks, item sizes the
    compiled shuffle lacks)."""
    if typesize not in TYPESIZES or nbytes < MIN_NBYTES or nbytes % typesize:
        return None
    name = cname.encode("ascii")
    sample = _sample(nbytes, typesize)
    usual = _compress(function, clevel, 1, typesize, sample, name, blocksize)
    if usual is None or usual[FLAGS_AT] & MEMCPYED:
        return None  # e.g. clevel 0: every frame is stored verbatim
    block = int.from_bytes(usual[_BLOCKSIZE], "little")
    if block <= 0 or block % typesize:
        return None
    shuffled = shuffle_blocks(sample, typesize, block)
    for forced in dict.fromkeys((block, block // typesize)):
        frame = _compress(function, clevel, 0, typesize, shuffled, name, forced)
        if frame is None or int.from_bytes(frame[_BLOCKSIZE], "little") != block:
            continue
        patched = bytearray(frame)
        patched[FLAGS_AT] |= DOSHUFFLE
        if bytes(patched) == usual:
            return Preshuffle(typesize, block, forced)
    return None
