"""The v3 core ``crc32c`` codec: a 4-byte little-endian CRC-32C appended to the bytes."""

from __future__ import annotations

from ..errors import ChecksumMismatchError
from ._base import NO_CONTEXT, BytesBytesCodec, ChunkSpec, DecodeContext, as_byte_view

__all__ = ["Crc32cCodec", "crc32c_value"]


def crc32c_value(data) -> int:
    import crc32c

    return crc32c.crc32c(data)


class Crc32cCodec(BytesBytesCodec):
    name = "crc32c"
    requires = (("crc32c", "crc32c"),)

    def __init__(self):
        pass

    def encoded_size(self, nbytes: int) -> int:
        return nbytes + 4

    def encode(self, data, spec: ChunkSpec) -> bytes:
        mv = as_byte_view(data)
        return b"".join((mv, crc32c_value(mv).to_bytes(4, "little")))

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> memoryview:
        mv = as_byte_view(data)
        if mv.nbytes < 4:
            raise ctx.fail(f"{mv.nbytes} bytes cannot hold a 4-byte crc32c checksum")
        payload = mv[:-4]
        if not ctx.skip_checksum:
            stored = int.from_bytes(mv[-4:], "little")
            actual = crc32c_value(payload)
            if stored != actual:
                raise ChecksumMismatchError(
                    f"crc32c checksum mismatch in chunk at {ctx.where}: stored "
                    f"{stored:#010x}, computed {actual:#010x}. The chunk is corrupt; rewrite "
                    "it, or open the array with skip_checksum=True to read it anyway.",
                    store=ctx.store, key=ctx.key,
                )
        return payload

    def decode_into(self, data, out, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> None:
        payload = self.decode(data, spec, ctx)
        if payload.nbytes != out.nbytes:
            raise ctx.fail(f"chunk holds {payload.nbytes} bytes, expected {out.nbytes}")
        out[:] = payload
