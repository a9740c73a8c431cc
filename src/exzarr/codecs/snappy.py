"""A numcodecs codec for raw snappy, id ``"snappy"`` (optional extra).

numcodecs has no snappy codec of its own.  This one writes the *raw* snappy block
format, byte-identical to ``snappy.compress`` from python-snappy, using python-snappy
when installed and otherwise cramjam (which python-snappy itself is built on).
Importing this module registers the id in numcodecs' registry, so v2 metadata
``{"id": "snappy"}`` works through ``numcodecs.get_codec`` as well.
"""

from __future__ import annotations

import numpy as np
from numcodecs.abc import Codec
from numcodecs.compat import ensure_contiguous_ndarray, ndarray_copy
from numcodecs.registry import register_codec

from ..errors import CodecNotAvailableError

__all__ = ["Snappy", "snappy_backend"]

INSTALL_HINT = 'pip install "exzarr[snappy]" (or: pip install python-snappy)'


def snappy_backend():
    """(compress, decompress) functions for raw snappy, or raise CodecNotAvailableError."""
    try:
        import snappy as _snappy

        if hasattr(_snappy, "compress") and hasattr(_snappy, "uncompress"):
            return _snappy.compress, _snappy.uncompress
    except ImportError:
        pass
    try:
        import cramjam

        return (lambda b: bytes(cramjam.snappy.compress_raw(b)),
                lambda b: bytes(cramjam.snappy.decompress_raw(b)))
    except ImportError:
        raise CodecNotAvailableError(
            f"the snappy codec needs python-snappy or cramjam. Install it: {INSTALL_HINT}"
        ) from None


class Snappy(Codec):
    """Raw snappy compression (python-snappy ``compress``/``uncompress`` format)."""

    codec_id = "snappy"
    exzarr_kind = "bytes_bytes"

    def __init__(self):
        self._compress, self._decompress = snappy_backend()

    def encode(self, buf):
        buf = ensure_contiguous_ndarray(buf)
        return self._compress(memoryview(buf).cast("B"))

    def decode(self, buf, out=None):
        buf = ensure_contiguous_ndarray(buf)
        dec = self._decompress(bytes(memoryview(buf).cast("B")))
        return ndarray_copy(np.frombuffer(dec, dtype=np.uint8), out)

    def get_config(self):
        return {"id": self.codec_id}

    def __repr__(self):
        return "Snappy()"


register_codec(Snappy)
