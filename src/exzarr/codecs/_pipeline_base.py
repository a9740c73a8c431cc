"""The base class of the v2 and v3 codec pipelines (what both have in common)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._base import ChunkSpec, DecodeContext

if TYPE_CHECKING:
    from .direct import NativeBlosc, NativeZstd
    from .native_encode import NativeEncoder

__all__ = ["PipelineBase"]


class PipelineBase:
    """What the v2 and v3 pipelines share; see :class:`exzarr.codecs.CodecPipeline`."""

    zarr_format: int = 0
    spec: ChunkSpec
    skip_checksum: bool = False

    def _ctx(self, store, key) -> DecodeContext:
        return DecodeContext(store=store, key=key, skip_checksum=self.skip_checksum)

    is_sharded = False
    inner_chunk_shape = None
    supports_partial_decode = False

    def encode(self, arr: np.ndarray) -> bytes:
        raise NotImplementedError

    def decode(self, raw, *, store=None, key=None, out: np.ndarray | None = None,
               readonly: bool = False) -> np.ndarray:
        """Decode one stored chunk.  ``readonly=True`` (without ``out``) allows returning a
        read-only view of ``raw`` when nothing needs decoding (uncompressed chunks)."""
        raise NotImplementedError

    def decode_prefix(self, raw, out: np.ndarray, need: int) -> bool:
        """Decode only the first ``need`` bytes (C order) of one stored chunk into ``out``
        (writable, C-contiguous, the chunk's shape and dtype) when the encoding allows it
        (a zstd frame: :mod:`exzarr.codecs.zstd_prefix`); False: nothing was decoded, call
        :meth:`decode`."""
        return False

    #: the compressor as a C function for compiled code (``exzarr.codecs.native_encode``)
    #: when a chunk's encoding is one zstd or blosc frame of its bytes in C order
    #: (compiled code may then encode it, ``exzarr.array.batch_encode``), else None
    native_encoder: "NativeEncoder | None" = None

    #: the compressor's decoder for compiled code (libzstd or c-blosc) when a (whole,
    #: unsharded) chunk is one plain zstd or blosc frame of its bytes in C order: a reader
    #: may decode and place it in one compiled call (``exzarr.kernels.decode_scatter``),
    #: else None
    native_decoder: "NativeZstd | NativeBlosc | None" = None

    #: decoding is a zero-copy view of the stored bytes (no compression, no filters,
    #: stored byte order = in-memory byte order): readers should not pass ``out``
    zero_copy = False

    def to_json(self):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()!r}, shape={self.spec.shape}, dtype={self.spec.dtype})"
