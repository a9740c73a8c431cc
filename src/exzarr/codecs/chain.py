"""A v3 codec chain bound to a chunk spec: validation, encode and decode(out=).

Decoding runs the chain backwards.  When there is no array -> array codec and the
array -> bytes codec writes memory verbatim (``bytes`` in the dtype's own byte order),
the first bytes -> bytes codec of the chain (the last one to run when decoding — normally
the compressor) decompresses straight into the caller's output buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import InvalidMetadataError
from ._base import (NO_CONTEXT, ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec,
                    Codec, DecodeContext, as_byte_view)
from .direct import ZstdInto
from .native_encode import raw_encoder
from .registry import get

if TYPE_CHECKING:
    from ._base import BufferLike
    from .direct import NativeBlosc, NativeZstd
    from .native_encode import NativeEncoder

__all__ = ["CodecChain", "build_chain"]


def build_chain(codecs: Any, spec: ChunkSpec) -> "CodecChain":
    """Parse a list of v3 codec JSON dicts (or codec objects) and bind it to ``spec``."""
    if isinstance(codecs, (dict, str, Codec)):
        codecs = [codecs]
    if not isinstance(codecs, (list, tuple)):
        raise InvalidMetadataError(f"codecs must be a list, got {codecs!r}")
    return CodecChain([get(c, zarr_format=3) for c in codecs], spec)


class CodecChain:
    def __init__(self, codecs: list[Codec], spec: ChunkSpec):
        self.spec = spec
        # A codec's ``kind`` says which interface it implements (third-party codecs may
        # declare it without subclassing ArrayArrayCodec & co., hence the casts).
        self.array_array: list[ArrayArrayCodec] = []
        self.aa_specs: list[ChunkSpec] = []  # decoded-side spec of each array->array codec
        array_bytes: ArrayBytesCodec | None = None
        self.bytes_bytes: list[BytesBytesCodec] = []
        cur = spec
        for codec in codecs:
            if codec.kind == "array_array":
                if array_bytes is not None:
                    raise InvalidMetadataError(
                        f"codec {codec.name!r} (array -> array) must come before the array -> bytes codec"
                    )
                codec = codec.evolve(cur)
                self.array_array.append(cast(ArrayArrayCodec, codec))
                self.aa_specs.append(cur)
                cur = codec.resolve_spec(cur)
            elif codec.kind == "array_bytes":
                if array_bytes is not None:
                    raise InvalidMetadataError(
                        f"codec chain has two array -> bytes codecs ({array_bytes.name!r} "
                        f"and {codec.name!r}); exactly one is required"
                    )
                array_bytes = cast(ArrayBytesCodec, codec.evolve(cur))
            elif codec.kind == "bytes_bytes":
                if array_bytes is None:
                    raise InvalidMetadataError(
                        f"codec {codec.name!r} (bytes -> bytes) must come after the array -> bytes codec"
                    )
                self.bytes_bytes.append(cast(BytesBytesCodec, codec.evolve(spec)))
            else:
                raise InvalidMetadataError(f"codec {codec!r} has unknown kind {codec.kind!r}")
        if array_bytes is None:
            raise InvalidMetadataError(
                "codec chain has no array -> bytes codec (such as 'bytes' or 'sharding_indexed')"
            )
        self.array_bytes: ArrayBytesCodec = array_bytes
        self.bytes_spec = cur  # spec of the array handed to the array -> bytes codec
        # exact size of what each bytes -> bytes codec decodes to (None: not fixed), so
        # every decompression is bounded by the size its output can legitimately have
        size = array_bytes.encoded_size(cur.nbytes)
        self.bb_out_sizes: list[int | None] = []
        for bb in self.bytes_bytes:
            self.bb_out_sizes.append(size)
            size = bb.encoded_size(size) if size is not None else None

    @property
    def codecs(self) -> list[Codec]:
        return [*self.array_array, self.array_bytes, *self.bytes_bytes]

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.codecs]

    def encoded_size(self) -> int | None:
        """Encoded size of a chunk when every codec has a fixed size, else None."""
        if self.array_array:
            return None
        size = self.array_bytes.encoded_size(self.bytes_spec.nbytes)
        for c in self.bytes_bytes:
            if size is None:
                return None
            size = c.encoded_size(size)
        return size

    @property
    def decodes_into_out(self) -> bool:
        return not self.array_array and self.array_bytes.can_decode_into(self.bytes_spec)

    @cached_property
    def _direct(self) -> Callable[[memoryview, np.ndarray], bool] | None:
        """The compressor's one-call decoder when the chain is a verbatim array -> bytes
        codec and that one compressor (see ``direct_decoder`` of the numcodecs-backed
        codecs), else None."""
        if len(self.bytes_bytes) != 1 or not self.decodes_into_out or self.bb_out_sizes[0] is None:
            return None
        make = getattr(self.bytes_bytes[0], "direct_decoder", None)
        return make(self.bb_out_sizes[0]) if make is not None else None

    @property
    def native_zstd(self) -> "NativeZstd | None":
        """The bound libzstd when this chain's one-call decoder is zstd's (a caller may then
        decode many chunks in one compiled call, :mod:`exzarr.kernels.decode_scatter`)."""
        direct = self._direct
        return direct.native if isinstance(direct, ZstdInto) else None

    @property
    def native_decoder(self) -> "NativeZstd | NativeBlosc | None":
        """The compressor's decoder for compiled code (libzstd, or c-blosc) when this
        chain is a verbatim array -> bytes codec and that one compressor: a reader may then
        decode and place a chunk in one compiled call (:mod:`exzarr.kernels.decode_scatter`)."""
        return getattr(self._direct, "native", None)

    @property
    def native_encoder(self) -> "NativeEncoder | None":
        """The compressor as a C function compiled code calls when this chain's encoding
        is the chunk's bytes in C order, or one zstd or blosc frame of them
        (:mod:`exzarr.codecs.native_encode`, :mod:`exzarr.kernels.encode_gather`), else
        None."""
        if not self.bytes_bytes and self.decodes_into_out:  # the bytes as they are
            return raw_encoder()
        if self._direct is None:  # not a verbatim array -> bytes codec and one compressor
            return None
        make = getattr(self.bytes_bytes[0], "native_encoder", None)
        return make() if make is not None else None

    def decode_direct(self, data: BufferLike, out: np.ndarray) -> bool:
        """Decode ``data`` into ``out`` (C-contiguous, the spec's shape and dtype) by the
        shortest route, when there is one and the chunk takes it; False: nothing was
        decoded, call :meth:`decode`, which checks everything and names what is wrong."""
        direct = self._direct
        if direct is None:
            return False
        flat = self._flat_out(out)
        return flat is not None and direct(as_byte_view(data), flat)

    def decode_prefix(self, data: BufferLike, out: np.ndarray, need: int) -> bool:
        """Decode only the first ``need`` bytes (C order) of the chunk into ``out`` (as
        for :meth:`decode_direct`) when the chain is one zstd frame of the chunk's bytes
        (:mod:`exzarr.codecs.zstd_prefix`); False: nothing was decoded, decode it whole."""
        direct = self._direct
        if not isinstance(direct, ZstdInto):
            return False
        flat = self._flat_out(out)
        return flat is not None and direct.prefix(as_byte_view(data), flat, need)

    def _flat_out(self, out: np.ndarray) -> np.ndarray | None:
        """``out``'s bytes as a flat uint8 array when it can take a decoded chunk in place
        (writable, C-contiguous, the spec's shape and dtype), else None."""
        return out.reshape(-1).view(np.uint8) if self.spec.takes(out) else None

    # -- encode -----------------------------------------------------------------------
    def encode(self, arr: np.ndarray) -> bytes:
        arr = np.asarray(arr)
        if arr.shape != self.spec.shape:
            raise ValueError(f"chunk has shape {arr.shape}, expected {self.spec.shape}")
        for codec, spec in zip(self.array_array, self.aa_specs):
            arr = codec.encode(arr, spec)
        data = self.array_bytes.encode(arr, self.bytes_spec)
        for bb in self.bytes_bytes:
            data = bb.encode(data, self.bytes_spec)
        return data if isinstance(data, bytes) else bytes(as_byte_view(data))

    # -- decode -----------------------------------------------------------------------
    def decode_into(self, data: BufferLike, out: np.ndarray) -> bool:
        """:meth:`decode_direct` after checking ``out`` as :meth:`decode` does (a wrong
        ``out`` raises ValueError): a caller that has not yet built the
        :class:`DecodeContext` the checked route needs tries this first."""
        _check_out(out, self.spec)
        return self.decode_direct(data, out)

    def decode(self, data: BufferLike, ctx: DecodeContext = NO_CONTEXT, out: np.ndarray | None = None,
               *, direct: bool = True) -> np.ndarray:
        """Decode ``data`` (into ``out`` when given); ``direct=False``: the caller has
        just tried :meth:`decode_into`, which declined, so go the checked route at once."""
        if out is not None:
            _check_out(out, self.spec)
            if direct and self.decode_direct(data, out):
                return out
        data = as_byte_view(data)
        if self.decodes_into_out and self.bytes_bytes:
            if out is None:
                out = np.empty(self.spec.shape, dtype=self.spec.dtype)
            for i in range(len(self.bytes_bytes) - 1, 0, -1):
                data = self._decode_bb(i, data, ctx)
            self.bytes_bytes[0].decode_into(data, as_byte_view(out), self.bytes_spec,
                                            ctx.bounded(expected=self.bb_out_sizes[0]))
            return out
        for i in range(len(self.bytes_bytes) - 1, -1, -1):
            data = self._decode_bb(i, data, ctx)
        if not self.array_array:
            return self.array_bytes.decode(data, self.bytes_spec, ctx, out=out)
        arr = self.array_bytes.decode(data, self.bytes_spec, ctx)
        for codec, spec in zip(reversed(self.array_array), reversed(self.aa_specs)):
            arr = codec.decode(arr, spec, ctx)
        if out is not None:
            out[...] = arr
            return out
        return arr

    def _decode_bb(self, i: int, data: BufferLike, ctx: DecodeContext) -> BufferLike:
        """Decode with bytes -> bytes codec ``i``, bounded by the size its output can have."""
        want = self.bb_out_sizes[i]
        res = self.bytes_bytes[i].decode(data, self.bytes_spec, ctx.bounded(expected=want))
        if want is not None:
            got = as_byte_view(res).nbytes
            if got != want:
                raise ctx.fail(f"{self.bytes_bytes[i].name} produced {got} bytes, expected {want}")
        return res


def _check_out(out: np.ndarray, spec: ChunkSpec) -> None:
    if not isinstance(out, np.ndarray) or out.shape != spec.shape or out.dtype != spec.dtype \
            or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(
            f"out must be a writable C-contiguous ndarray of shape {spec.shape} and dtype "
            f"{spec.dtype}; got {getattr(out, 'shape', None)} {getattr(out, 'dtype', type(out))}"
        )
