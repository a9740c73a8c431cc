"""``vlen-utf8``: the array -> bytes codec of variable-length UTF-8 strings.

The format is numcodecs' VLenUTF8 (a little-endian item count, then for each item a
4-byte length and the UTF-8 bytes), which is what zarr-python 3 writes for its
``string`` data type.  In memory the chunk is an object array of ``str``.
"""

from __future__ import annotations

import numpy as np

from typing import TYPE_CHECKING

from ._base import NO_CONTEXT, ArrayBytesCodec, ChunkSpec, DecodeContext, as_byte_view
from .numcodecs_adapter import import_numcodecs

if TYPE_CHECKING:
    from ._base import BufferLike

__all__ = ["VLenUTF8Codec", "check_vlen_header", "VLEN_IDS"]

#: numcodecs ids of the vlen formats (item count, then length-prefixed items)
VLEN_IDS = frozenset({"vlen-utf8", "vlen-bytes", "vlen-array"})


def check_vlen_header(data: BufferLike, n_items: int, ctx: DecodeContext, name: str = "vlen-utf8") -> None:
    """Refuse a vlen chunk whose declared item count is not the chunk's, or cannot fit in
    its bytes (each item takes at least a 4-byte length), before anything is allocated."""
    mv = as_byte_view(data)
    if mv.nbytes < 4:
        raise ctx.fail(f"{name} chunk of {mv.nbytes} bytes cannot hold its 4-byte item count")
    declared = int.from_bytes(mv[:4], "little")
    if declared != n_items:
        raise ctx.fail(f"{name} chunk declares {declared} items, but a chunk of this array holds "
                       f"{n_items}")
    if 4 + 4 * declared > mv.nbytes:
        raise ctx.fail(f"{name} chunk declares {declared} items, which need at least "
                       f"{4 + 4 * declared} bytes, but it has {mv.nbytes}")


class VLenUTF8Codec(ArrayBytesCodec):
    name = "vlen-utf8"
    requires = (("numcodecs", "numcodecs"),)

    def configuration(self):
        return {}  # zarr-python writes an empty configuration object

    def _nc(self):
        return import_numcodecs().VLenUTF8()  # a typed error when numcodecs cannot import

    def encode(self, arr: np.ndarray, spec: ChunkSpec):
        arr = np.asarray(arr, dtype=object)
        if any(not isinstance(v, str) for v in arr.flat):
            bad = next(v for v in arr.flat if not isinstance(v, str))
            raise TypeError(f"vlen-utf8 stores str values only, got {type(bad).__name__} {bad!r}")
        return self._nc().encode(np.ascontiguousarray(arr).reshape(-1))

    def decode(self, data, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT,
               out: np.ndarray | None = None) -> np.ndarray:
        check_vlen_header(data, spec.size, ctx)
        try:
            flat = self._nc().decode(bytes(as_byte_view(data)))
        except Exception as e:
            raise ctx.fail("vlen-utf8 data could not be decoded", e) from e
        if flat.size != int(np.prod(spec.shape, dtype=np.int64)):
            raise ctx.fail(f"vlen-utf8 chunk holds {flat.size} strings, expected "
                           f"{int(np.prod(spec.shape, dtype=np.int64))} for shape {spec.shape}")
        arr = flat.reshape(spec.shape)
        if out is not None:
            out[...] = arr
            return out
        return arr
