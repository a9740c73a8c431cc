"""A numcodecs codec for raw snappy, id ``"snappy"`` (optional extra).

numcodecs has no snappy codec of its own.  This one writes the *raw* snappy block
format, byte-identical to ``snappy.compress`` from python-snappy, using python-snappy
when installed and otherwise cramjam (which python-snappy itself is built on).

Importing this module imports neither numcodecs nor a snappy library.  :func:`register`
(called by :func:`exzarr.codecs.numcodecs_adapter.numcodecs_registry` the first time
numcodecs is used) makes :class:`Snappy` a ``numcodecs.abc.Codec`` and adds the id to
numcodecs' registry, so v2 metadata ``{"id": "snappy"}`` works through
``numcodecs.get_codec`` as well (zarr-python reads such arrays in this process).
"""

from __future__ import annotations

import numpy as np

from ..errors import CodecNotAvailableError

__all__ = ["Snappy", "snappy_backend", "register"]

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


class Snappy:
    """Raw snappy compression (python-snappy ``compress``/``uncompress`` format).

    A ``numcodecs.abc.Codec`` (registered as a virtual subclass by :func:`register`, so
    this module does not import numcodecs).
    """

    codec_id = "snappy"
    exzarr_kind = "bytes_bytes"

    def __init__(self):
        self._compress, self._decompress = snappy_backend()

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {"id": self.codec_id}

    def encode(self, buf):
        from numcodecs.compat import ensure_contiguous_ndarray

        buf = ensure_contiguous_ndarray(buf)
        return self._compress(memoryview(buf).cast("B"))

    def decode(self, buf, out=None):
        from numcodecs.compat import ensure_contiguous_ndarray, ndarray_copy

        buf = ensure_contiguous_ndarray(buf)
        dec = self._decompress(bytes(memoryview(buf).cast("B")))
        return ndarray_copy(np.frombuffer(dec, dtype=np.uint8), out)

    def __eq__(self, other):  # (unhashable then, as numcodecs codecs)
        return isinstance(other, Snappy)

    def __repr__(self):
        return "Snappy()"


def register() -> None:
    """Make ``Snappy`` a numcodecs codec and register its id (imports numcodecs)."""
    from numcodecs.abc import Codec
    from numcodecs.registry import register_codec

    Codec.register(Snappy)
    register_codec(Snappy)
