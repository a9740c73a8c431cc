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


def _zstd(nbytes: int) -> Into:
    from numcodecs.zstd import decompress

    def into(buf: memoryview, out: np.ndarray) -> bool:
        if zstd_content_size(buf) != nbytes:
            return False
        try:
            decompress(buf, out)
        except Exception:
            return False
        return True
    return into


def _blosc(nbytes: int) -> Into:
    from numcodecs.blosc import decompress

    def into(buf: memoryview, out: np.ndarray) -> bool:
        # header: nbytes, blocksize, cbytes (the frame's own length) at offset 4
        if buf.nbytes < 16 or struct.unpack_from("<II", buf, 4)[0] != nbytes \
                or struct.unpack_from("<I", buf, 12)[0] != buf.nbytes:
            return False
        try:
            decompress(buf, out)
        except Exception:
            return False
        return True
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
