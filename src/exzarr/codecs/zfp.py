"""zfp stream headers: what a ``zfpy`` chunk declares, checked before it is decoded.

numcodecs' ``ZFPY`` stores ``zfpy.compress_numpy(arr, write_header=True)``: a full zfp
header followed by the compressed blocks.  zfp writes its bit stream least significant
bit first (64-bit words, little-endian), so the header reads as a little-endian bit
string (zfp's ``zfp_write_header``)::

    32 bits  magic: 'z', 'f', 'p', then the codec version (ZFP_CODEC, 5 for zfp >= 0.5.5)
    52 bits  meta:  2 bits scalar type - 1 (int32, int64, float, double),
                    2 bits dimensionality - 1, then the sizes minus one, x first:
                    1D: 48 bits nx (zfp reads 32); 2D: 24 bits each; 3D: 16; 4D: 12
    12 bits  mode:  a short mode (<= 4094), or 4095 followed by 52 more bits (64 in all)

zfpy maps a C-ordered NumPy array of shape ``(..., ny, nx)`` to zfp's ``nx, ny, ...``, so
the array shape is the sizes reversed.  :func:`zfp_header` parses this without zfpy;
:func:`check_zfp` refuses a chunk whose declared scalar type or shape is not the chunk's
(more elements raise the decompression-bomb error) before any decoder is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._base import DecodeContext

__all__ = ["ZfpHeader", "zfp_header", "check_zfp", "zfpy_decode", "ZFP_TYPES",
           "ZFP_HEADER_MIN_BYTES"]

#: zfp scalar type (meta bits 0-1, i.e. zfp_type - 1) -> NumPy dtype
ZFP_TYPES: dict[int, np.dtype] = {0: np.dtype("<i4"), 1: np.dtype("<i8"),
                                  2: np.dtype("<f4"), 3: np.dtype("<f8")}
_SIZE_BITS = {1: 48, 2: 24, 3: 16, 4: 12}
_MODE_SHORT_MAX = 4094
ZFP_HEADER_MIN_BYTES = 12  # 32 + 52 + 12 bits


@dataclass(frozen=True)
class ZfpHeader:
    """A parsed zfp header (magic, field metadata, compression mode)."""

    codec_version: int
    dtype: np.dtype
    #: the array shape in NumPy (C) order: zfp's sizes reversed
    shape: tuple[int, ...]
    #: the 12- or 64-bit compression mode word
    mode: int
    #: header length in bits (96 or 148)
    nbits: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=object))


def zfp_header(buf: memoryview) -> ZfpHeader:
    """Parse the zfp header at the start of ``buf``; ValueError when there is none."""
    if buf.nbytes < ZFP_HEADER_MIN_BYTES:
        raise ValueError(f"{buf.nbytes} bytes cannot hold a zfp header "
                         f"({ZFP_HEADER_MIN_BYTES} bytes at least)")
    if bytes(buf[:3]) != b"zfp":
        raise ValueError("no zfp header (the stream does not start with the magic 'zfp'; "
                         "zfpy writes one unless write_header=False)")
    bits = int.from_bytes(buf[:19], "little")  # the longest header is 148 bits
    version = (bits >> 24) & 0xFF
    meta = (bits >> 32) & ((1 << 52) - 1)
    dtype = ZFP_TYPES[meta & 3]
    dims = ((meta >> 2) & 3) + 1
    width = _SIZE_BITS[dims]
    rest = meta >> 4
    sizes = []
    for _ in range(dims):
        sizes.append((rest & ((1 << width) - 1)) + 1)
        rest >>= width
    if dims == 1 and sizes[0] > 1 << 32:
        raise ValueError(f"zfp header declares {sizes[0]} values in 1D (zfp reads at most 2**32)")
    mode = (bits >> 84) & 0xFFF
    nbits = 96
    if mode > _MODE_SHORT_MAX:
        if buf.nbytes < 19:
            raise ValueError("truncated zfp header (64-bit mode word)")
        mode = (bits >> 84) & ((1 << 64) - 1)
        nbits = 148
        minbits = ((mode >> 12) & 0x7FFF) + 1
        maxbits = ((mode >> 27) & 0x7FFF) + 1
        maxprec = ((mode >> 42) & 0x7F) + 1
        if minbits > maxbits or maxprec > 64:
            raise ValueError(f"zfp header has an invalid compression mode (minbits {minbits}, "
                             f"maxbits {maxbits}, maxprec {maxprec})")
    return ZfpHeader(version, dtype, tuple(reversed(sizes)), mode, nbits)


def check_zfp(buf: memoryview, ctx: DecodeContext, dtype: np.dtype | None = None,
              shape: tuple[int, ...] | None = None) -> ZfpHeader:
    """Refuse a zfpy chunk whose header does not describe the chunk.

    With ``dtype``/``shape`` (the chunk's) the header must declare that scalar type and
    that many elements (in that shape when the dimensionality is the same); otherwise the
    declared size must fit ``ctx.max_output()``.  Raises
    :class:`~exzarr.errors.DecompressionError` naming the chunk."""
    try:
        head = zfp_header(buf)
    except ValueError as e:
        raise ctx.fail(f"zfpy: {e}") from None
    nbytes = head.size * head.dtype.itemsize
    if dtype is not None:
        want = np.dtype(dtype)
        if (want.kind, want.itemsize) != (head.dtype.kind, head.dtype.itemsize):
            raise ctx.fail(f"zfpy stream holds {head.dtype} values, but the chunk's data type "
                           f"is {want}")
    if shape is not None:
        count = int(np.prod(shape, dtype=object))
        if head.size > count:
            raise ctx.too_large(f"its zfp header declares shape {head.shape}", nbytes)
        if head.size != count or (len(head.shape) == len(shape) and head.shape != tuple(shape)):
            raise ctx.fail(f"zfpy stream declares shape {head.shape}, the chunk has shape "
                           f"{tuple(shape)}")
    if ctx.expected is not None and nbytes != ctx.expected:
        if nbytes > ctx.expected:
            raise ctx.too_large(f"its zfp header declares shape {head.shape}", nbytes)
        raise ctx.fail(f"zfpy stream declares {nbytes} bytes, expected {ctx.expected}")
    if nbytes > ctx.max_output():
        raise ctx.too_large(f"its zfp header declares shape {head.shape}", nbytes)
    return head


def zfpy_decode(codec: Any, buf: memoryview, ctx: DecodeContext, out: memoryview | None,
                dtype: np.dtype | None = None, shape: tuple[int, ...] | None = None) -> Any:
    """``codec.decode`` (numcodecs ``ZFPY``) after :func:`check_zfp` accepted the header, so
    zfpy allocates at most the chunk (its result is size-checked by the caller)."""
    check_zfp(buf, ctx, dtype, shape)
    return codec.decode(bytes(buf))
