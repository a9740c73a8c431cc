"""exzarr.codecs: the codec layer (v3 codec chains, v2 filters/compressor, sharding).

Public API::

    from exzarr.codecs import available, register, get, Codec, ChunkSpec, CodecPipeline

    spec = ChunkSpec(shape=(10, 10), dtype=np.dtype("<f4"), fill_value=np.float32(0), order="C")
    p = CodecPipeline.from_v3([{"name": "bytes", "configuration": {"endian": "little"}},
                               {"name": "zstd", "configuration": {"level": 0, "checksum": False}}], spec)
    raw = p.encode(arr)
    p.decode(raw, store=store, key=key, out=buf)

Nothing heavy is imported here: numcodecs, crc32c and the codec modules load on first use.
"""

from __future__ import annotations

from . import builtin  # noqa: F401  (registers the v3 codecs exzarr ships)
from ._base import (ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec, Codec,
                    DecodeContext)
from .pipeline import CodecPipeline
from .registry import available, get, register

__all__ = [
    "available",
    "register",
    "get",
    "Codec",
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BytesBytesCodec",
    "ChunkSpec",
    "DecodeContext",
    "CodecPipeline",
]
