"""The v3 codecs exzarr ships, registered by name (``import exzarr.codecs`` does this).

Importing the codec modules is cheap: each loads its library (numcodecs, crc32c) on
first use.
"""

from __future__ import annotations

from .array_codecs import BytesCodec, TransposeCodec
from .checksum import Crc32cCodec
from .compressors import BloscCodec, GzipCodec, ZstdCodec
from .registry import register
from .sharding import ShardingCodec
from .vlen import VLenUTF8Codec

__all__ = ["BUILTIN_CODECS"]

BUILTIN_CODECS = (BytesCodec, TransposeCodec, GzipCodec, ZstdCodec, BloscCodec, Crc32cCodec,
                  ShardingCodec, VLenUTF8Codec)

for _cls in BUILTIN_CODECS:
    register(_cls)
