"""The v3 core ``bytes`` (array -> bytes) and ``transpose`` (array -> array) codecs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import InvalidMetadataError
from ._base import NO_CONTEXT, ArrayArrayCodec, ArrayBytesCodec, ChunkSpec, DecodeContext, as_byte_view

if TYPE_CHECKING:
    from ._base import BufferLike

__all__ = ["BytesCodec", "TransposeCodec"]

_ENDIAN_CHAR: dict[str, Literal["<", ">"]] = {"little": "<", "big": ">"}


def _needs_endian(dtype: np.dtype) -> bool:
    return dtype.itemsize > 1 and dtype.byteorder != "|"


class BytesCodec(ArrayBytesCodec):
    """Serialise the chunk in C order with a fixed byte order (``endian``).

    ``endian`` is required for multi-byte types and omitted for single-byte ones.  A
    missing ``endian`` on a multi-byte type is read as ``"little"`` (what every writer
    uses) instead of failing.
    """

    name = "bytes"

    def __init__(self, endian: str | None = None):
        if endian is not None and endian not in _ENDIAN_CHAR:
            raise InvalidMetadataError(
                f"bytes codec: endian must be 'little' or 'big', got {endian!r}"
            )
        self.endian = endian

    def configuration(self) -> dict[str, Any] | None:
        return None if self.endian is None else {"endian": self.endian}

    def evolve(self, spec: ChunkSpec) -> "BytesCodec":
        if spec.dtype.hasobject:  # no fixed size per element: nothing to lay out as bytes
            raise InvalidMetadataError(
                f"the bytes codec cannot serialise {spec.dtype} elements (variable-length "
                "strings or objects); use the 'vlen-utf8' codec for strings or "
                "'vlen-bytes' for bytes")
        if not _needs_endian(spec.dtype):
            return self if self.endian is None else BytesCodec(None)
        return self if self.endian is not None else BytesCodec("little")

    def stored_dtype(self, dtype: np.dtype) -> np.dtype:
        if self.endian is None or not _needs_endian(dtype):
            return dtype
        return dtype.newbyteorder(_ENDIAN_CHAR[self.endian])

    def encoded_size(self, nbytes: int) -> int:
        return nbytes

    def can_decode_into(self, spec: ChunkSpec) -> bool:
        return self.stored_dtype(spec.dtype) == spec.dtype

    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> memoryview:
        arr = np.asarray(arr)
        target = self.stored_dtype(spec.dtype)
        if arr.dtype != target:
            arr = arr.astype(target, order="C")
        elif not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        return as_byte_view(arr)

    def decode(self, data: BufferLike, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT,
               out: np.ndarray | None = None) -> np.ndarray:
        mv = as_byte_view(data)
        if mv.nbytes != spec.nbytes:
            raise ctx.fail(f"chunk holds {mv.nbytes} bytes, expected {spec.nbytes} "
                           f"for shape {spec.shape} and dtype {spec.dtype}")
        arr = np.frombuffer(mv, dtype=self.stored_dtype(spec.dtype)).reshape(spec.shape)
        if out is not None:
            out[...] = arr
            return out
        if arr.dtype != spec.dtype:
            arr = arr.astype(spec.dtype)
        return arr


class TransposeCodec(ArrayArrayCodec):
    """Permute chunk dimensions: encoded ``B = A.transpose(order)``.

    Per the spec ``B_shape[i] = A_shape[order[i]]``, which is exactly NumPy's
    ``transpose(order)``; decoding applies the inverse permutation.
    """

    name = "transpose"

    def __init__(self, order: str | Sequence[int]):
        self.order: str | tuple[int, ...]
        if isinstance(order, str):
            if order not in ("C", "F"):
                raise InvalidMetadataError(f"transpose: order must be a permutation, got {order!r}")
            self.order = order  # legacy draft form, resolved against ndim in evolve()
        else:
            try:
                self.order = tuple(int(i) for i in order)
            except (TypeError, ValueError):
                raise InvalidMetadataError(
                    f"transpose: order must be a list of integers, got {order!r}"
                ) from None

    def configuration(self) -> dict[str, Any]:
        # the legacy "C"/"F" form of an unbound codec is kept as given ("F", not ["F"])
        return {"order": self.order if isinstance(self.order, str) else list(self.order)}

    def evolve(self, spec: ChunkSpec) -> "TransposeCodec":
        n = len(spec.shape)
        if isinstance(self.order, str):
            return TransposeCodec(tuple(range(n)) if self.order == "C" else tuple(range(n))[::-1])
        if sorted(self.permutation) != list(range(n)):
            raise InvalidMetadataError(
                f"transpose: order {list(self.order)} is not a permutation of 0..{n - 1} "
                f"for a {n}-d chunk"
            )
        return self

    @property
    def permutation(self) -> tuple[int, ...]:
        """The axis order (the codec must be bound with :meth:`evolve` if it was given
        in the legacy ``"C"``/``"F"`` form)."""
        if isinstance(self.order, str):
            raise RuntimeError(f"transpose codec with order {self.order!r} must be bound to a "
                               "chunk spec with evolve(spec) first")
        return self.order

    @property
    def inverse(self) -> tuple[int, ...]:
        return tuple(int(i) for i in np.argsort(self.permutation))

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return spec.evolve(shape=tuple(spec.shape[i] for i in self.permutation))

    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        return np.asarray(arr).transpose(self.permutation)

    def decode(self, arr: np.ndarray, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> np.ndarray:
        return arr.transpose(self.inverse)
