"""One-call decoders: a chunk's compressed bytes straight into its output buffer.

The checked route (:func:`~exzarr.codecs.numcodecs_adapter.nc_decode`) bounds every
decompression, names the chunk in every error and handles every codec; for the common
compressors on the hot path of a read, most of its cost per chunk is Python around the
one library call.  A direct decoder is that call alone, taken only when the chunk's
header announces exactly the size the output has (the library then writes at most that
and checks the rest): ``into(buf, out) -> bool``.  False means nothing in ``out`` is to be
trusted, and the caller decodes the chunk the checked way, which says what is wrong with
it.  A bomb, a truncated frame or trailing bytes therefore cost one failed call and then
fail exactly as before.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from .bounded import zstd_content_size

__all__ = ["direct_decoder"]

Into = Callable[[memoryview, np.ndarray], bool]


def _attempt(decompress: Callable[[memoryview, np.ndarray], object], buf: memoryview,
             out: np.ndarray) -> bool:
    """One library call; any failure declines the chunk (the checked route then explains)."""
    try:
        decompress(buf, out)
    except Exception:
        return False
    return True


def _zstd(nbytes: int) -> Into:
    from numcodecs.zstd import decompress

    def into(buf: memoryview, out: np.ndarray) -> bool:
        return zstd_content_size(buf) == nbytes and _attempt(decompress, buf, out)
    return into


def _blosc(nbytes: int) -> Into:
    from numcodecs.blosc import decompress

    def into(buf: memoryview, out: np.ndarray) -> bool:
        # header: nbytes, blocksize, cbytes (the frame's own length) from offset 4
        return (buf.nbytes >= 16 and struct.unpack_from("<I", buf, 4)[0] == nbytes
                and struct.unpack_from("<I", buf, 12)[0] == buf.nbytes
                and _attempt(decompress, buf, out))
    return into


#: numcodecs' own codec classes (module, class name) -> the decoder factory
_FACTORIES: dict[tuple[str, str], Callable[[int], Into]] = {
    ("numcodecs.zstd", "Zstd"): _zstd, ("numcodecs.blosc", "Blosc"): _blosc}


def direct_decoder(codec: object, nbytes: int) -> Into | None:
    """The one-call decoder for numcodecs codec instance ``codec`` and chunks of exactly
    ``nbytes`` (``out``: a flat uint8 array of that size), or None when there is none
    (other codecs, and other classes registered under numcodecs' ids)."""
    cls = type(codec)
    make = _FACTORIES.get((cls.__module__, cls.__name__))
    if make is None or nbytes <= 0:
        return None
    return make(nbytes)
