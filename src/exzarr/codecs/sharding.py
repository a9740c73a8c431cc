"""The ``sharding_indexed`` codec (array -> bytes), per the v3 sharding spec 1.0.

A shard is the encoded inner chunks (written here in C order) plus an index: a uint64
array of shape ``chunks_per_shard + (2,)`` holding ``(offset, nbytes)`` per inner chunk
(offsets from the start of the shard value), ``2**64 - 1`` in both for an empty inner
chunk, encoded with ``index_codecs`` (fixed size) and placed at the ``start`` or ``end``.
Inner chunks that are all fill value are not written (the rule of
:func:`exzarr.kernels.fill.is_all_fill`, the same as for unsharded chunks).

Besides whole-shard encode/decode the bound codec supports partial reads: fetch
:meth:`index_byte_range`, :meth:`decode_index`, then fetch only the needed inner chunks
(:meth:`plan_reads` coalesces their byte ranges) and :meth:`decode_inner`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidMetadataError
from ..kernels.fill import is_all_fill
from ._base import NO_CONTEXT, ArrayBytesCodec, ChunkSpec, Codec, DecodeContext, as_byte_view, fill_into
from .byte_ranges import DEFAULT_MAX_GAP, CoalescedRange, coalesce
from .array_codecs import BytesCodec
from .chain import CodecChain, build_chain
from .checksum import Crc32cCodec

if TYPE_CHECKING:
    from ._base import BufferLike

__all__ = ["ShardingCodec", "MISSING", "inner_chunk_label"]

MISSING = 2**64 - 1
_DEFAULT_CODECS = ({"name": "bytes", "configuration": {"endian": "little"}},)
_DEFAULT_INDEX_CODECS = ({"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"})


def inner_chunk_label(key: str, coords) -> str:
    """Where an inner chunk is, for messages: the shard's key and its coordinates there."""
    return f"{key} (inner chunk {tuple(coords)})"


def _as_json_list(codecs: Any, what: str) -> list[Any]:
    if codecs is None:
        return []
    if isinstance(codecs, (dict, str, Codec)):
        codecs = [codecs]
    if not isinstance(codecs, (list, tuple)):
        raise InvalidMetadataError(f"sharding_indexed: {what} must be a list of codecs, got {codecs!r}")
    return [c.to_json() if isinstance(c, Codec) else c for c in codecs]


