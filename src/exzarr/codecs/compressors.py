"""The v3 core compression codecs ``gzip``, ``zstd`` and ``blosc`` (bytes -> bytes).

They run on numcodecs' C implementations (which release the GIL) and write exactly the
bytes numcodecs writes, so chunks are interchangeable with zarr-python and tensorstore.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from ..errors import InvalidMetadataError
from ._base import NO_CONTEXT, BytesBytesCodec, ChunkSpec, DecodeContext
from .direct import direct_decoder
from .native_encode import NativeEncoder, numcodecs_encoder
from .numcodecs_adapter import nc_decode, nc_encode, nc_get_codec

__all__ = ["GzipCodec", "ZstdCodec", "BloscCodec", "NumcodecsBackedCodec"]


class NumcodecsBackedCodec(BytesBytesCodec):
    """A bytes -> bytes codec whose work is done by a numcodecs codec instance."""

    requires = (("numcodecs", "numcodecs"),)

    def numcodecs_config(self) -> dict:
        raise NotImplementedError

    def to_numcodecs(self):
        """The equivalent numcodecs codec (what v2 metadata stores as ``compressor``)."""
        return nc_get_codec(self.numcodecs_config())

    @cached_property
    def _nc(self):
        return self.to_numcodecs()

    def encode(self, data, spec: ChunkSpec) -> bytes | np.ndarray:
        return nc_encode(self._nc, data)

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT):
        return nc_decode(self._nc, data, ctx)

    def decode_into(self, data, out, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> None:
        nc_decode(self._nc, data, ctx, out=out)

    def direct_decoder(self, nbytes: int) -> Callable[[memoryview, np.ndarray], bool] | None:
        """``into(buf, out) -> bool``: decode ``buf`` into ``out`` (a flat uint8 array of
        ``nbytes``) with one call into the library, for a chunk whose header announces
        exactly ``nbytes``; False (``out`` then holds nothing to trust) sends the chunk down
        the checked path (:func:`nc_decode`), which says what is wrong with it.  None: this
        codec has no such shortcut."""
        return direct_decoder(self._nc, nbytes)

    def native_encoder(self) -> NativeEncoder | None:
        """This codec as a compressor compiled code calls (:mod:`exzarr.codecs.native_encode`:
        zstd, and blosc with its ``typesize`` set), or None."""
        return numcodecs_encoder(self._nc, None)


def _int(value, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidMetadataError(f"{what} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


class GzipCodec(NumcodecsBackedCodec):
    name = "gzip"
    numcodecs_id = "gzip"

    def __init__(self, level: int = 5):
        self.level = _int(level, "gzip level", 0, 9)

    def configuration(self):
        return {"level": self.level}

    def numcodecs_config(self):
        return {"id": "gzip", "level": self.level}

    @classmethod
    def configuration_from_numcodecs(cls, config: dict) -> dict:
        return {"level": 1, **config}  # numcodecs' default level


class ZstdCodec(NumcodecsBackedCodec):
    name = "zstd"
    numcodecs_id = "zstd"

    def __init__(self, level: int = 0, checksum: bool = False):
        self.level = _int(level, "zstd level", -131072, 22)
        if not isinstance(checksum, bool):
            raise InvalidMetadataError(f"zstd checksum must be true or false, got {checksum!r}")
        self.checksum = checksum

    def configuration(self):
        return {"level": self.level, "checksum": self.checksum}

    def numcodecs_config(self):
        return {"id": "zstd", "level": self.level, "checksum": self.checksum}

    @classmethod
    def configuration_from_numcodecs(cls, config: dict) -> dict:
        return {"level": 1, "checksum": False, **config}


SHUFFLE_NAMES = ("noshuffle", "shuffle", "bitshuffle")
CNAMES = ("lz4", "lz4hc", "blosclz", "zstd", "snappy", "zlib")


class BloscCodec(NumcodecsBackedCodec):
    """Blosc; ``typesize``/``shuffle`` left as None are filled from the dtype's item size
    (shuffle: bitshuffle for 1-byte items, byte shuffle otherwise), as zarr-python does."""

    name = "blosc"
    numcodecs_id = "blosc"

    def __init__(self, cname: str = "zstd", clevel: int = 5, shuffle: str | None = None,
                 typesize: int | None = None, blocksize: int = 0):
        if cname not in CNAMES:
            raise InvalidMetadataError(f"blosc cname must be one of {CNAMES}, got {cname!r}")
        if shuffle is not None and shuffle not in SHUFFLE_NAMES:
            raise InvalidMetadataError(f"blosc shuffle must be one of {SHUFFLE_NAMES}, got {shuffle!r}")
        self.cname = cname
        self.clevel = _int(clevel, "blosc clevel", 0, 9)
        self.shuffle = shuffle
        self.typesize = None if typesize is None else _int(typesize, "blosc typesize", 1, 255)
        self.blocksize = _int(blocksize, "blosc blocksize", 0, 2**31 - 1)

    def evolve(self, spec: ChunkSpec) -> "BloscCodec":
        if self.typesize is not None and self.shuffle is not None:
            return self
        size = spec.dtype.itemsize
        return BloscCodec(
            cname=self.cname, clevel=self.clevel,
            shuffle=self.shuffle or ("bitshuffle" if size == 1 else "shuffle"),
            typesize=self.typesize or min(size, 255), blocksize=self.blocksize,
        )

    def configuration(self):
        cfg = {"typesize": self.typesize, "cname": self.cname, "clevel": self.clevel,
               "shuffle": self.shuffle, "blocksize": self.blocksize}
        return {k: v for k, v in cfg.items() if v is not None}

    def numcodecs_config(self):
        cfg = {"id": "blosc", "cname": self.cname, "clevel": self.clevel,
               "shuffle": SHUFFLE_NAMES.index(self.shuffle or "shuffle"),
               "blocksize": self.blocksize}
        if self.typesize is not None:
            cfg["typesize"] = self.typesize
        return cfg

    @classmethod
    def configuration_from_numcodecs(cls, config: dict) -> dict:
        config = dict(config)
        shuffle = config.get("shuffle", 1)  # numcodecs: -1 automatic, 0 no, 1 byte, 2 bit
        config["shuffle"] = None if shuffle == -1 else SHUFFLE_NAMES[shuffle]
        return config
