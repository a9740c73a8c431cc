"""The Zarr v3 pipeline: a codec chain bound to one chunk spec, and shard access.

``decode(raw, out=buf)`` decompresses straight into ``buf`` whenever the chain allows
it.  Sharded pipelines additionally expose the partial-read protocol (index range,
index decode, coalesced inner-chunk ranges, inner-chunk decode) and shard assembly from
inner chunks.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..kernels.fill import is_all_fill
from ._base import ChunkSpec
from ._pipeline_base import PipelineBase
from .array_codecs import BytesCodec
from .byte_ranges import DEFAULT_MAX_GAP, CoalescedRange
from .chain import CodecChain, build_chain
from .sharding import ShardingCodec, inner_chunk_label

if TYPE_CHECKING:
    from ._base import BufferLike

__all__ = ["V3CodecPipeline"]


class V3CodecPipeline(PipelineBase):
    zarr_format = 3

    @classmethod
    def from_json(cls, codecs, spec: ChunkSpec, *, skip_checksum: bool = False) -> "V3CodecPipeline":
        """A pipeline for the ``codecs`` of v3 metadata (JSON dicts or codec objects)."""
        return cls(build_chain(codecs, spec), skip_checksum=skip_checksum)

    def __init__(self, chain: CodecChain, *, skip_checksum: bool = False):
        self.chain = chain
        self.spec = chain.spec
        self.skip_checksum = skip_checksum
        ab = chain.array_bytes
        self.sharding: ShardingCodec | None = ab if isinstance(ab, ShardingCodec) else None

    @property
    def codecs(self):
        return self.chain.codecs

    def to_json(self) -> list[dict]:
        return self.chain.to_json()

    def encoded_size(self) -> int | None:
        """Size of every encoded chunk when it is fixed (no compression), else None."""
        return self.chain.encoded_size()

    def encode(self, arr: np.ndarray) -> bytes:
        return self.chain.encode(arr)

    def decode(self, raw, *, store=None, key=None, out: np.ndarray | None = None,
               readonly: bool = False) -> np.ndarray:
        """Decode one stored chunk; with ``out`` (C-contiguous, spec shape/dtype) the data
        lands in ``out``, which is returned."""
        chain = self.chain
        if out is not None and chain.decode_into(raw, out):  # no context to build
            return out
        arr = chain.decode(raw, self._ctx(store, key), out=out, direct=False)
        return arr if arr.flags.writeable or readonly else arr.copy()

    def decode_prefix(self, raw, out: np.ndarray, need: int) -> bool:
        return not self.is_sharded and self.chain.decode_prefix(raw, out, need)

    def decode_inner_prefix(self, raw, out: np.ndarray, need: int) -> bool:
        """:meth:`decode_prefix` of one inner chunk of a sharded array."""
        return self._shard().inner.decode_prefix(raw, out, need)

    @cached_property
    def zero_copy(self) -> bool:  # type: ignore[override]
        c = self.chain
        return (not c.array_array and not c.bytes_bytes and isinstance(c.array_bytes, BytesCodec)
                and c.array_bytes.stored_dtype(self.spec.dtype) == self.spec.dtype)

    @property
    def native_decoder(self):  # type: ignore[override]
        """See :attr:`CodecChain.native_decoder` (None for sharded arrays: see
        :attr:`inner_native_decoder`)."""
        return None if self.is_sharded else self.chain.native_decoder

    @property
    def native_encoder(self):  # type: ignore[override]
        """See :attr:`CodecChain.native_encoder` (None for sharded arrays: their chunks
        are shards; see :attr:`inner_encoder`)."""
        return None if self.is_sharded else self.chain.native_encoder

    # -- sharding ---------------------------------------------------------------------
    @property
    def is_sharded(self) -> bool:  # type: ignore[override]
        return self.sharding is not None

    @property
    def inner_chunk_shape(self):  # type: ignore[override]
        return self.sharding.chunk_shape if self.sharding is not None else None

    @property
    def supports_partial_decode(self) -> bool:  # type: ignore[override]
        """True when inner chunks can be fetched and decoded on their own (the sharding
        codec is the whole chain: no array->array codec before it, nothing after it)."""
        return self.is_sharded and not self.chain.array_array and not self.chain.bytes_bytes

    def _shard(self):
        if not self.supports_partial_decode:
            raise ValueError("this pipeline does not support inner-chunk access: "
                             + ("it is not sharded" if not self.is_sharded else
                                "codecs other than sharding_indexed wrap the shard; decode whole shards"))
        return self.sharding

    @property
    def chunks_per_shard(self) -> tuple[int, ...]:
        return self._shard().chunks_per_shard

    @property
    def inner_spec(self) -> ChunkSpec:
        return self._shard().inner_spec

    @property
    def index_nbytes(self) -> int:
        return self._shard().index_nbytes

    def index_byte_range(self) -> tuple[int, int | None]:
        """ByteRange of the shard index: ``(-n, None)`` (index at end) or ``(0, n)``."""
        return self._shard().index_byte_range()

    @property
    def plain_index(self) -> tuple[bool, int] | None:
        """See :attr:`~exzarr.codecs.sharding.ShardingCodec.plain_index`."""
        return self._shard().plain_index

    def decode_index(self, raw_index, *, store=None, key=None, shard_nbytes: int | None = None) -> np.ndarray:
        """The ``chunks_per_shard + (2,)`` uint64 (offset, nbytes) index; checks crc32c."""
        return self._shard().decode_index(raw_index, self._ctx(store, key), shard_nbytes=shard_nbytes)

    def inner_chunk_slices(self, coords) -> tuple[slice, ...]:
        """Where inner chunk ``coords`` sits inside the shard array."""
        return self._shard().inner_slices(coords)

    def inner_byte_range(self, index: np.ndarray, coords) -> tuple[int, int] | None:
        """ByteRange ``(offset, offset + nbytes)`` of one inner chunk; None when empty."""
        return self._shard().inner_byte_range(index, coords)

    def inner_entries(self, index: np.ndarray, coords_list: list) -> list[list[int]]:
        """The ``[offset, nbytes]`` index entries of the given inner chunks (offset
        ``2**64 - 1``: empty), looked up at once."""
        return self._shard().entries(index, coords_list)

    def plan_inner_reads(self, index: np.ndarray, coords_list, *, max_gap: int = DEFAULT_MAX_GAP,
                         max_size: int | None = None) -> tuple[list[CoalescedRange], list[tuple]]:
        """Coalesced ByteRanges covering the inner chunks in ``coords_list``, and the
        empty ones (read as fill_value).  Cut fetched bytes with ``byte_ranges.split``."""
        return self._shard().plan_reads(index, coords_list, max_gap=max_gap, max_size=max_size)

    @property
    def inner_native_decoder(self):
        """The inner chunks' decoder for compiled code when they are plain zstd or blosc
        frames of their bytes in C order (see :attr:`CodecChain.native_decoder`)."""
        return self._shard().inner.native_decoder

    @property
    def inner_encoder(self):
        """The inner chunks' compressor for compiled code when they are plain zstd or
        blosc frames of their bytes in C order (see :attr:`CodecChain.native_encoder`)."""
        return self._shard().inner.native_encoder

    def decode_inner_chunk(self, raw, coords=None, *, store=None, key=None,
                           out: np.ndarray | None = None) -> np.ndarray:
        """Decode one inner chunk's bytes (``raw=None``: an empty inner chunk -> fill)."""
        if raw is not None and out is not None and self._shard().inner.decode_direct(raw, out):
            return out
        ctx = self._ctx(store, inner_chunk_label(key, coords) if key is not None and coords is not None else key)
        arr = self._shard().decode_inner(raw, ctx, out=out)
        return arr if arr.flags.writeable else arr.copy()

    def encode_inner_chunk(self, arr: np.ndarray) -> bytes | None:
        """Encoded bytes of one inner chunk, or None when it is all fill_value."""
        shard = self._shard()
        return None if is_all_fill(np.asarray(arr), shard.spec.fill_value) else shard.inner.encode(arr)

    def encode_shard_from_inner(self, chunks: Mapping[tuple[int, ...], BufferLike | None]) -> bytes:
        """A shard from ``{inner coords: ndarray | encoded bytes | None}`` (absent = empty),
        so a partial shard write re-uses the untouched inner chunks' bytes."""
        return self._shard().encode_from_inner(chunks)

    def encode_shard_parts(self, chunks: Mapping[tuple[int, ...], BufferLike | None]
                           ) -> list[bytes | memoryview]:
        """:meth:`encode_shard_from_inner` as a list of buffers (for ``Store.set_parts``)."""
        return self._shard().encode_parts_from_inner(chunks)