class ShardingCodec(ArrayBytesCodec):
    name = "sharding_indexed"

    # set on the bound copy made by evolve() (together with ``spec``)
    chunks_per_shard: tuple[int, ...]
    inner_spec: ChunkSpec
    inner: CodecChain
    index: CodecChain
    index_nbytes: int
    _plain_index: bool = False

    def __init__(self, chunk_shape: Sequence[int], codecs: Any = _DEFAULT_CODECS,
                 index_codecs: Any = _DEFAULT_INDEX_CODECS, index_location: str = "end"):
        # integers only: 4.5 or "4" must not be read as 4 (numpy integers are accepted);
        # [] is the chunk shape of a 0-d array
        if isinstance(chunk_shape, (str, bytes)) or not isinstance(chunk_shape, Sequence) \
                or any(isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer))
                       for c in chunk_shape):
            raise InvalidMetadataError(f"sharding_indexed: chunk_shape must be a list of "
                                       f"integers, got {chunk_shape!r}")
        self.chunk_shape = tuple(int(c) for c in chunk_shape)
        if any(c <= 0 for c in self.chunk_shape):
            raise InvalidMetadataError(f"sharding_indexed: chunk_shape must be positive, got {chunk_shape!r}")
        if index_location not in ("start", "end"):
            raise InvalidMetadataError(
                f"sharding_indexed: index_location must be 'start' or 'end', got {index_location!r}"
            )
        self.codecs_json = _as_json_list(codecs, "codecs")
        self.index_codecs_json = _as_json_list(index_codecs, "index_codecs")
        self.index_location = index_location
        self.spec: ChunkSpec | None = None  # set on the bound copy made by evolve()

    def configuration(self) -> dict[str, Any]:
        codecs = self.inner.to_json() if self.spec is not None else self.codecs_json
        index = self.index.to_json() if self.spec is not None else self.index_codecs_json
        return {"chunk_shape": list(self.chunk_shape), "codecs": codecs, "index_codecs": index,
                "index_location": self.index_location}

    # -- binding to a shard spec -----------------------------------------------------
    def evolve(self, spec: ChunkSpec) -> "ShardingCodec":
        if self.spec == spec:
            return self
        if len(spec.shape) != len(self.chunk_shape) or any(
                s % c for s, c in zip(spec.shape, self.chunk_shape)):
            raise InvalidMetadataError(
                f"sharding_indexed: inner chunk_shape {list(self.chunk_shape)} must have the shard's "
                f"dimensionality and divide the shard shape {list(spec.shape)} evenly"
            )
        bound = object.__new__(type(self))  # this codec's fields (checked once, in __init__)
        bound.__dict__.update(self.__dict__)
        bound.spec = spec
        bound.chunks_per_shard = tuple(s // c for s, c in zip(spec.shape, self.chunk_shape))
        bound.inner_spec = ChunkSpec(self.chunk_shape, spec.dtype, spec.fill_value, "C")
        bound.inner = build_chain(self.codecs_json, bound.inner_spec)
        index_spec = ChunkSpec(bound.chunks_per_shard + (2,), np.dtype("uint64"), MISSING, "C")
        bound.index = build_chain(self.index_codecs_json, index_spec)
        index_nbytes = bound.index.encoded_size()
        if index_nbytes is None:
            raise InvalidMetadataError(
                "sharding_indexed: index_codecs must produce a fixed-size encoding (for example "
                "bytes + crc32c); compressors are not allowed there"
            )
        bound.index_nbytes = index_nbytes
        chain = bound.index
        # the index as every writer stores it (little-endian uint64, with or without a
        # crc32c): decoded by the checksum codec and a NumPy view, not the generic chain
        bound._plain_index = (not chain.array_array and isinstance(chain.array_bytes, BytesCodec)
                              and chain.array_bytes.endian == "little"
                              and all(isinstance(c, Crc32cCodec) for c in chain.bytes_bytes))
        return bound

    def _require_bound(self) -> ChunkSpec:
        """The shard spec this codec is bound to (raises when it is not bound)."""
        if self.spec is None:
            raise RuntimeError("ShardingCodec must be bound to a shard spec with evolve(spec) first")
        return self.spec

    def encoded_size(self, nbytes: int) -> int | None:
        return None

    # -- index -----------------------------------------------------------------------
    def index_byte_range(self) -> tuple[int, int | None]:
        """The ByteRange of the index within the shard value."""
        self._require_bound()
        return (-self.index_nbytes, None) if self.index_location == "end" else (0, self.index_nbytes)

    @property
    def plain_index(self) -> tuple[bool, int] | None:
        """``(at_end, crc32c codecs)`` of an index stored as every writer stores it
        (little-endian uint64, with or without a crc32c), for code that reads it itself;
        None for other index codecs."""
        self._require_bound()
        if not self._plain_index:
            return None
        return self.index_location == "end", len(self.index.bytes_bytes)

    def decode_index(self, raw: BufferLike, ctx: DecodeContext = NO_CONTEXT, shard_nbytes: int | None = None) -> np.ndarray:
        """Decode the index bytes into a ``chunks_per_shard + (2,)`` uint64 array."""
        self._require_bound()
        mv = as_byte_view(raw)
        if mv.nbytes != self.index_nbytes:
            raise ctx.fail(f"shard index is {mv.nbytes} bytes, expected {self.index_nbytes} "
                           "(the shard is truncated or not a shard)")
        if self._plain_index:
            data = mv
            for c in self.index.bytes_bytes:  # the crc32c: checked and cut off
                data = as_byte_view(c.decode(data, self.index.bytes_spec, ctx))
            index = np.frombuffer(data, dtype="<u8").astype(np.uint64).reshape(
                self.chunks_per_shard + (2,))
        else:
            index = self.index.decode(mv, ctx)
        offsets, nbytes = index[..., 0], index[..., 1]
        missing = offsets == MISSING
        if np.any(missing != (nbytes == MISSING)):
            raise ctx.fail("shard index has entries where only one of offset/nbytes is 2**64-1")
        if shard_nbytes is not None:
            present = ~missing
            if np.any(offsets[present] > shard_nbytes) or \
                    np.any(nbytes[present] > shard_nbytes - offsets[present]):
                raise ctx.fail(f"shard index points past the end of the {shard_nbytes}-byte shard")
        return index

    def inner_slices(self, coords: Sequence[int]) -> tuple[slice, ...]:
        return tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, self.chunk_shape))

    def inner_byte_range(self, index: np.ndarray, coords: Sequence[int]) -> tuple[int, int] | None:
        """``(offset, offset + nbytes)`` of one inner chunk, or None when it is empty."""
        off, n = (int(v) for v in index[tuple(coords)])
        return None if off == MISSING else (off, off + n)

    @staticmethod
    def entries(index: np.ndarray, coords_list: list) -> list[list[int]]:
        """The ``[offset, nbytes]`` entries of the given inner chunks, looked up in one
        NumPy call (a lookup per inner chunk, :meth:`inner_byte_range`, costs ~1.6 us)."""
        grid = index.shape[:-1]
        at = np.asarray(coords_list, dtype=np.intp).reshape(len(coords_list), len(grid))
        flat = np.ravel_multi_index(tuple(at.T), grid) if len(grid) else np.zeros(len(at), np.intp)
        return index.reshape(-1, 2)[flat].tolist()

    def plan_reads(self, index: np.ndarray, coords_list: Any, *, max_gap: int = DEFAULT_MAX_GAP,
                   max_size: int | None = None
                   ) -> tuple[list[CoalescedRange], list[tuple[int, ...]]]:
        """Coalesced fetches for the given inner chunks, and the ones that are empty.

        Each :class:`CoalescedRange` has the ``byte_range`` to fetch from the shard value
        and ``parts`` ``(coords, start, stop)`` within the fetched bytes; cut them with
        :func:`exzarr.codecs.byte_ranges.split`.  Empty coords read as fill_value.
        """
        coords_list = list(coords_list)
        entries = self.entries(index, coords_list)
        requests: list[tuple[tuple[int, ...], int, int]] = []
        missing: list[tuple[int, ...]] = []
        for row, (off, n) in zip(coords_list, entries):
            coords = row if type(row) is tuple else tuple(int(c) for c in row)
            if off == MISSING:
                missing.append(coords)
            else:
                requests.append((coords, off, off + n))
        return coalesce(requests, max_gap=max_gap, max_size=max_size), missing

    def decode_inner(self, raw: BufferLike | None, ctx: DecodeContext = NO_CONTEXT, out: np.ndarray | None = None) -> np.ndarray:
        """Decode one inner chunk's bytes (``None`` -> filled with fill_value)."""
        self._require_bound()
        if raw is None:
            if out is None:
                return self.inner_spec.fill_array()
            fill_into(out, self.inner_spec.fill_value)
            return out
        return self.inner.decode(raw, ctx, out=out)

    # -- encode ----------------------------------------------------------------------
    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> bytes:
        bound = self._require_bound()
        arr = np.asarray(arr)
        chunks = {}
        for coords in np.ndindex(*self.chunks_per_shard):
            sub = arr[self.inner_slices(coords)]
            if not is_all_fill(sub, bound.fill_value):
                chunks[coords] = sub
        return self.encode_from_inner(chunks)

    def encode_from_inner(self, chunks: Mapping[tuple[int, ...], BufferLike | None]) -> bytes:
        """Assemble a shard from inner chunks given as arrays (encoded here, skipped when
        all fill_value) or as already-encoded bytes (used verbatim); absent/None = empty."""
        return b"".join(self.encode_parts_from_inner(chunks))

    def encode_parts_from_inner(self, chunks: Mapping[tuple[int, ...], BufferLike | None]
                                ) -> list[bytes | memoryview]:
        """Like :meth:`encode_from_inner`, but the shard as a list of buffers in order
        (stores can write them without first joining them into one copy)."""
        bound = self._require_bound()
        index = np.full(self.chunks_per_shard + (2,), MISSING, dtype=np.uint64)
        parts: list[bytes | memoryview] = []
        pos = self.index_nbytes if self.index_location == "start" else 0
        for coords in np.ndindex(*self.chunks_per_shard):
            item = chunks.get(coords)
            if item is None:
                continue
            if isinstance(item, np.ndarray):
                if is_all_fill(item, bound.fill_value):
                    continue
                item = self.inner.encode(item)
            data = as_byte_view(item)
            index[coords] = (pos, data.nbytes)
            parts.append(data)
            pos += data.nbytes
        unknown = set(chunks) - set(np.ndindex(*self.chunks_per_shard))
        if unknown:
            raise ValueError(f"inner chunk coords {sorted(unknown)} are outside {self.chunks_per_shard}")
        index_bytes = self.index.encode(index)
        if self.index_location == "start":
            return [index_bytes, *parts]
        return [*parts, index_bytes]

    # -- whole-shard decode ----------------------------------------------------------
    def can_decode_into(self, spec: ChunkSpec) -> bool:
        return False

    def decode(self, data: BufferLike, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT,
               out: np.ndarray | None = None) -> np.ndarray:
        bound = self._require_bound()
        mv = as_byte_view(data)
        if mv.nbytes < self.index_nbytes:
            raise ctx.fail(f"shard of {mv.nbytes} bytes is smaller than its {self.index_nbytes}-byte index")
        raw_index = mv[mv.nbytes - self.index_nbytes:] if self.index_location == "end" else mv[:self.index_nbytes]
        index = self.decode_index(raw_index, ctx, shard_nbytes=mv.nbytes)
        if out is None:
            out = np.empty(bound.shape, dtype=bound.dtype)
        for coords in np.ndindex(*self.chunks_per_shard):
            view = out[self.inner_slices(coords)]
            rng = self.inner_byte_range(index, coords)
            if rng is None:
                fill_into(view, bound.fill_value)
            elif view.flags.c_contiguous:
                self.inner.decode(mv[rng[0]:rng[1]], ctx, out=view)
            else:
                view[...] = self.inner.decode(mv[rng[0]:rng[1]], ctx)
        return out
