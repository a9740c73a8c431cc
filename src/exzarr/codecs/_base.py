"""Codec base classes, the chunk spec and the decode context.

A v3 codec chain is ``array -> array`` codecs, then exactly one ``array -> bytes``
codec, then ``bytes -> bytes`` codecs.  Every codec is synchronous; the heavy work
happens in C libraries that release the GIL (numcodecs, crc32c).

Each codec class declares:

* ``name``: the v3 ``name`` in ``zarr.json``;
* ``kind``: ``"array_array"``, ``"array_bytes"`` or ``"bytes_bytes"``;
* ``requires``: ``(importable module, pip requirement)`` pairs the codec needs, checked
  by :meth:`Codec.check_available` before use so a missing library gives a
  :class:`~exzarr.errors.CodecNotAvailableError` naming what to install;
* ``numcodecs_id`` (optional): the numcodecs codec this one is the v3 form of, so v2
  compressors convert to it (:meth:`Codec.configuration_from_numcodecs`).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass, replace
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..config import get as _config
from ..errors import CodecNotAvailableError, DecompressionError, InvalidMetadataError, where

if TYPE_CHECKING:
    from typing_extensions import Buffer, TypeAlias

    #: Anything exposing the buffer protocol (PEP 688).  ndarray is listed as well because
    #: numpy's stubs declare ``ndarray.__buffer__`` only for Python >= 3.12.
    BufferLike: TypeAlias = Buffer | np.ndarray

__all__ = [
    "ChunkSpec",
    "DecodeContext",
    "Codec",
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BytesBytesCodec",
    "as_byte_view",
]


@dataclass(frozen=True)
class ChunkSpec:
    """Shape, dtype, fill value and memory order of one (decoded) chunk."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any = None
    order: str = "C"

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        if self.order not in ("C", "F"):
            raise InvalidMetadataError(f"chunk order must be 'C' or 'F', got {self.order!r}")

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # a Python int: never wraps; 1 for shape ()

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def evolve(self, **changes: Any) -> "ChunkSpec":
        return replace(self, **changes)

    def takes(self, out: np.ndarray) -> bool:
        """Whether ``out`` can take a decoded chunk of this spec in place: writable,
        C-contiguous, this shape and dtype."""
        return (out.shape == self.shape and out.dtype == self.dtype
                and out.flags.c_contiguous and out.flags.writeable)

    def fill_array(self) -> np.ndarray:
        """A new array of this spec filled with the fill value (zeros when None)."""
        arr = np.empty(self.shape, dtype=self.dtype)
        fill_into(arr, self.fill_value)
        return arr


def fill_into(arr: np.ndarray, fill_value: Any) -> None:
    if fill_value is None:
        arr[...] = np.zeros((), dtype=arr.dtype)
    else:
        arr[...] = fill_value


@dataclass(frozen=True)
class DecodeContext:
    """Where a chunk came from (for error messages) and reading options."""

    store: Any = None
    key: str | None = None
    skip_checksum: bool = False
    #: the exact size in bytes the next decode must produce, when the metadata fixes it
    expected: int | None = None
    #: the most bytes the next decode may produce when its size is not fixed (None:
    #: ``exzarr.config`` ``max_chunk_bytes``)
    limit: int | None = None

    @property
    def where(self) -> str:
        return where(self.store, self.key)

    def bounded(self, expected: int | None = None, limit: int | None = None) -> "DecodeContext":
        """This context with the size bound of the next decode replaced."""
        if expected == self.expected and limit == self.limit:
            return self
        return replace(self, expected=expected, limit=limit)

    def max_output(self) -> int:
        """The most bytes the next decode may produce (exact size, limit or config)."""
        if self.expected is not None:
            return self.expected
        return self.limit if self.limit is not None else max_chunk_bytes()

    def too_large(self, what: str, size: int | str) -> DecompressionError:
        """A DecompressionError for a chunk that would decode larger than it can be."""
        if self.expected is not None:
            bound = f"a chunk of this array holds exactly {self.expected} bytes there"
        else:
            bound = (f"the limit for chunks whose size the metadata does not fix is "
                     f"{self.max_output()} bytes (exzarr.config max_chunk_bytes; raise it with "
                     "exzarr.config.set(max_chunk_bytes=...) if the chunk is genuine)")
        return DecompressionError(
            f"chunk at {self.where} would decode to {size} bytes ({what}), but {bound}. The "
            "stored chunk is corrupt or hostile (a decompression bomb), so it was refused before "
            "its output was allocated; rewrite the chunk or delete it (it then reads as "
            "fill_value).",
            store=self.store, key=self.key,
        )

    def fail(self, what: str, cause: BaseException | None = None) -> DecompressionError:
        """A DecompressionError for this chunk, saying what went wrong and what to do."""
        detail = f": {type(cause).__name__}: {cause}" if cause is not None else ""
        return DecompressionError(
            f"could not decode chunk at {self.where}: {what}{detail}. The stored chunk is "
            "corrupt, truncated or was written with different codecs than the metadata "
            "declares; rewrite the chunk or delete it (it then reads as fill_value).",
            store=self.store,
            key=self.key,
        )


NO_CONTEXT = DecodeContext()


def max_chunk_bytes() -> int:
    """``exzarr.config`` ``max_chunk_bytes``: the largest decoded chunk of a size the
    metadata does not fix."""
    return _config().max_chunk_bytes


def as_byte_view(data: BufferLike) -> memoryview:
    """A flat, read-only-or-writable uint8 memoryview of any contiguous buffer."""
    if isinstance(data, np.ndarray):
        arr = data if data.flags.c_contiguous or data.flags.f_contiguous \
            else np.ascontiguousarray(data)
        data = arr.reshape(-1, order="A").view(np.uint8).data
    mv = memoryview(data)
    if mv.ndim != 1 or mv.format not in ("B", "b", "c"):
        mv = mv.cast("B")
    return mv


#: modules :meth:`Codec.check_available` has found (without importing them)
_FOUND: set[str] = set()


class Codec:
    """Base of all v3 codecs."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    numcodecs_id: ClassVar[str | None] = None

    # -- construction / JSON ---------------------------------------------------
    @classmethod
    def from_config(cls, configuration: Mapping[str, Any] | None) -> "Codec":
        try:
            return cls(**(configuration or {}))
        except TypeError as e:
            raise InvalidMetadataError(
                f"invalid configuration {configuration!r} for codec {cls.name!r}: {e}"
            ) from None

    @classmethod
    def configuration_from_numcodecs(cls, config: dict[str, Any]) -> dict[str, Any]:
        """This codec's v3 ``configuration`` for a numcodecs config (without ``id``) of the
        codec ``numcodecs_id``."""
        return dict(config)

    def configuration(self) -> dict[str, Any] | None:
        """The ``configuration`` member of the JSON form (None to omit it)."""
        return None

    def to_json(self) -> dict[str, Any]:
        cfg = self.configuration()
        return {"name": self.name} if cfg is None else {"name": self.name, "configuration": cfg}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.configuration()!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and isinstance(other, Codec) \
            and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((type(self), repr(self.to_json())))

    # -- availability ------------------------------------------------------------
    @classmethod
    def is_available(cls) -> bool:
        return all(importlib.util.find_spec(mod.split(".")[0]) is not None for mod, _ in cls.requires)

    @classmethod
    def check_available(cls, *, load: bool = True) -> None:
        """Raise CodecNotAvailableError when a module the codec needs is missing.  With
        ``load=False`` the module is only looked up, not imported (opening an array then
        does not pay for importing a codec library before its first chunk)."""
        for mod, pip in cls.requires:
            if not load and (sys.modules.get(mod) is not None
                             or (mod in _FOUND and mod not in sys.modules)):
                continue
            try:
                if load:
                    importlib.import_module(mod)
                elif importlib.util.find_spec(mod) is None:
                    raise ImportError(f"No module named {mod!r}")
                else:
                    _FOUND.add(mod)  # found once, not looked up again at every open
            except (ImportError, ValueError) as e:
                raise CodecNotAvailableError(
                    f"codec {cls.name!r} needs the Python module {mod!r}, which cannot be "
                    f"imported ({e}). Install it: pip install {pip}"
                ) from None

    # -- spec plumbing -----------------------------------------------------------
    def evolve(self, spec: ChunkSpec) -> "Codec":
        """This codec with defaults that depend on the chunk dtype filled in."""
        return self

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of the encoded representation given the decoded one."""
        return spec

    def encoded_size(self, nbytes: int) -> int | None:
        """Encoded size for ``nbytes`` of input, or None when it varies (compressors)."""
        return None


class ArrayArrayCodec(Codec):
    kind = "array_array"

    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        raise NotImplementedError

    def decode(self, arr: np.ndarray, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> np.ndarray:
        """Decode ``arr`` (the encoded form) into an array of ``spec`` (the decoded spec)."""
        raise NotImplementedError


class ArrayBytesCodec(Codec):
    kind = "array_bytes"

    def encode(self, arr: np.ndarray, spec: ChunkSpec) -> BufferLike:
        raise NotImplementedError

    def decode(self, data: BufferLike, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT,
               out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def can_decode_into(self, spec: ChunkSpec) -> bool:
        """True when decoding writes the bytes of ``out`` verbatim (no byte swap)."""
        return False


class BytesBytesCodec(Codec):
    kind = "bytes_bytes"

    def encode(self, data: BufferLike, spec: ChunkSpec) -> BufferLike:
        raise NotImplementedError

    def decode(self, data: BufferLike, spec: ChunkSpec, ctx: DecodeContext = NO_CONTEXT) -> BufferLike:
        raise NotImplementedError

    def decode_into(self, data: BufferLike, out: memoryview, spec: ChunkSpec,
                    ctx: DecodeContext = NO_CONTEXT) -> None:
        """Decode into ``out`` (a writable uint8 view of exactly the expected size)."""
        res = as_byte_view(self.decode(data, spec, ctx))
        if res.nbytes != out.nbytes:
            raise ctx.fail(f"{self.name} produced {res.nbytes} bytes, expected {out.nbytes}")
        out[:] = res

